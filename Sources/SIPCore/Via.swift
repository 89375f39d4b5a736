/// One Via header value (RFC 3261 §20.42, RFC 3581 rport).
public struct Via: Hashable, Sendable, CustomStringConvertible {
    /// The `rport` parameter: absent, present without a value (request), or with a port (filled in response).
    public enum RPort: Hashable, Sendable {
        /// No rport parameter.
        case absent
        /// `;rport` without a value: the client asks for the source port (RFC 3581 §3).
        case requested
        /// `;rport=N` filled in by the server (RFC 3581 §4).
        case value(UInt16)
    }

    /// Protocol name, normally "SIP".
    public var protocolName: String
    /// Protocol version, normally "2.0".
    public var protocolVersion: String
    /// Transport, upper-cased as conventionally written: "UDP", "TCP", "TLS", "WS", "WSS", "SCTP" or other.
    public var transport: String
    /// The sent-by host (IPv6 without brackets).
    public var host: String
    /// The sent-by port, if given.
    public var port: UInt16?
    /// Via parameters.
    public var parameters: SIPParameters

    /// A Via from parts.
    public init(transport: String, host: String, port: UInt16? = nil, parameters: SIPParameters = SIPParameters()) {
        protocolName = "SIP"
        protocolVersion = "2.0"
        self.transport = transport.uppercased()
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    /// The transaction branch (RFC 3261 §8.1.1.7).
    public var branch: String? {
        get { parameters["branch"] }
        set { parameters["branch"] = newValue }
    }
    /// The `received` address added by a server (RFC 3261 §18.2.1).
    public var received: String? {
        get { parameters["received"] }
        set { parameters["received"] = newValue }
    }
    /// The `maddr` parameter.
    public var maddr: String? { parameters["maddr"] }
    /// The `ttl` parameter.
    public var ttl: UInt8? { parameters["ttl"].flatMap { parseDecimal($0, maximum: 255) }.map { UInt8($0) } }
    /// True when the branch carries the RFC 3261 magic cookie.
    public var hasMagicCookie: Bool { branch?.hasPrefix("z9hG4bK") ?? false }

    /// The `rport` parameter (RFC 3581).
    public var rport: RPort {
        get {
            guard let i = parameters.index(of: "rport") else { return .absent }
            guard let v = parameters.items[i].value else { return .requested }
            return parseDecimal(v, maximum: 65535).map { .value(UInt16($0)) } ?? .requested
        }
        set {
            switch newValue {
            case .absent: parameters.remove("rport")
            case .requested: parameters.setFlag("rport")
            case .value(let p): parameters["rport"] = String(p)
            }
        }
    }

    /// Parses one via-parm: `SIP / 2.0 / UDP host:port;params` (SLASH allows SWS around it).
    public init(parsing text: Substring) throws(SIPParseError) {
        let err = SIPParseError.invalidHeaderValue("Via")
        var rest = text.trimmingLWS
        func token(_ s: inout Substring) -> Substring {
            let end = s.utf8.firstIndex { !Byte.isToken($0) } ?? s.endIndex
            let t = s[s.startIndex..<end]
            s = s[end...]
            return t
        }
        let name = token(&rest)
        rest = rest.trimmingLWS
        guard !name.isEmpty, rest.utf8.first == UInt8(ascii: "/") else { throw err }
        rest = rest.dropFirst().trimmingLWS
        let version = token(&rest)
        rest = rest.trimmingLWS
        guard !version.isEmpty, rest.utf8.first == UInt8(ascii: "/") else { throw err }
        rest = rest.dropFirst().trimmingLWS
        let transport = token(&rest)
        guard !transport.isEmpty, let ws = rest.utf8.first, ws == Byte.sp || ws == Byte.tab else { throw err }
        rest = rest.trimmingLWS
        let sentByEnd = rest.utf8.firstIndex { $0 == UInt8(ascii: ";") || $0 == Byte.sp || $0 == Byte.tab } ?? rest.endIndex
        let sentBy = rest[rest.startIndex..<sentByEnd]
        // Reuse the URI host:port grammar for sent-by.
        let hp: SIPURI
        do { hp = try SIPURI(parsing: "sip:" + sentBy) } catch { throw err }
        guard hp.user == nil, hp.parameters.items.isEmpty, hp.headers.isEmpty else { throw err }
        protocolName = String(name)
        protocolVersion = String(version)
        self.transport = transport.uppercased()
        host = hp.host
        port = hp.port
        parameters = try SIPParameters.parse(rest[sentByEnd...], headerName: "Via")
    }

    /// `SIP/2.0/UDP host:port;params`.
    public var description: String {
        var s = protocolName + "/" + protocolVersion + "/" + transport + " "
        s += host.contains(":") ? "[" + host + "]" : host
        if let port { s += ":" + String(port) }
        return s + parameters.description
    }
}
