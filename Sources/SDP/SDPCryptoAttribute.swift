/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568 §9.1).
public struct SDPCryptoAttribute: Sendable, Hashable {
    /// The tag that the answer echoes to say which offered line it chose (RFC 4568 §5.1), 1...999999999.
    public var tag: UInt32
    /// The crypto suite, such as `AES_CM_128_HMAC_SHA1_80`.
    public var suite: String
    /// One or more key parameters (RFC 4568 §6.1; several only with MKIs).
    public var keys: [SDPCryptoKey]
    /// Session parameters such as `UNENCRYPTED_SRTCP` or `KDR=...`, verbatim.
    public var sessionParameters: [String]

    /// Creates a crypto attribute.
    public init(tag: UInt32, suite: String, keys: [SDPCryptoKey], sessionParameters: [String] = []) {
        self.tag = tag
        self.suite = suite
        self.keys = keys
        self.sessionParameters = sessionParameters
    }

    init?(value: Substring) {
        let f = sdpFields(value)
        // RFC 4568 §9.1: tag is 1*9DIGIT.
        guard f.count >= 3, f[0].count <= 9, f[0].allSatisfy({ $0.isASCII && $0.isNumber }), let tag = UInt32(f[0]),
              sdpIsToken(f[1]) else { return nil }
        var keys: [SDPCryptoKey] = []
        for item in f[2].split(separator: ";", omittingEmptySubsequences: false) {
            guard let key = SDPCryptoKey(parsing: item) else { return nil }
            keys.append(key)
        }
        self.init(tag: tag, suite: String(f[1]), keys: keys, sessionParameters: f[3...].map(String.init))
    }

    /// The value after `a=crypto:`.
    public var value: String {
        var s = "\(tag) \(suite) " + keys.map(\.value).joined(separator: ";")
        for p in sessionParameters { s += " \(p)" }
        return s
    }
}

/// One key parameter of a crypto attribute: `inline:<key||salt base64>[|<lifetime>][|<MKI>:<length>]` (RFC 4568 §6.1).
public struct SDPCryptoKey: Sendable, Hashable {
    /// The key method; only `inline` is defined.
    public var method: String
    /// The concatenated master key and salt, base64 as written.
    public var keySalt: String
    /// The master key lifetime as written (`2^31` or a decimal number), when given.
    public var lifetime: String?
    /// The MKI value and its length in bytes, when given.
    public var mki: (value: UInt64, length: Int)? {
        get { mkiValue.map { ($0, mkiLength) } }
        set {
            mkiValue = newValue?.value
            mkiLength = newValue?.length ?? 0
        }
    }

    private var mkiValue: UInt64?
    private var mkiLength: Int = 0

    /// Creates an inline key from raw key-and-salt bytes; allocates the base64 text.
    public init(keySaltBytes: [UInt8], lifetime: String? = nil, mki: (value: UInt64, length: Int)? = nil) {
        self.init(method: "inline", keySalt: SDPBase64.encode(keySaltBytes), lifetime: lifetime, mki: mki)
    }

    /// Creates a key parameter from its parts.
    public init(method: String = "inline", keySalt: String, lifetime: String? = nil, mki: (value: UInt64, length: Int)? = nil) {
        self.method = method
        self.keySalt = keySalt
        self.lifetime = lifetime
        self.mkiValue = mki?.value
        self.mkiLength = mki?.length ?? 0
    }

    init?(parsing text: Substring) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let method = text[..<colon]
        let info = text[text.index(after: colon)...]
        guard sdpIsToken(method) else { return nil }
        let parts = info.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count <= 3, !parts[0].isEmpty, !parts[0].contains(" ") else { return nil }
        var lifetime: String?
        var mki: (UInt64, Int)?
        for part in parts.dropFirst() {
            if let c = part.firstIndex(of: ":") {
                // MKI:length, RFC 4568 §6.1: MKI 1*DIGIT, length 1*3DIGIT (1...128).
                guard mki == nil, let v = UInt64(part[..<c]), let l = Int(part[part.index(after: c)...]), (1...128).contains(l) else {
                    return nil
                }
                mki = (v, l)
            } else {
                guard lifetime == nil, mki == nil, sdpIsLifetime(part) else { return nil }
                lifetime = String(part)
            }
        }
        self.init(method: String(method), keySalt: String(parts[0]), lifetime: lifetime, mki: mki)
    }

    /// The key parameter as written.
    public var value: String {
        var s = "\(method):\(keySalt)"
        if let lifetime { s += "|\(lifetime)" }
        if let mkiValue { s += "|\(mkiValue):\(mkiLength)" }
        return s
    }

    /// The decoded key-and-salt bytes; nil when the base64 is invalid.
    public var keySaltBytes: [UInt8]? { SDPBase64.decode(keySalt) }

    /// Equality by written value (the MKI tuple is stored as two fields).
    public static func == (a: SDPCryptoKey, b: SDPCryptoKey) -> Bool {
        a.method == b.method && a.keySalt == b.keySalt && a.lifetime == b.lifetime && a.mkiValue == b.mkiValue
            && a.mkiLength == b.mkiLength
    }

    /// Hashes the written value.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(keySalt)
        hasher.combine(lifetime)
        hasher.combine(mkiValue)
        hasher.combine(mkiLength)
    }
}

/// A lifetime is decimal digits or `2^` followed by digits (RFC 4568 §9.2).
private func sdpIsLifetime(_ s: Substring) -> Bool {
    var digits = s
    if s.hasPrefix("2^") { digits = s.dropFirst(2) }
    return !digits.isEmpty && digits.count <= 20 && digits.allSatisfy { $0.isASCII && $0.isNumber }
}

/// The SRTP crypto suites of RFC 4568 §6.2, RFC 6188 and RFC 7714 with their key-and-salt lengths.
public enum SDPCryptoSuite {
    /// The master key plus master salt length in bytes for a suite; nil for a suite Tandem does not know.
    public static func keySaltLength(of suite: String) -> Int? {
        switch suite {
        case "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "F8_128_HMAC_SHA1_80": 30
        case "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32": 38
        case "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32": 46
        case "AEAD_AES_128_GCM": 28
        case "AEAD_AES_256_GCM": 44
        default: nil
        }
    }
}

/// Standard base64 (RFC 4648 §4) with padding, for SDES keys; control plane only, allocates.
public enum SDPBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes as padded base64.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded base64; nil on any character outside the alphabet or a bad length.
    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            values.append(v)
        }
        guard padding <= 2, values.count % 4 != 1 else { return nil }
        if padding > 0, (values.count + padding) % 4 != 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for v in values {
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
