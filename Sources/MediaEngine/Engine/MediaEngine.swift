import CBatchIO
import SRTP
import Synchronization
import TandemBase

#if canImport(Glibc)
import Glibc
#endif

/// The media engine's in-process control API: sessions, legs, links, statistics and events.
///
/// All methods may be called from any thread. Each command is queued to the session's worker and
/// applied there between packet batches; the `async` methods return when the worker has applied it.
public final class MediaEngine: Sendable {
    /// The configuration the engine was created with.
    public let configuration: MediaEngineConfiguration
    /// Events from all workers (stream started, media timeout, SSRC change), in per-worker order.
    public let events: AsyncStream<MediaEvent>
    private let eventContinuation: AsyncStream<MediaEvent>.Continuation
    private let bindV4: SendableAddress
    private let bindV6: SendableAddress
    private let control = Mutex(ControlState())
    /// Formats, links, playbacks and recording taps per leg: what decides relay or pipeline.
    let terminating = Mutex(TerminatingState())
    let conferences = Mutex(ConferenceRegistry())

    private struct SendableAddress: @unchecked Sendable { var address: tdm_addr }

    private struct ControlState: @unchecked Sendable {
        var isRunning = false
        var workers: [MediaWorker] = []
        var workerThreads: [pthread_t] = []
        var pump: EventPump?
        var pumpThread: pthread_t?
        var sessionsByID: [String: MediaSessionHandle] = [:]
        var idsBySession: [MediaSessionHandle: String] = [:]
        var sessionCounts: [Int] = []
        var nextSessionNumber: UInt64 = 1
        var nextWorker = 0
    }

