/// A `sip:`, `sips:` or `tel:` URI (RFC 3261 §19.1, RFC 3966). Components are stored percent-decoded and
/// re-escaped by `description`. Control plane: parsing and writing allocate.
public struct SIPURI: Hashable, Sendable, CustomStringConvertible {
    /// The URI scheme.
    public enum Scheme: String, Hashable, Sendable {
        /// `sip:` (RFC 3261 §19.1).
        case sip
        /// `sips:`, secure end to end (RFC 3261 §19.1).
        case sips
        /// `tel:` (RFC 3966).
        case tel
    }

    /// The scheme.
    public var scheme: Scheme
    /// The user part, decoded; for `tel:` the telephone-subscriber number.
    public var user: String?
    /// The password, decoded (deprecated by RFC 3261 but legal).
    public var password: String?
    /// Host name, IPv4 address, or IPv6 address without brackets; empty for `tel:`.
    public var host: String
    /// The explicit port, if any.
    public var port: UInt16?
    /// URI parameters (`;transport=tcp;lr`), values decoded.
    public var parameters: SIPParameters
    /// URI headers (`?Replaces=...&Subject=...`), names and values decoded.
    public var headers: [SIPParameter]

    /// A URI from parts.
    public init(scheme: Scheme = .sip, user: String? = nil, password: String? = nil, host: String, port: UInt16? = nil,
                parameters: SIPParameters = SIPParameters(), headers: [SIPParameter] = []) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.parameters = parameters
        self.headers = headers
    }

    /// True when the host is an IPv6 reference (written in brackets).
    public var isIPv6: Bool { host.contains(":") }

    /// The `transport` parameter, lower-cased.
    public var transport: String? { parameters["transport"]?.lowercased() }
    /// True when the `lr` (loose routing) parameter is present.
    public var isLooseRouting: Bool { parameters.contains("lr") }
    /// The `maddr` parameter.
    public var maddr: String? { parameters["maddr"] }
    /// The `user` parameter (e.g. "phone").
    public var userParameter: String? { parameters["user"] }
    /// The `method` parameter.
    public var method: String? { parameters["method"] }
    /// The `ttl` parameter, when it is a number in 0...255.
    public var ttl: UInt8? { parameters["ttl"].flatMap { parseDecimal($0, maximum: 255) }.map { UInt8($0) } }

    /// Parses a URI from text.
    public init(parsing text: String) throws(SIPParseError) { try self.init(parsing: Substring(text)) }

    /// Parses a URI from a substring (no surrounding `<>` or whitespace).
    public init(parsing text: Substring) throws(SIPParseError) {
        guard let colon = text.utf8.firstIndex(of: Byte.colon) else { throw .invalidURI }
        guard let scheme = Scheme(rawValue: text[text.startIndex..<colon].lowercased()) else { throw .invalidURI }
        self.scheme = scheme
        let rest = text[text.index(after: colon)...]
        for b in rest.utf8 where b <= Byte.sp || b >= 0x7f || b == Byte.lt || b == Byte.gt || b == Byte.quote {
            throw .invalidURI
        }
        user = nil
        password = nil
        port = nil
        headers = []
        if scheme == .tel {
            let numberEnd = rest.utf8.firstIndex(of: UInt8(ascii: ";")) ?? rest.endIndex
            let number = rest[rest.startIndex..<numberEnd]
            guard !number.isEmpty, !number.contains("?"), !number.contains("@") else { throw .invalidURI }
            user = percentDecoded(number)
            host = ""
            parameters = try Self.parseURIParameters(rest[numberEnd...])
            return
        }
        var hostPart = rest
        if let at = rest.utf8.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = rest[rest.startIndex..<at]
            hostPart = rest[rest.index(after: at)...]
            let userText: Substring
            if let pc = userinfo.utf8.firstIndex(of: Byte.colon) {
                userText = userinfo[userinfo.startIndex..<pc]
                let pw = userinfo[userinfo.index(after: pc)...]
                guard Self.validate(pw, allowed: Self.isPasswordByte) else { throw .invalidURI }
                password = percentDecoded(pw)
            } else {
                userText = userinfo
            }
            guard !userText.isEmpty, Self.validate(userText, allowed: Self.isUserByte) else { throw .invalidURI }
            user = percentDecoded(userText)
        }
        let hostEnd = hostPart.utf8.firstIndex { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "?") } ?? hostPart.endIndex
        let hostport = hostPart[hostPart.startIndex..<hostEnd]
        var portText: Substring?
        if hostport.utf8.first == Byte.lbracket {
            guard let close = hostport.utf8.firstIndex(of: Byte.rbracket) else { throw .invalidURI }
            let v6 = hostport[hostport.index(after: hostport.startIndex)..<close]
            guard !v6.isEmpty, v6.utf8.allSatisfy({ Byte.isHexDigit($0) || $0 == Byte.colon || $0 == UInt8(ascii: ".") }) else { throw .invalidURI }
            host = String(v6)
            let after = hostport[hostport.index(after: close)...]
            if !after.isEmpty {
                guard after.utf8.first == Byte.colon else { throw .invalidURI }
                portText = after.dropFirst()
            }
        } else {
            if let pc = hostport.utf8.firstIndex(of: Byte.colon) {
                host = String(hostport[hostport.startIndex..<pc])
                portText = hostport[hostport.index(after: pc)...]
            } else {
                host = String(hostport)
            }
            guard !host.isEmpty, host.utf8.allSatisfy({ Byte.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
            else { throw .invalidURI }
        }
        if let portText {
            guard let p = parseDecimal(portText, maximum: 65535) else { throw .invalidURI }
            port = UInt16(p)
        }
        var paramsAndHeaders = hostPart[hostEnd...]
        if let q = paramsAndHeaders.utf8.firstIndex(of: UInt8(ascii: "?")) {
            let headerText = paramsAndHeaders[paramsAndHeaders.index(after: q)...]
            paramsAndHeaders = paramsAndHeaders[paramsAndHeaders.startIndex..<q]
            for item in headerText.split(separator: "&", omittingEmptySubsequences: false) {
                guard let eq = item.firstIndex(of: "=") else { throw .invalidURI }
                let name = item[item.startIndex..<eq]
                let value = item[item.index(after: eq)...]
                guard !name.isEmpty, Self.validate(name, allowed: Self.isHeaderByte),
                      Self.validate(value, allowed: Self.isHeaderByte) else { throw .invalidURI }
                headers.append(SIPParameter(percentDecoded(name), percentDecoded(value)))
            }
        }
        parameters = try Self.parseURIParameters(paramsAndHeaders)
    }

    static func parseURIParameters(_ text: Substring) throws(SIPParseError) -> SIPParameters {
        var params = SIPParameters()
        guard !text.isEmpty else { return params }
        guard text.first == ";" else { throw .invalidURI }
        for item in text.dropFirst().split(separator: ";", omittingEmptySubsequences: false) {
            let name: Substring
            var value: String?
            if let eq = item.firstIndex(of: "=") {
                name = item[item.startIndex..<eq]
                let v = item[item.index(after: eq)...]
                guard !v.isEmpty, validate(v, allowed: isParamByte) else { throw .invalidURI }
                value = percentDecoded(v)
            } else {
                name = item
            }
            guard !name.isEmpty, validate(name, allowed: isParamByte) else { throw .invalidURI }
            params.items.append(SIPParameter(percentDecoded(name), value))
        }
        return params
    }

    /// Checks that every byte is allowed or a `%` escape (a bare `%` is tolerated, RFC 4475 §3.1.1.5).
    static func validate(_ text: Substring, allowed: (UInt8) -> Bool) -> Bool {
        text.utf8.allSatisfy { allowed($0) || $0 == Byte.percent }
    }

    // RFC 3261 §25.1: user-unreserved, password, param-unreserved, hnv-unreserved.
    static func isUserByte(_ b: UInt8) -> Bool {
        Byte.isUnreserved(b) || "&=+$,;?/".utf8.contains(b)
    }
    static func isPasswordByte(_ b: UInt8) -> Bool {
        Byte.isUnreserved(b) || "&=+$,".utf8.contains(b)
    }
    static func isParamByte(_ b: UInt8) -> Bool {
        Byte.isUnreserved(b) || "[]/:&+$".utf8.contains(b)
    }
    static func isHeaderByte(_ b: UInt8) -> Bool {
        Byte.isUnreserved(b) || "[]/?:+$".utf8.contains(b)
    }
    static func isTelByte(_ b: UInt8) -> Bool {
        Byte.isUnreserved(b) || "&=+$,?/#".utf8.contains(b)
    }

    /// The URI as written on the wire, with reserved characters escaped.
    public var description: String {
        var s = scheme.rawValue + ":"
        if scheme == .tel {
            s += percentEncoded(user ?? "", allowed: Self.isTelByte)
        } else {
            if let user {
                s += percentEncoded(user, allowed: Self.isUserByte)
                if let password { s += ":" + percentEncoded(password, allowed: Self.isPasswordByte) }
                s += "@"
            }
            s += isIPv6 ? "[" + host + "]" : host
            if let port { s += ":" + String(port) }
        }
        for p in parameters.items {
            s += ";" + percentEncoded(p.name, allowed: Self.isParamByte)
            if let v = p.value { s += "=" + percentEncoded(v, allowed: Self.isParamByte) }
        }
        if scheme != .tel {
            for (i, h) in headers.enumerated() {
                s += (i == 0 ? "?" : "&") + percentEncoded(h.name, allowed: Self.isHeaderByte) + "="
                    + percentEncoded(h.value ?? "", allowed: Self.isHeaderByte)
            }
        }
        return s
    }
}
