import NIOCore
import SIPCore
import Synchronization

/// Identifies one stream connection (TCP, TLS, WS, WSS) for its lifetime; RFC 5626 flows are keyed by it.
public struct SIPTransportConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// A process-unique number, never reused while the transport layer runs.
    public let rawValue: UInt64

    /// An identifier from its number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// "conn-N".
    public var description: String { "conn-" + String(rawValue) }
}

/// Where a message came from: enough to route its response (RFC 3261 §18.2.2) and to stamp Via (RFC 3581).
public struct SIPTransportSource: Hashable, Sendable {
    /// The transport it arrived on.
    public var kind: SIPTransportKind
    /// The peer's address (the packet's source, not what Via claims).
    public var remote: SocketAddress
    /// The local address it arrived at, when known.
    public var local: SocketAddress?
    /// The stream connection it arrived on; nil for UDP.
    public var connectionID: SIPTransportConnectionID?

    /// A source from parts.
    public init(kind: SIPTransportKind, remote: SocketAddress, local: SocketAddress?, connectionID: SIPTransportConnectionID?) {
        self.kind = kind
        self.remote = remote
        self.local = local
        self.connectionID = connectionID
    }
}

/// A parsed message and where it came from, as handed to the transaction layer.
public struct SIPInboundMessage: Sendable {
    /// The message.
    public var message: SIPMessage
    /// Its source.
    public var source: SIPTransportSource

    /// An inbound message from parts.
    public init(message: SIPMessage, source: SIPTransportSource) {
        self.message = message
        self.source = source
    }
}

/// Where to send a message: a transport and a remote address, plus the TLS server name to verify.
public struct SIPTransportDestination: Hashable, Sendable {
    /// The transport to use.
    public var kind: SIPTransportKind
    /// The peer's address.
    public var address: SocketAddress
    /// For TLS: the name expected in the peer's certificate (and sent as SNI); nil skips hostname checks.
    public var serverName: String?

    /// A destination from parts.
    public init(kind: SIPTransportKind, address: SocketAddress, serverName: String? = nil) {
        self.kind = kind
        self.address = address
        self.serverName = serverName
    }
}

/// Per-transport counters of what the transports received, dropped and refused. Any thread; lock-free
/// (one relaxed atomic add per increment), so the receive path of every message can count.
public final class SIPTransportCounters: Sendable {
    /// The counts for one transport at one moment.
    public struct Snapshot: Hashable, Sendable {
        /// Messages parsed and delivered.
        public var received = 0
        /// Datagrams, frames or stream bytes that did not parse as SIP (dropped; streams are closed).
        public var garbage = 0
        /// Messages over the size limit (dropped; streams are closed).
        public var oversize = 0
        /// Malformed requests answered 400 (or 505) because they could still be addressed.
        public var rejected = 0
        /// Keep-alives seen (CRLF / CRLFCRLF, RFC 5626 §4.4.1).
        public var keepAlives = 0
        /// Connections refused by the per-source-IP limit.
        public var refusedConnections = 0
        /// Stream connections closed for inactivity.
        public var idleClosed = 0
        /// Datagrams, messages or connections from a source the allow/deny lists exclude (dropped, closed).
        public var denied = 0
        /// Datagrams or messages over the per-source packet rate (dropped).
        public var rateLimited = 0

        /// All zero.
        public init() {}
    }

    /// One counter of a snapshot, for the allocation-free `increment`.
    enum Counter: Int, CaseIterable {
        case received, garbage, oversize, rejected, keepAlives, refusedConnections, idleClosed, denied, rateLimited

        init?(_ keyPath: WritableKeyPath<Snapshot, Int>) {
            switch keyPath {
            case \Snapshot.received: self = .received
            case \Snapshot.garbage: self = .garbage
            case \Snapshot.oversize: self = .oversize
            case \Snapshot.rejected: self = .rejected
            case \Snapshot.keepAlives: self = .keepAlives
            case \Snapshot.refusedConnections: self = .refusedConnections
            case \Snapshot.idleClosed: self = .idleClosed
            case \Snapshot.denied: self = .denied
            case \Snapshot.rateLimited: self = .rateLimited
            default: return nil
            }
        }
    }

