import SIPCore
import SIPStack
import TandemBase

/// An address of record: an extension of a tenant (`sip:number@domain`).
public struct AddressOfRecord: Hashable, Sendable, CustomStringConvertible {
    public var tenantID: String
    public var user: String
    public var domain: String

    public init(tenantID: String, user: String, domain: String) {
        self.tenantID = tenantID
        self.user = user
        self.domain = domain
    }

    public var description: String { "sip:" + user + "@" + domain }
}

/// One registered contact of an address of record (RFC 3261 §10.3), with the flow it arrived over.
public struct ContactBinding: Hashable, Sendable {
    /// Whose binding it is.
    public var aor: AddressOfRecord
    /// The Contact as registered, without its `expires` parameter.
    public var contact: NameAddress
    /// Call-ID of the REGISTER that last changed it.
    public var callID: String
    /// CSeq number of that REGISTER.
    public var cseq: UInt32
    /// When the binding lapses.
    public var expiresAt: Instant
    /// When it was first registered.
    public var registeredAt: Instant
    /// Where the REGISTER came from: transport, source address and (for streams) the connection.
    public var source: SIPTransportSource
    /// RFC 5626 `+sip.instance`, unquoted.
    public var instanceID: String?
    /// RFC 5626 `reg-id`, when the registration is an outbound flow.
    public var regID: UInt32?
    /// The User-Agent header of the REGISTER.
    public var userAgent: String?

    /// The contact URI.
    public var uri: SIPURI { contact.uri }

    /// The contact's preference, 0…1 (RFC 3261 §20.10); nil when the phone gave none.
    public var q: Double? { contact.q }

    /// True for an RFC 5626 outbound registration (instance and reg-id, and the client supports outbound).
    public var isOutbound: Bool { regID != nil }

    /// Seconds left, rounded up; 0 once lapsed.
    public func remainingSeconds(now: Instant) -> UInt32 {
        guard now < expiresAt else { return 0 }
        let ms = expiresAt.milliseconds(since: now)
        return UInt32(clamping: (ms + 999) / 1000)
    }

    /// True when requests to this contact must go back over the flow the REGISTER came in on rather than to the
    /// Contact URI: RFC 5626 outbound registrations; WebSocket clients (a browser never listens); and contacts
    /// whose address is not the packet's source, i.e. behind NAT (for UDP the port must match too; a TCP/TLS
    /// client's source port is ephemeral, so only the host is compared). A binding that requires its flow dies
    /// with the connection; one that does not survives it and is reached by a new connection to the Contact.
    public var requiresFlow: Bool {
        if isOutbound || source.kind == .ws || source.kind == .wss { return true }
        guard let ip = source.remote.ipAddress else { return true }
        let contactHost = uri.host.hasPrefix("[") ? String(uri.host.dropFirst().dropLast()) : uri.host
        if contactHost != ip { return true }
        guard source.kind == .udp else { return false }
        return Int(uri.port ?? 5060) != (source.remote.port ?? 0)
    }

    /// How to reach this contact.
    public var route: ContactRoute { requiresFlow ? .flow(source) : .contact(uri) }
}

/// How a request reaches a registered contact.
public enum ContactRoute: Hashable, Sendable {
    /// Back over the flow the registration came from: UDP to its source address, or the same stream connection.
    case flow(SIPTransportSource)
    /// To the Contact URI, resolved as RFC 3263 says.
    case contact(SIPURI)
}

/// What happened to a binding, for the event feed.
public struct RegistrationEvent: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// A new contact was bound.
        case registered
        /// An existing binding was refreshed or changed.
        case refreshed
        /// The phone removed it (Expires 0 or `*`), or it was displaced by a newer contact over the limit.
        case unregistered
        /// It lapsed without a refresh.
        case expired
        /// Its flow (stream connection) closed.
        case flowClosed
    }

    public var kind: Kind
    public var binding: ContactBinding

    public init(kind: Kind, binding: ContactBinding) {
        self.kind = kind
        self.binding = binding
    }
}
