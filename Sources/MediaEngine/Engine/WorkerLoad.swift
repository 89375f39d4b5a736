import Synchronization

/// A snapshot of one media worker's load, as `MediaEngine.workerLoads()` reports it.
public struct WorkerLoad: Hashable, Sendable {
    /// The worker's index (`MediaSessionHandle.worker`).
    public let index: Int
    /// Sessions living on the worker.
    public let sessions: Int
    /// Legs (port pairs) open on the worker.
    public let legs: Int
    /// Datagrams received on the worker's leg sockets since it started, dropped ones included.
    public let packetsIn: UInt64
    /// Datagrams the worker sent.
    public let packetsOut: UInt64
    /// Datagrams received but not relayed (any `DropCounters` reason), and sends the kernel refused.
    public let packetsDropped: UInt64
    /// Share of wall time the worker spent handling events (packets, commands, ticks) over the last
    /// completed load window (`MediaEngineConfiguration.loadWindow`, 1 s by default); 0 before the first.
    public let busyFraction: Double
    /// The CPU the worker is pinned to, or nil when it is not pinned.
    public let cpu: Int?
}

/// What a worker publishes about its load. Written only by the worker thread, with relaxed stores
/// once per socket read, command batch and tick (never per packet); read by any thread. No lock.
final class WorkerLoadCounters: Sendable {
    let sessions = Atomic<Int>(0)
    let legs = Atomic<Int>(0)
    let packetsIn = Atomic<UInt64>(0)
    let packetsOut = Atomic<UInt64>(0)
    let packetsDropped = Atomic<UInt64>(0)
    /// `busyFraction` as a `Double` bit pattern.
    let busyFractionBits = Atomic<UInt64>(0)
    /// The pinned CPU, or -1.
    let cpu = Atomic<Int>(-1)

    /// A snapshot; any thread. The fields are read one by one, so they may be a tick apart.
    func snapshot(index: Int) -> WorkerLoad {
        let cpu = cpu.load(ordering: .relaxed)
        return WorkerLoad(
            index: index, sessions: sessions.load(ordering: .relaxed), legs: legs.load(ordering: .relaxed),
            packetsIn: packetsIn.load(ordering: .relaxed), packetsOut: packetsOut.load(ordering: .relaxed),
            packetsDropped: packetsDropped.load(ordering: .relaxed),
            busyFraction: Double(bitPattern: busyFractionBits.load(ordering: .relaxed)), cpu: cpu >= 0 ? cpu : nil)
    }
}
