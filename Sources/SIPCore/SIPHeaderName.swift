/// A header field name, compared case-insensitively with compact forms expanded (RFC 3261 §7.3.1, §7.3.3).
public struct SIPHeaderName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// A header name from a literal, e.g. `"X-Custom"`.
    public init(stringLiteral value: String) { self.init(value) }

    /// The lower-case long form, e.g. "call-id" for "i" or "Call-ID".
    public let canonical: String

    /// Canonicalises `name`: lower-cases it and expands a one-letter compact form.
    public init<S: StringProtocol>(_ name: S) {
        let lower = name.lowercased()
        if lower.utf8.count == 1, let long = Self.compactForms[lower] {
            canonical = long
        } else {
            canonical = lower
        }
    }

    /// The conventional spelling of the long form, e.g. "Call-ID".
    public var description: String { Self.spellings[canonical] ?? canonical }

    /// Compact forms from RFC 3261 §7.3.3 and the extensions that define them.
    static let compactForms: [String: String] = [
        "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
        "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via",
        "o": "event", "u": "allow-events", "r": "refer-to", "b": "referred-by", "x": "session-expires",
        "y": "identity", "a": "accept-contact", "j": "reject-contact", "d": "request-disposition",
    ]

    static let spellings: [String: String] = [
        "call-id": "Call-ID", "contact": "Contact", "content-encoding": "Content-Encoding",
        "content-length": "Content-Length", "content-type": "Content-Type", "from": "From", "subject": "Subject",
        "supported": "Supported", "to": "To", "via": "Via", "event": "Event", "allow-events": "Allow-Events",
        "refer-to": "Refer-To", "referred-by": "Referred-By", "session-expires": "Session-Expires",
        "cseq": "CSeq", "max-forwards": "Max-Forwards", "www-authenticate": "WWW-Authenticate",
        "proxy-authenticate": "Proxy-Authenticate", "authorization": "Authorization",
        "proxy-authorization": "Proxy-Authorization", "record-route": "Record-Route", "route": "Route",
        "require": "Require", "allow": "Allow", "expires": "Expires", "min-expires": "Min-Expires",
        "min-se": "Min-SE", "p-asserted-identity": "P-Asserted-Identity", "privacy": "Privacy",
        "remote-party-id": "Remote-Party-ID", "diversion": "Diversion", "history-info": "History-Info",
        "replaces": "Replaces", "user-agent": "User-Agent", "server": "Server", "rseq": "RSeq", "rack": "RAck",
        "identity": "Identity", "accept-contact": "Accept-Contact", "reject-contact": "Reject-Contact",
        "request-disposition": "Request-Disposition",
    ]

    /// Well-known names.
    public static let via = SIPHeaderName("via")
    public static let from = SIPHeaderName("from")
    public static let to = SIPHeaderName("to")
    public static let callID = SIPHeaderName("call-id")
    public static let cseq = SIPHeaderName("cseq")
    public static let maxForwards = SIPHeaderName("max-forwards")
    public static let contact = SIPHeaderName("contact")
    public static let contentLength = SIPHeaderName("content-length")
    public static let contentType = SIPHeaderName("content-type")
    public static let route = SIPHeaderName("route")
    public static let recordRoute = SIPHeaderName("record-route")
}

/// Splits header values at top-level commas, ignoring commas inside quotes or <> (RFC 3261 §7.3.1).
/// Empty elements are kept so strict callers can reject them.
func splitHeaderList(_ value: Substring) -> [Substring] {
    var parts: [Substring] = []
    var inQuotes = false
    var inAngle = false
    var escaped = false
    let u = value.utf8
    var start = u.startIndex
    var i = u.startIndex
    while i < u.endIndex {
        let c = u[i]
        if inQuotes {
            if escaped { escaped = false } else if c == Byte.backslash { escaped = true } else if c == Byte.quote { inQuotes = false }
        } else if c == Byte.quote {
            inQuotes = true
        } else if c == Byte.lt {
            inAngle = true
        } else if c == Byte.gt {
            inAngle = false
        } else if c == Byte.comma, !inAngle {
            parts.append(value[start..<i].trimmingLWS)
            start = u.index(after: i)
        }
        i = u.index(after: i)
    }
    parts.append(value[start..<value.endIndex].trimmingLWS)
    return parts
}

/// A `;name=value` parameter as written (value without surrounding quotes kept quoted if it was).
public struct SIPParameter: Hashable, Sendable {
    /// Parameter name as written; compare with `lowercased()` (names are case-insensitive).
    public var name: String
    /// The value, or nil for a flag parameter like `lr`; quoted strings keep their quotes.
    public var value: String?

    /// A parameter with an optional value.
    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// An ordered list of generic parameters with case-insensitive lookup.
public struct SIPParameters: Hashable, Sendable {
    /// The parameters in order.
    public var items: [SIPParameter]

    /// An empty list.
    public init(_ items: [SIPParameter] = []) { self.items = items }

    /// True when a parameter named `name` exists (with or without a value).
    public func contains(_ name: String) -> Bool { index(of: name) != nil }

