import NIOCore
import SIPCore

/// Where a response goes, per RFC 3261 §18.2.2 and RFC 3581 §4.
public enum SIPResponseRoute: Hashable, Sendable {
    /// Over the connection the request arrived on (streams; also RFC 5626 flows).
    case connection(SIPTransportConnectionID)
    /// To a host (an IP literal or a name to resolve) and port over a transport.
    case address(kind: SIPTransportKind, host: String, port: UInt16)
}

/// Pure transport decisions the transaction layer asks for: Via stamping on receipt, response routing, and
/// the UDP-to-TCP switch for large requests. No I/O; control plane (allocates strings).
public enum SIPTransportRouting {
    /// RFC 3261 §18.1.1: without a known path MTU, a request within 200 bytes of 1500 must go over a
    /// congestion-controlled transport.
    public static let udpSizeThreshold = 1300

    /// RFC 3261 §18.1.1: the transport for a request of `size` bytes when `preferred` was chosen. Only UDP
    /// switches (to TCP); `pathMTU` lowers or raises the threshold (threshold = MTU − 200).
    public static func transport(forRequestOfSize size: Int, preferred: SIPTransportKind, pathMTU: Int? = nil) -> SIPTransportKind {
        guard preferred == .udp else { return preferred }
        let threshold = pathMTU.map { $0 - 200 } ?? udpSizeThreshold
        return size > threshold ? .tcp : .udp
    }

    /// The top Via of a received request, stamped per RFC 3261 §18.2.1 and RFC 3581 §4: `received` is added
    /// when the sent-by host differs from the packet's source IP (always when rport was requested), and an
    /// empty `rport` is filled with the source port.
    public static func stamped(_ via: Via, sourceIP: String, sourcePort: UInt16) -> Via {
        var out = via
        let rportRequested = via.rport == .requested
        if rportRequested || !sameHost(via.host, sourceIP) {
            out.received = sourceIP
        }
        if rportRequested {
            out.rport = .value(sourcePort)
        }
        return out
    }

    /// `message` with its top Via stamped for `source` (see `stamped(_:sourceIP:sourcePort:)`); the message
    /// itself when it is not a request, or when nothing changes. Re-serialises Via as one line per value.
    public static func stampingReceived(_ message: SIPMessage, source: SIPTransportSource) throws(SIPParseError) -> SIPMessage {
        guard message.isRequest, let ip = source.remote.ipAddress, let port = source.remote.port else { return message }
        var vias = try message.vias
        let top = stamped(vias[0], sourceIP: ip, sourcePort: UInt16(truncatingIfNeeded: port))
        guard top != vias[0] else { return message }
        vias[0] = top
        var builder = SIPMessageBuilder(message)
        // Keep Via first among the headers, where it was (RFC 3261 §7.3.1 keeps the relative order of a field's values).
        let firstVia = builder.fields.firstIndex { SIPHeaderName($0.name) == .via } ?? 0
        builder.remove(.via)
        let insertAt = min(firstVia, builder.fields.count)
        builder.fields.insert(contentsOf: vias.map { SIPHeaderField(name: "Via", value: $0.description) }, at: insertAt)
        return try SIPMessage(parsing: builder.bytes())
    }

    /// RFC 3261 §18.2.2 (with RFC 3581 §4): where to send a response whose request arrived from `source` and
    /// whose top Via is `topVia`. Streams answer over the same connection; if it has gone, to `received`
    /// (or sent-by) and the sent-by port. `maddr` sends to that address. UDP with a filled rport goes to
    /// received:rport; otherwise to received (or sent-by) at the sent-by port, defaulting to 5060 (5061 for TLS).
    public static func responseRoute(topVia: Via, source: SIPTransportSource?, connectionIsOpen: Bool = true) -> SIPResponseRoute {
        let kind = source?.kind ?? SIPTransportKind(viaToken: topVia.transport) ?? .udp
        if kind.isStream, connectionIsOpen, let id = source?.connectionID {
            return .connection(id)
        }
        let defaultPort: UInt16 = (kind == .tls || kind == .wss) ? 5061 : 5060
        let sentByPort = topVia.port ?? defaultPort
        if let maddr = topVia.maddr, !kind.isStream {
            return .address(kind: kind, host: maddr, port: sentByPort)
        }
        let host = topVia.received ?? topVia.host
        if !kind.isStream, case .value(let rport) = topVia.rport {
            return .address(kind: kind, host: host, port: rport)
        }
        return .address(kind: kind, host: host, port: sentByPort)
    }

    /// True when two host texts name the same IP (IPv6 compared without brackets, case-insensitively).
    static func sameHost(_ a: String, _ b: String) -> Bool {
        func strip(_ s: String) -> Substring {
            var t = Substring(s)
            if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
            return t
        }
        let x = strip(a)
        let y = strip(b)
        if x.lowercased() == y.lowercased() { return true }
        // IPv6 texts may differ in zero compression: compare the parsed addresses.
        if x.contains(":"), y.contains(":"),
           let p = try? SocketAddress(ipAddress: String(x), port: 0), let q = try? SocketAddress(ipAddress: String(y), port: 0) {
            return p.ipAddress == q.ipAddress
        }
        return false
    }
}
