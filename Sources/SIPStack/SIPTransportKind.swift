/// The SIP transports Tandem listens on, with their default ports.
public enum SIPTransportKind: String, Sendable, CaseIterable {
    case udp, tcp, tls, ws, wss

    /// The default listening port: 5060 for UDP and TCP, 5061 for TLS (RFC 3261 §19.1.2),
    /// 5062 for WS and 5065 for WSS (the product's defaults).
    public var defaultPort: Int {
        switch self {
        case .udp, .tcp: 5060
        case .tls: 5061
        case .ws: 5062
        case .wss: 5065
        }
    }

    /// True for transports carried over TLS.
    public var isSecure: Bool { self == .tls || self == .wss }
}
