import NIOCore

/// An IPv4 or IPv6 address range in CIDR form (`10.0.0.0/8`, `2001:db8::/32`), or one address.
public struct SIPAddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The network's address bytes (4 or 16), host bits cleared.
    public let network: [UInt8]
    /// The prefix length in bits.
    public let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let address = try? SocketAddress(ipAddress: String(first), port: 0),
              var bytes = Self.bytes(of: address)
        else { return nil }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...bits).contains(p) else { return nil }
            prefix = p
        }
        for i in bytes.indices {
            let keep = max(0, min(8, prefix - i * 8))
            bytes[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        network = bytes
        prefixLength = prefix
    }

    /// Whether `address` lies in the range (an IPv4 address never matches an IPv6 range, nor the reverse).
    public func contains(_ address: SocketAddress) -> Bool {
        guard let bytes = Self.bytes(of: address), bytes.count == network.count else { return false }
        var remaining = prefixLength
        for i in bytes.indices where remaining > 0 {
            let keep = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            if bytes[i] & mask != network[i] { return false }
            remaining -= keep
        }
        return true
    }

    public var description: String {
        let text: String
        if network.count == 4 {
            text = network.map(String.init).joined(separator: ".")
        } else {
            text = stride(from: 0, to: 16, by: 2).map { String(UInt16(network[$0]) << 8 | UInt16(network[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        return text + "/" + String(prefixLength)
    }

    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let a):
            let raw = a.address.sin_addr.s_addr  // network byte order in memory
            return withUnsafeBytes(of: raw) { Array($0) }
        case .v6(let a):
            return withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }
}

/// Which sources may talk SIP to Tandem, and how fast: allow and deny lists by address range, and a packet rate per
/// source IP address (every UDP datagram and every stream message counts).
public struct SIPSourcePolicy: Sendable, Hashable {
    /// When not empty, only these ranges are served.
    public var allow: [SIPAddressRange] = []
    /// Never served (checked after `allow`).
    public var deny: [SIPAddressRange] = []
    /// Sustained packets per second from one IP address; 0 (the default here) turns the limit off.
    public var packetsPerSecond = 0
    /// Packets one IP address may send in a burst above the sustained rate.
    public var burst = 400
    /// Addresses tracked for the rate at once; beyond it, idle ones are forgotten and new ones go unlimited.
    public var maximumTrackedSources = 65_536

    public init() {}
}

/// The per-packet check of a `SIPSourcePolicy`: lists first, then a GCRA token bucket per source address.
///
/// Confined to the transport's event loop (every listener of one `SIPTransportLayer` shares it). The rate table is
/// keyed by the address bytes (no string per packet); its size is bounded.
public final class SIPSourceGate: @unchecked Sendable {
    public enum Verdict: Sendable, Equatable { case admit, denied, rateLimited }

    public let policy: SIPSourcePolicy
    private let interval: UInt64
    private let tolerance: UInt64
    /// Theoretical arrival time per address (GCRA), in ns.
    private var arrivals: [AddressKey: UInt64] = [:]
    /// Sources admitted without tracking because the table was full of active ones.
    public private(set) var untracked = 0

    private struct AddressKey: Hashable {
        var high: UInt64
        var low: UInt64
    }

    public init(policy: SIPSourcePolicy) {
        self.policy = policy
        let rate = UInt64(max(0, policy.packetsPerSecond))
        interval = rate == 0 ? 0 : 1_000_000_000 / rate
        tolerance = interval &* UInt64(max(0, policy.burst))
    }

    /// What to do with a packet from `address` arriving at `now` (monotonic ns).
    public func check(_ address: SocketAddress, now: UInt64) -> Verdict {
        if !policy.allow.isEmpty, !policy.allow.contains(where: { $0.contains(address) }) { return .denied }
        if policy.deny.contains(where: { $0.contains(address) }) { return .denied }
        guard interval > 0, let key = Self.key(address) else { return .admit }
        let tat = arrivals[key] ?? now
        if tat > now &+ tolerance { return .rateLimited }
        if arrivals[key] == nil, arrivals.count >= policy.maximumTrackedSources {
            // Forget everyone whose bucket has drained; if nobody has, this source goes unmetered.
            arrivals = arrivals.filter { $0.value > now }
            if arrivals.count >= policy.maximumTrackedSources {
                untracked += 1
                return .admit
            }
        }
        arrivals[key] = max(tat, now) &+ interval
        return .admit
    }

    /// Whether a new stream connection from `address` may be accepted (the lists only).
    public func admitsConnection(from address: SocketAddress) -> Bool {
        if !policy.allow.isEmpty, !policy.allow.contains(where: { $0.contains(address) }) { return false }
        return !policy.deny.contains(where: { $0.contains(address) })
    }

    private static func key(_ address: SocketAddress) -> AddressKey? {
        switch address {
        case .v4(let a): return AddressKey(high: 0, low: UInt64(a.address.sin_addr.s_addr))
        case .v6(let a):
            return withUnsafeBytes(of: a.address.sin6_addr) { raw in
                AddressKey(high: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                           low: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
        case .unixDomainSocket: return nil
        }
    }
}
