/// One ng protocol datagram: `<cookie> <bencoded dictionary>` (rtpengine ng control protocol).
///
/// The cookie matches replies to requests and detects retransmissions, so a reply must
/// carry the request's cookie unchanged.
public struct NGDatagram: Hashable, Sendable {
    /// Longest cookie accepted; Kamailio and OpenSIPS send `<pid>_<counter>`-style tokens.
    public static let maxCookieLength = 256

    /// The cookie bytes (any non-space token).
    public var cookie: [UInt8]
    /// The decoded body.
    public var body: BencodeValue

    /// Creates a datagram from its parts.
    public init(cookie: [UInt8], body: BencodeValue) {
        self.cookie = cookie
        self.body = body
    }

    /// Splits `bytes` into the cookie and the offset of the body; the first error means no reply is possible.
    public static func splitCookie(_ bytes: UnsafeRawBufferPointer) throws(NGFramingError) -> (cookie: [UInt8], bodyOffset: Int) {
        var i = 0
        while i < bytes.count, bytes[i] != UInt8(ascii: " ") {
            i += 1
            guard i <= maxCookieLength else { throw .cookieTooLong }
        }
        guard i > 0 else { throw .missingCookie }
        guard i < bytes.count else { throw .missingSeparator }
        return (Array(bytes[0..<i]), i + 1)
    }

    /// Parses a whole datagram; a cookie that reads but a bad body is reported as `.body`.
    public init(parsing bytes: UnsafeRawBufferPointer, limits: BencodeLimits = .default) throws(NGDatagramError) {
        let split: (cookie: [UInt8], bodyOffset: Int)
        do { split = try Self.splitCookie(bytes) } catch { throw .framing(error) }
        let body = UnsafeRawBufferPointer(rebasing: bytes[split.bodyOffset...])
        do {
            self.body = try BencodeValue(parsing: body, limits: limits)
        } catch {
            throw .body(cookie: split.cookie, error)
        }
        self.cookie = split.cookie
    }

    /// Bytes `write(to:)` appends.
    public var serializedSize: Int { cookie.count + 1 + body.serializedSize }

    /// Appends `<cookie> <body>` to `out`.
    public func write(to out: inout [UInt8]) {
        out.append(contentsOf: cookie)
        out.append(UInt8(ascii: " "))
        body.write(to: &out)
    }

    /// The encoding as a new array.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(serializedSize)
        write(to: &out)
        return out
    }
}

/// Why a datagram did not parse: either no cookie (drop) or a cookie with a bad body (answer with an error).
public enum NGDatagramError: Error, Hashable, Sendable {
    /// No cookie could be read; nothing can be answered.
    case framing(NGFramingError)
    /// The cookie was read but the body is not bencode.
    case body(cookie: [UInt8], BencodeError)
}
