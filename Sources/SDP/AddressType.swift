/// The network and address type of an SDP `c=` or `o=` line (RFC 8866 §5.7).
public enum SDPAddressType: String, Sendable, Hashable {
    case ipv4 = "IP4"
    case ipv6 = "IP6"

    /// The address type of a numeric address: IP6 when it contains a colon.
    public init(address: String) {
        self = address.contains(":") ? .ipv6 : .ipv4
    }
}

/// The direction attribute of a media section (RFC 3264 §5.1, §6.1).
public enum SDPDirection: String, Sendable, Hashable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction the answerer uses in reply to an offer with this direction (RFC 3264 §6.1).
    public var answered: SDPDirection {
        switch self {
        case .sendrecv: .sendrecv
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .inactive: .inactive
        }
    }
}

extension SDPDirection {
    /// Whether the side that wrote this direction sends media.
    public var sends: Bool { self == .sendrecv || self == .sendonly }

    /// Whether the side that wrote this direction receives media.
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction with these send and receive flags.
    public init(sending: Bool, receiving: Bool) {
        switch (sending, receiving) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }
}