    /// Validates the configuration; nothing is opened until `start()`.
    public init(configuration: MediaEngineConfiguration = MediaEngineConfiguration()) throws(MediaSessionError) {
        guard configuration.workerCount > 0 else { throw .invalidAddress("worker count must be positive") }
        self.configuration = configuration
        bindV4 = SendableAddress(address: try Self.parse(configuration.bindAddress, port: 0, family: 4))
        bindV6 = SendableAddress(address: try Self.parse(configuration.bindAddressIPv6, port: 0, family: 6))
        (events, eventContinuation) = AsyncStream.makeStream(of: MediaEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    deinit {
        stop()
        eventContinuation.finish()
    }

    static func parse(_ host: String, port: Int, family: UInt8?) throws(MediaSessionError) -> tdm_addr {
        var a = tdm_addr()
        guard (0...65535).contains(port), tdm_addr_parse(host, UInt16(port), &a) == 0 else {
            throw .invalidAddress(host)
        }
        if let family, a.family != family { throw .invalidAddress(host) }
        return a
    }

    /// Opens the workers' epoll sets and timers and starts their threads (and the event pump).
    public func start() throws(MediaSessionError) {
        try control.withLock { (state) throws(MediaSessionError) in
            guard !state.isRunning else { throw .alreadyRunning }
            let pump = try EventPump(continuation: eventContinuation)
            var workers: [MediaWorker] = []
            let slices = configuration.portRange.slices(configuration.workerCount)
            for i in 0..<configuration.workerCount {
                // More workers than port pairs: the extra workers share nothing and get no sessions.
                let slice = slices[min(i, slices.count - 1)]
                workers.append(try MediaWorker(
                    index: i, ports: slice, configuration: configuration, bindV4: bindV4.address,
                    bindV6: bindV6.address, events: pump.queue, eventFD: pump.wakeFD))
            }
            if slices.count < workers.count { workers.removeLast(workers.count - slices.count) }
            state.pumpThread = try Self.spawn(pump) { $0.run() }
            state.pump = pump
            state.workers = workers
            state.workerThreads = []
            for w in workers { state.workerThreads.append(try Self.spawn(w) { $0.run() }) }
            state.sessionCounts = [Int](repeating: 0, count: workers.count)
            state.isRunning = true
        }
    }

    /// Stops the workers (closing every socket, so all ports return), joins their threads and fails
    /// commands still queued. Blocks until done; idempotent.
    public func stop() {
        let (workers, threads, pump, pumpThread) = control.withLock { state in
            let result = (state.workers, state.workerThreads, state.pump, state.pumpThread)
            if state.isRunning {
                for w in state.workers { while !w.submit(.stop) { sched_yield() } }
            }
            state.isRunning = false
            state.workers = []
            state.workerThreads = []
            state.pump = nil
            state.pumpThread = nil
            state.sessionsByID = [:]
            state.idsBySession = [:]
            return result
        }
        for t in threads { pthread_join(t, nil) }
        conferences.withLock { state in
            for channel in state.recordings.values { channel.stop() }
            state = ConferenceRegistry()
        }
        // The workers have exited, so this thread may consume their queues.
        for w in workers { while let c = w.commands.pop() { c.fail(.notRunning) } }
        if let pump, let pumpThread {
            pump.stop()
            pthread_join(pumpThread, nil)
        }
    }

    private final class Box<T: AnyObject> {
        let object: T
        let body: (T) -> Void
        init(_ object: T, _ body: @escaping (T) -> Void) {
            self.object = object
            self.body = body
        }
    }

    private static func spawn<T: AnyObject>(_ object: T, _ body: @escaping (T) -> Void) throws(MediaSessionError) -> pthread_t {
        let box = Unmanaged.passRetained(Box(object, body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let box = Unmanaged<Box<AnyObject>>.fromOpaque(raw).takeRetainedValue()
            box.body(box.object)
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box<AnyObject>>.fromOpaque(box).release()
            throw .system(operation: "pthread_create", errno: -rc)
        }
        return thread
    }

    // MARK: - Commands

    func worker(for session: MediaSessionHandle) throws(MediaSessionError) -> MediaWorker {
        try control.withLock { (state) throws(MediaSessionError) -> MediaWorker in
            guard state.isRunning else { throw .notRunning }
            guard session.worker < state.workers.count, state.idsBySession[session] != nil else {
                throw .unknownSession
            }
            return state.workers[session.worker]
        }
    }

    /// Worker `index` of the running engine.
    func worker(index: Int) throws(MediaSessionError) -> MediaWorker {
        try control.withLock { (state) throws(MediaSessionError) -> MediaWorker in
            guard state.isRunning else { throw .notRunning }
            guard index >= 0, index < state.workers.count else { throw .unknownSession }
            return state.workers[index]
        }
    }

    /// The worker with the fewest sessions (where a new conference room goes).
    func leastLoadedWorker() throws(MediaSessionError) -> (Int, MediaWorker) {
        try control.withLock { (state) throws(MediaSessionError) -> (Int, MediaWorker) in
            guard state.isRunning, !state.workers.isEmpty else { throw .notRunning }
            let best = state.sessionCounts.indices.min { state.sessionCounts[$0] < state.sessionCounts[$1] } ?? 0
            return (best, state.workers[best])
        }
    }

    static func submit(_ command: WorkerCommand, to worker: MediaWorker) {
        // A full queue (1024 commands pending) is waited out rather than failed: the worker drains it
        // within one batch.
        var spins = 0
        while !worker.submit(command) {
            spins += 1
            if spins > 1_000_000 {
                command.fail(.busy)
                return
            }
            sched_yield()
        }
    }

    /// Creates a session for `id` on the least loaded worker (round robin among equals).
    public func createSession(id: String) async throws(MediaSessionError) -> MediaSessionHandle {
        try await createSession(id: id, worker: nil)
    }

    /// Creates a session for `id` on worker `pinned` (a conference participant lives on its room's worker),
    /// or on the least loaded worker when nil.
    func createSession(id: String, worker pinned: Int?) async throws(MediaSessionError) -> MediaSessionHandle {
        let (handle, worker) = try control.withLock { (state) throws(MediaSessionError) in
            guard state.isRunning else { throw .notRunning }
            guard state.sessionsByID[id] == nil else { throw .sessionExists }
            let n = state.workers.count
            var best = state.nextWorker % n
            if let pinned {
                guard pinned >= 0, pinned < n else { throw .unknownSession }
                best = pinned
            } else {
                for k in 0..<n {
                    let w = (state.nextWorker + k) % n
                    if state.sessionCounts[w] < state.sessionCounts[best] { best = w }
                }
                state.nextWorker = (best + 1) % n
            }
            state.sessionCounts[best] += 1
            let handle = MediaSessionHandle(number: state.nextSessionNumber, worker: best)
            state.nextSessionNumber += 1
            state.sessionsByID[id] = handle
            state.idsBySession[handle] = id
            return (handle, state.workers[best])
        }
        await withCheckedContinuation { c in Self.submit(.createSession(handle.number, c), to: worker) }
        return handle
    }

    /// The session created for `id`, if it still exists.
    public func session(id: String) -> MediaSessionHandle? {
        control.withLock { $0.sessionsByID[id] }
    }

    /// Sessions per worker, as the control side counts them.
    public var sessionsPerWorker: [Int] {
        control.withLock { $0.sessionCounts }
    }

    /// Each running worker's load: sessions, legs, packet totals, busy fraction, pinned CPU. Any thread;
    /// reads atomics the workers publish, so it never waits for a worker. Empty when not running.
    public func workerLoads() -> [WorkerLoad] {
        let workers = control.withLock { $0.workers }
        return workers.map { $0.load.snapshot(index: $0.index) }
    }

    /// Allocates an even/odd port pair from the session's worker and opens the leg's sockets.
    public func addLeg(to session: MediaSessionHandle, options: LegOptions = LegOptions()) async throws(MediaSessionError)
        -> LegInfo
    {
        let worker = try worker(for: session)
        let result = await withCheckedContinuation { c in Self.submit(.addLeg(session: session, options, c), to: worker) }
        return try result.get()
    }

    /// Applies signalling changes to a leg: remote addresses, SRTP keys, direction, strict source.
    public func updateLeg(_ leg: MediaLegHandle, _ update: LegUpdate) async throws(MediaSessionError) {
        var prepared = PreparedLegUpdate()
        if let a = update.remoteRTP { prepared.remoteRTP = try Self.parse(a.host, port: a.port, family: nil) }
        if let a = update.remoteRTCP { prepared.remoteRTCP = try Self.parse(a.host, port: a.port, family: nil) }
        prepared.inboundSRTP = try update.inboundSRTP.map { (k) throws(MediaSessionError) in try Self.context(k) }
        prepared.outboundSRTP = try update.outboundSRTP.map { (k) throws(MediaSessionError) in try Self.context(k) }
        prepared.direction = update.direction
        prepared.strictSource = update.strictSource
        prepared.clockRate = update.clockRate
        prepared.blockMedia = update.blockMedia
        prepared.blockDTMF = update.blockDTMF
        prepared.telephoneEventMask = update.telephoneEventPayloadTypes.map { types in
            types.reduce(UInt128(0)) { $0 | ($1 < 128 ? UInt128(1) << $1 : 0) }
        }
        prepared.rewritesOutboundStream = update.rewritesOutboundStream
        prepared.rtcpMux = update.rtcpMux
        prepared.learnsSource = update.learnsSource
        let worker = try worker(for: leg.session)
        let result = await withCheckedContinuation { c in Self.submit(.updateLeg(leg, prepared, c), to: worker) }
        try result.get()
    }

    private static func context(_ keying: SRTPKeying?) throws(MediaSessionError) -> SRTPContext? {
        guard let keying else { return nil }
        do {
            return try SRTPContext(suite: keying.suite, keyParameters: keying.keyParameters)
        } catch {
            throw .invalidSRTPKey
        }
    }

    /// Relays `a`'s media to `b` and `b`'s to `a`. Both legs must be in the same session.
    public func link(_ a: MediaLegHandle, _ b: MediaLegHandle) async throws(MediaSessionError) {
        guard a.session == b.session else { throw .legsInDifferentSessions }
        let worker = try worker(for: a.session)
        let result = await withCheckedContinuation { c in Self.submit(.link(a, b, c), to: worker) }
        try result.get()
        terminating.withLock { state in
            state.links[a] = b
            state.links[b] = a
        }
    }

    /// Deletes a session: its sockets close and its ports return to the worker's pool.
    public func deleteSession(_ session: MediaSessionHandle) async throws(MediaSessionError) {
        let worker = try worker(for: session)
        let result = await withCheckedContinuation { c in Self.submit(.deleteSession(session, c), to: worker) }
        terminating.withLock { $0.forget(session) }
        control.withLock { state in
            if let id = state.idsBySession.removeValue(forKey: session) {
                state.sessionsByID[id] = nil
                if session.worker < state.sessionCounts.count { state.sessionCounts[session.worker] -= 1 }
            }
        }
        try result.get()
    }

    /// Per-leg statistics of a session.
    public func query(_ session: MediaSessionHandle) async throws(MediaSessionError) -> SessionStatistics {
        let worker = try worker(for: session)
        let result = await withCheckedContinuation { c in Self.submit(.query(session, c), to: worker) }
        return try result.get()
    }
}

/// Moves events from the workers' shared queue into the `AsyncStream` on its own thread, so workers
/// never touch the stream's lock.
final class EventPump: @unchecked Sendable {
    let queue = MPSCQueue<MediaEvent>(capacity: 4096)
    let wakeFD: Int32
    private let epollFD: Int32
    private let continuation: AsyncStream<MediaEvent>.Continuation
    private let isStopping = Atomic<Bool>(false)

    init(continuation: AsyncStream<MediaEvent>.Continuation) throws(MediaSessionError) {
        self.continuation = continuation
        let wake = tdm_eventfd_create()
        guard wake >= 0 else { throw .system(operation: "eventfd", errno: wake) }
        let ep = tdm_epoll_create()
        guard ep >= 0 else { _ = tdm_close(wake); throw .system(operation: "epoll_create", errno: ep) }
        wakeFD = wake
        epollFD = ep
        _ = tdm_epoll_add(ep, wake, UInt32(TDM_EPOLLIN), 0)
    }

    deinit {
        _ = tdm_close(epollFD)
        _ = tdm_close(wakeFD)
    }

    func run() {
        var event = tdm_event()
        while true {
            _ = tdm_epoll_wait(epollFD, &event, 1, -1)
            _ = tdm_eventfd_drain(wakeFD)
            while let e = queue.pop() { continuation.yield(e) }
            if isStopping.load(ordering: .acquiring) { return }
        }
    }

    func stop() {
        isStopping.store(true, ordering: .releasing)
        _ = tdm_eventfd_signal(wakeFD)
    }
}
