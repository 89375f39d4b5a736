import NIOCore

/// The connections of the stream transports, keyed by connection id (RFC 5626 flows) and by transport plus
/// remote address (reuse for requests and responses, RFC 3261 §18), with a per-source-IP count for admission.
/// Pure and single-threaded: the transport layer keeps it on one event loop.
public struct SIPConnectionTable<Connection> {
    /// Identifies a flow by transport and remote address.
    public struct FlowKey: Hashable, Sendable {
        /// The transport.
        public var kind: SIPTransportKind
        /// The peer.
        public var remote: SocketAddress

        /// A key from parts.
        public init(kind: SIPTransportKind, remote: SocketAddress) {
            self.kind = kind
            self.remote = remote
        }
    }

    private struct Entry {
        var key: FlowKey
        var connection: Connection
    }

    /// Most connections accepted from one IP address at once.
    public let maximumPerIP: Int
    private var byID: [SIPTransportConnectionID: Entry] = [:]
    private var byFlow: [FlowKey: SIPTransportConnectionID] = [:]
    private var perIP: [String: Int] = [:]

    /// An empty table admitting at most `maximumPerIP` connections per remote IP.
    public init(maximumPerIP: Int) {
        self.maximumPerIP = maximumPerIP
    }

    /// Number of connections.
    public var count: Int { byID.count }

    /// Connections from `ip` now.
    public func connectionCount(fromIP ip: String) -> Int { perIP[ip] ?? 0 }

    /// True when one more connection from `remote`'s IP stays within the limit.
    public func admits(_ remote: SocketAddress) -> Bool {
        connectionCount(fromIP: Self.ipKey(remote)) < maximumPerIP
    }

    /// Adds a connection. A newer connection to the same flow key takes over the key (the older one stays
    /// reachable by id). Returns false, adding nothing, when the id is already present.
    @discardableResult
    public mutating func insert(_ connection: Connection, id: SIPTransportConnectionID, kind: SIPTransportKind, remote: SocketAddress) -> Bool {
        guard byID[id] == nil else { return false }
        let key = FlowKey(kind: kind, remote: remote)
        byID[id] = Entry(key: key, connection: connection)
        byFlow[key] = id
        perIP[Self.ipKey(remote), default: 0] += 1
        return true
    }

    /// Removes a connection and returns it.
    @discardableResult
    public mutating func remove(_ id: SIPTransportConnectionID) -> Connection? {
        guard let entry = byID.removeValue(forKey: id) else { return nil }
        if byFlow[entry.key] == id { byFlow[entry.key] = nil }
        let ip = Self.ipKey(entry.key.remote)
        let left = (perIP[ip] ?? 1) - 1
        perIP[ip] = left > 0 ? left : nil
        return entry.connection
    }

    /// The connection with this id.
    public func connection(_ id: SIPTransportConnectionID) -> Connection? { byID[id]?.connection }

    /// The connection for this transport and remote address, with its id.
    public func connection(kind: SIPTransportKind, remote: SocketAddress) -> (id: SIPTransportConnectionID, connection: Connection)? {
        guard let id = byFlow[FlowKey(kind: kind, remote: remote)], let entry = byID[id] else { return nil }
        return (id, entry.connection)
    }

    /// All connection ids (any order).
    public var ids: [SIPTransportConnectionID] { Array(byID.keys) }

    private static func ipKey(_ address: SocketAddress) -> String {
        address.ipAddress ?? String(describing: address)
    }
}
