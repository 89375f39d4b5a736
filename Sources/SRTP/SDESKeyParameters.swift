import TandemBase

/// The key-params of an SDP `a=crypto` line (RFC 4568 §6.1): `inline:<base64 key||salt>[|lifetime][|MKI:length]`.
///
/// Control plane: parsing and serialising allocate.
public struct SDESKeyParameters: Equatable, Hashable, Sendable {
    /// The master key.
    public var masterKey: [UInt8]
    /// The master salt.
    public var masterSalt: [UInt8]
    /// The master key lifetime in packets, when given (`2^31` or decimal).
    public var lifetime: UInt64?
    /// The MKI value and its length in bytes, when given. Tandem's contexts do not use MKIs.
    public var mki: (value: UInt64, length: Int)? {
        get { mkiValue.map { ($0, mkiLength) } }
        set {
            mkiValue = newValue?.value
            mkiLength = newValue?.length ?? 0
        }
    }
    private var mkiValue: UInt64?
    private var mkiLength = 0

    /// Creates parameters from a key and salt.
    public init(masterKey: [UInt8], masterSalt: [UInt8], lifetime: UInt64? = nil) {
        self.masterKey = masterKey
        self.masterSalt = masterSalt
        self.lifetime = lifetime
    }

    /// Fresh random key and salt of the lengths `suite` needs (OpenSSL's DRBG).
    public static func random(for suite: SRTPSuite) -> SDESKeyParameters {
        let bytes = SecureRandom.bytes(suite.keyLength + suite.saltLength)
        return SDESKeyParameters(
            masterKey: Array(bytes[0..<suite.keyLength]), masterSalt: Array(bytes[suite.keyLength...]))
    }

    /// Parses one key-params field; the key-salt length must match `suite`.
    public init(parsing text: Substring, suite: SRTPSuite) throws(SDESParseError) {
        let prefix = "inline:"
        guard text.count > prefix.count, text.hasPrefix(prefix) else { throw .unsupportedKeyMethod }
        let parts = text.dropFirst(prefix.count).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count <= 3, let encoded = parts.first else { throw .badParameter }
        guard let keySalt = Base64.decode(encoded) else { throw .badBase64 }
        guard keySalt.count == suite.keyLength + suite.saltLength else { throw .wrongKeyLength }
        masterKey = Array(keySalt[0..<suite.keyLength])
        masterSalt = Array(keySalt[suite.keyLength...])
        for part in parts.dropFirst() {
            if let colon = part.firstIndex(of: ":") {
                guard mkiValue == nil, let value = UInt64(part[..<colon]),
                    let length = Int(part[part.index(after: colon)...]), (1...128).contains(length)
                else { throw .badParameter }
                mkiValue = value
                mkiLength = length
            } else {
                guard lifetime == nil, mkiValue == nil else { throw .badParameter }
                if part.hasPrefix("2^") {
                    guard let exponent = Int(part.dropFirst(2)), (0...63).contains(exponent) else {
                        throw .badParameter
                    }
                    lifetime = 1 << UInt64(exponent)
                } else {
                    guard let value = UInt64(part) else { throw .badParameter }
                    lifetime = value
                }
            }
        }
    }

    /// Parses one key-params field; the key-salt length must match `suite`.
    public init(parsing text: String, suite: SRTPSuite) throws(SDESParseError) {
        try self.init(parsing: text[...], suite: suite)
    }

    /// The key-params text, e.g. `inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4`.
    public var serialized: String {
        var text = "inline:" + Base64.encode(masterKey + masterSalt)
        if let lifetime {
            if lifetime != 0 && lifetime & (lifetime - 1) == 0 {
                text += "|2^\(lifetime.trailingZeroBitCount)"
            } else {
                text += "|\(lifetime)"
            }
        }
        if let mkiValue { text += "|\(mkiValue):\(mkiLength)" }
        return text
    }

    public static func == (lhs: SDESKeyParameters, rhs: SDESKeyParameters) -> Bool {
        lhs.masterKey == rhs.masterKey && lhs.masterSalt == rhs.masterSalt && lhs.lifetime == rhs.lifetime
            && lhs.mkiValue == rhs.mkiValue && lhs.mkiLength == rhs.mkiLength
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(masterKey)
        hasher.combine(masterSalt)
        hasher.combine(lifetime)
        hasher.combine(mkiValue)
        hasher.combine(mkiLength)
    }
}

/// Standard base64 (RFC 4648 §4) with padding, as RFC 4568 key-salt uses.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes with `=` padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(triple >> 18 & 63)])
            out.append(alphabet[Int(triple >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded base64; nil on any invalid character or length.
    static func decode(_ text: Substring) -> [UInt8]? {
        var values = [UInt8]()
        values.reserveCapacity(text.utf8.count)
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = value(of: c) else { return nil }
            values.append(v)
        }
        guard padding <= 2, values.count % 4 != 1 else { return nil }
        if padding > 0 && (values.count + padding) % 4 != 0 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i < values.count {
            let remaining = min(4, values.count - i)
            var group: UInt32 = 0
            for j in 0..<4 { group = group << 6 | UInt32(j < remaining ? values[i + j] : 0) }
            out.append(UInt8(truncatingIfNeeded: group >> 16))
            if remaining > 2 { out.append(UInt8(truncatingIfNeeded: group >> 8)) }
            if remaining > 3 { out.append(UInt8(truncatingIfNeeded: group)) }
            i += 4
        }
        return out
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