    /// The counters of one transport.
    private final class Cells: Sendable {
        let received = Atomic<Int>(0)
        let garbage = Atomic<Int>(0)
        let oversize = Atomic<Int>(0)
        let rejected = Atomic<Int>(0)
        let keepAlives = Atomic<Int>(0)
        let refusedConnections = Atomic<Int>(0)
        let idleClosed = Atomic<Int>(0)
        let denied = Atomic<Int>(0)
        let rateLimited = Atomic<Int>(0)

        func add(_ counter: Counter) {
            switch counter {
            case .received: received.add(1, ordering: .relaxed)
            case .garbage: garbage.add(1, ordering: .relaxed)
            case .oversize: oversize.add(1, ordering: .relaxed)
            case .rejected: rejected.add(1, ordering: .relaxed)
            case .keepAlives: keepAlives.add(1, ordering: .relaxed)
            case .refusedConnections: refusedConnections.add(1, ordering: .relaxed)
            case .idleClosed: idleClosed.add(1, ordering: .relaxed)
            case .denied: denied.add(1, ordering: .relaxed)
            case .rateLimited: rateLimited.add(1, ordering: .relaxed)
            }
        }

        var snapshot: Snapshot {
            var s = Snapshot()
            s.received = received.load(ordering: .relaxed)
            s.garbage = garbage.load(ordering: .relaxed)
            s.oversize = oversize.load(ordering: .relaxed)
            s.rejected = rejected.load(ordering: .relaxed)
            s.keepAlives = keepAlives.load(ordering: .relaxed)
            s.refusedConnections = refusedConnections.load(ordering: .relaxed)
            s.idleClosed = idleClosed.load(ordering: .relaxed)
            s.denied = denied.load(ordering: .relaxed)
            s.rateLimited = rateLimited.load(ordering: .relaxed)
            return s
        }
    }

    private let cells: [Cells] = SIPTransportKind.allCases.map { _ in Cells() }

    /// Zeroed counters.
    public init() {}

    /// Adds one to a counter of `kind`.
    public func increment(_ kind: SIPTransportKind, _ counter: WritableKeyPath<Snapshot, Int>) {
        guard let c = Counter(counter) else { return }
        cells[kind.counterIndex].add(c)
    }

    /// Adds one to a counter of `kind` (no key-path comparison; for per-message paths).
    func increment(_ kind: SIPTransportKind, _ counter: Counter) {
        cells[kind.counterIndex].add(counter)
    }

    /// The current counts of `kind` (each counter read atomically; the set is not one atomic snapshot).
    public func snapshot(_ kind: SIPTransportKind) -> Snapshot {
        cells[kind.counterIndex].snapshot
    }
}

extension SIPTransportKind {
    /// Position in `allCases`, used to index per-transport tables.
    var counterIndex: Int {
        switch self {
        case .udp: 0
        case .tcp: 1
        case .tls: 2
        case .ws: 3
        case .wss: 4
        }
    }

    /// True for connection-oriented transports (RFC 3261 §18: "reliable").
    public var isStream: Bool { self != .udp }

    /// The Via transport token (RFC 3261 §20.42, RFC 7118 §5.2).
    public var viaToken: String {
        switch self {
        case .udp: "UDP"
        case .tcp: "TCP"
        case .tls: "TLS"
        case .ws: "WS"
        case .wss: "WSS"
        }
    }

    /// The transport named by a Via transport token, case-insensitively; nil for SCTP or unknown tokens.
    public init?(viaToken: String) {
        switch viaToken.uppercased() {
        case "UDP": self = .udp
        case "TCP": self = .tcp
        case "TLS": self = .tls
        case "WS": self = .ws
        case "WSS": self = .wss
        default: return nil
        }
    }
}

/// Why the transport layer could not carry out a request.
public enum SIPTransportError: Error, Equatable, Sendable {
    /// The message is larger than the configured maximum (the caller answers 413 or 513).
    case messageTooLarge(size: Int, maximum: Int)
    /// No listener is running for this transport and address family.
    case noListener(SIPTransportKind)
    /// The transport cannot open connections towards a peer (WS/WSS: only browsers' connections are reused).
    case cannotConnect(SIPTransportKind)
    /// The connection is gone.
    case connectionClosed(SIPTransportConnectionID)
    /// TLS is requested but no TLS configuration was given.
    case tlsNotConfigured
}