    /// The value of `name` with quotes removed; nil when absent or a flag. Use `contains` for flags.
    public subscript(_ name: String) -> String? {
        get {
            guard let i = index(of: name), let v = items[i].value else { return nil }
            return unquoted(v)
        }
        set {
            if let i = index(of: name) {
                if let newValue { items[i].value = newValue } else { items.remove(at: i) }
            } else if let newValue {
                items.append(SIPParameter(name, newValue))
            }
        }
    }

    /// Sets a flag parameter (no value), replacing any existing value.
    public mutating func setFlag(_ name: String) {
        if let i = index(of: name) { items[i].value = nil } else { items.append(SIPParameter(name)) }
    }

    /// Removes `name` if present.
    public mutating func remove(_ name: String) {
        if let i = index(of: name) { items.remove(at: i) }
    }

    func index(of name: String) -> Int? {
        let lower = name.lowercased()
        return items.firstIndex { $0.name.lowercased() == lower }
    }

    /// `;a=b;c` as written on the wire.
    public var description: String {
        var s = ""
        for p in items {
            s += ";" + p.name
            if let v = p.value { s += "=" + v }
        }
        return s
    }

    /// Parses `;a=b;c...` (text starting at the first `;`, or empty). Tolerates LWS around `;` and `=`
    /// (SEMI and EQUAL allow SWS, RFC 3261 §25.1); rejects empty names and unbalanced quotes.
    static func parse(_ text: Substring, headerName: String) throws(SIPParseError) -> SIPParameters {
        var result = SIPParameters()
        var rest = text.trimmingLWS
        while !rest.isEmpty {
            guard rest.utf8.first == UInt8(ascii: ";") else { throw .invalidHeaderValue(headerName) }
            rest = rest.dropFirst().trimmingLWS
            // Name: token characters.
            let nameEnd = rest.utf8.firstIndex { !Byte.isToken($0) } ?? rest.endIndex
            let name = rest[rest.startIndex..<nameEnd]
            guard !name.isEmpty else { throw .invalidHeaderValue(headerName) }
            rest = rest[nameEnd...].trimmingLWS
            var value: String?
            if rest.utf8.first == UInt8(ascii: "=") {
                rest = rest.dropFirst().trimmingLWS
                if rest.utf8.first == Byte.quote {
                    guard let end = quotedStringEnd(rest) else { throw .invalidHeaderValue(headerName) }
                    value = String(rest[rest.startIndex..<end])
                    rest = rest[end...].trimmingLWS
                } else {
                    // token / host (IPv6 reference in brackets is allowed, e.g. received=[::1]).
                    let valueEnd = rest.utf8.firstIndex { b in
                        !(Byte.isToken(b) || b == Byte.colon || b == Byte.lbracket || b == Byte.rbracket)
                    } ?? rest.endIndex
                    let v = rest[rest.startIndex..<valueEnd]
                    guard !v.isEmpty else { throw .invalidHeaderValue(headerName) }
                    value = String(v)
                    rest = rest[valueEnd...].trimmingLWS
                }
            }
            result.items.append(SIPParameter(String(name), value))
        }
        return result
    }
}

/// The index just past the closing quote of the quoted string starting at `text.startIndex`; nil if unterminated.
/// Scans UTF-8 so a quote followed by a combining mark is still seen as a quote.
func quotedStringEnd(_ text: Substring) -> Substring.Index? {
    let u = text.utf8
    guard u.first == Byte.quote else { return nil }
    var i = u.index(after: u.startIndex)
    var escaped = false
    while i < u.endIndex {
        let b = u[i]
        // CR and LF never appear in a quoted-string once folding is undone (RFC 3261 §25.1 qdtext, quoted-pair).
        if b == Byte.cr || b == Byte.lf { return nil }
        if escaped {
            escaped = false
        } else if b == Byte.backslash {
            escaped = true
        } else if b == Byte.quote {
            return u.index(after: i)
        }
        i = u.index(after: i)
    }
    return nil
}

/// Removes surrounding quotes and backslash escapes from a quoted-string; other text is returned as is.
func unquoted<S: StringProtocol>(_ text: S) -> String {
    let u = Array(text.utf8)
    guard u.count >= 2, u.first == Byte.quote, u.last == Byte.quote else { return String(text) }
    var out = [UInt8]()
    out.reserveCapacity(u.count)
    var escaped = false
    for b in u[1..<(u.count - 1)] {
        if escaped {
            out.append(b)
            escaped = false
        } else if b == Byte.backslash {
            escaped = true
        } else {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Wraps `text` in quotes, escaping `"`, `\` and control characters as quoted-pairs (RFC 3261 §25.1);
/// CR and LF cannot be quoted and are dropped so a value can never inject a header line.
func quoted(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    out.append("\"")
    for u in text.unicodeScalars {
        if u == "\r" || u == "\n" { continue }
        if u == "\"" || u == "\\" || u.value < 0x20 || u.value == 0x7f { out.append("\\") }
        out.append(u)
    }
    out.append("\"")
    return String(out)
}
