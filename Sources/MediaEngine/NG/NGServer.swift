import CBatchIO
import MediaControl
import Synchronization
import TandemBase

#if canImport(Glibc)
import Glibc
#endif

/// The rtpengine ng protocol over UDP: one socket read by its own thread; requests run on the
/// controller and their replies are sent (and cached for retransmissions) when done.
///
/// Bad datagrams are counted and answered with an error where a cookie could be read; the log
/// callback hears about them at most once per second per kind.
public final class NGServer: Sendable {
    /// The controller requests run on.
    public let controller: NGCallController
    /// The bound address (the real port when 0 was asked for).
    public let localAddress: MediaAddress
    private let fd: Int32
    private let wakeFD: Int32
    private let epollFD: Int32
    private let state: Mutex<ServerState>
    private let isStopping = Atomic<Bool>(false)
    private let threadBox = Mutex<ThreadBox>(ThreadBox())
    private let log: @Sendable (String) -> Void
    private let lastLogged = Mutex<[String: UInt64]>([:])
    private let eventsTask = Mutex<Task<Void, Never>?>(nil)

    private struct ServerState {
        var control = NGControlState()
        /// Cookies of requests still executing: a retransmission of one is dropped, not run twice.
        var inFlight: Set<[UInt8]> = []
        var duplicatesInFlight: UInt64 = 0
    }

    private struct ThreadBox: @unchecked Sendable { var thread: pthread_t? }
    private struct Datagram: @unchecked Sendable {
        var bytes: [UInt8]
        var peer: tdm_addr
    }

    /// Binds the ng socket on `host:port` (numeric address; port 0 picks one).
    public init(
        controller: NGCallController, host: String, port: Int, log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(MediaSessionError) {
        self.controller = controller
        self.log = log
        state = Mutex(ServerState())
        var address = try MediaEngine.parse(host, port: port, family: nil)
        var options = tdm_udp_options()
        let socket = tdm_udp_open(&address, &options)
        guard socket >= 0 else { throw .system(operation: "bind \(host):\(port)", errno: socket) }
        var bound = tdm_addr()
        _ = tdm_socket_local_addr(socket, &bound)
        let wake = tdm_eventfd_create()
        let ep = tdm_epoll_create()
        guard wake >= 0, ep >= 0 else {
            _ = tdm_close(socket)
            if wake >= 0 { _ = tdm_close(wake) }
            if ep >= 0 { _ = tdm_close(ep) }
            throw .system(operation: "epoll/eventfd", errno: min(wake, ep))
        }
        _ = tdm_epoll_add(ep, socket, UInt32(TDM_EPOLLIN), 1)
        _ = tdm_epoll_add(ep, wake, UInt32(TDM_EPOLLIN), 0)
        fd = socket
        wakeFD = wake
        epollFD = ep
        localAddress = MediaWorker.mediaAddress(bound) ?? MediaAddress(host: host, port: port)
    }

    deinit {
        stop()
        _ = tdm_close(fd)
        _ = tdm_close(wakeFD)
        _ = tdm_close(epollFD)
    }

    /// Counters: requests, retransmissions answered from the cache, error replies, drops.
    public var counters: NGControlCounters { state.withLock { $0.control.counters } }

    /// Starts the reader thread and the task that feeds engine events to the controller.
    public func start() throws(MediaSessionError) {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<NGServer>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<NGServer>.fromOpaque(box).release()
            throw .system(operation: "pthread_create", errno: -rc)
        }
        threadBox.withLock { $0.thread = thread }
        let controller = controller
        let events = controller.engine.events
        eventsTask.withLock {
            $0 = Task {
                for await event in events { await controller.handle(event) }
            }
        }
    }

    /// Stops the reader thread (joining it) and the event task. Idempotent.
    public func stop() {
        isStopping.store(true, ordering: .releasing)
        _ = tdm_eventfd_signal(wakeFD)
        let thread = threadBox.withLock { box -> pthread_t? in
            defer { box.thread = nil }
            return box.thread
        }
        if let thread, !pthread_equal(thread, pthread_self()).isTrue { pthread_join(thread, nil) }
        eventsTask.withLock { $0?.cancel(); $0 = nil }
    }

    private func run() {
        guard let batch = tdm_batch_create(16, 65_536) else {
            log("ng: out of memory for the receive batch; the control socket is not read")
            return
        }
        defer { tdm_batch_destroy(batch) }
        var event = tdm_event()
        while !isStopping.load(ordering: .acquiring) {
            let n = tdm_epoll_wait(epollFD, &event, 1, -1)
            guard n > 0 else { continue }
            if event.data == 0 {
                _ = tdm_eventfd_drain(wakeFD)
                continue
            }
            while true {
                let count = tdm_recv_batch(fd, batch)
                guard count > 0 else { break }
                for i in 0..<UInt32(count) {
                    guard let data = tdm_batch_buffer(batch, i), let peer = tdm_batch_peer(batch, i) else { continue }
                    let bytes = Array(UnsafeBufferPointer(start: data, count: Int(tdm_batch_length(batch, i))))
                    receive(Datagram(bytes: bytes, peer: peer.pointee))
                }
            }
        }
    }

    private func receive(_ datagram: Datagram) {
        let now = Instant(nanoseconds: tdm_monotonic_ns())
        let inbound = state.withLock { s -> NGInbound? in
            let inbound = s.control.receive(datagram.bytes, now: now)
            if case .request(let cookie, _) = inbound {
                guard s.inFlight.insert(cookie).inserted else {
                    s.duplicatesInFlight &+= 1
                    return nil
                }
            }
            return inbound
        }
        guard let inbound else { return }
        switch inbound {
        case .reply(let bytes):
            send(bytes, to: datagram.peer)
        case .drop(let reason):
            logBounded("drop", "ng: dropped a datagram without a readable cookie (\(reason))")
        case .request(let cookie, let request):
            let controller = controller
            Task {
                let reply = await controller.execute(request)
                if case .error(let reason) = reply {
                    self.logBounded("error", "ng: \(request.command.rawValue) failed: \(reason)")
                }
                let bytes = self.state.withLock {
                    $0.inFlight.remove(cookie)
                    return $0.control.complete(cookie: cookie, reply: reply, now: Instant(nanoseconds: tdm_monotonic_ns()))
                }
                self.send(bytes, to: datagram.peer)
            }
        }
    }

    private func send(_ bytes: [UInt8], to peer: tdm_addr) {
        var peer = peer
        let rc = bytes.withUnsafeBufferPointer { tdm_send_to(fd, $0.baseAddress, $0.count, &peer) }
        if rc < 0 { logBounded("send", "ng: sending a reply failed (errno \(-rc))") }
    }

    /// Logs `message` unless a message of the same kind was logged less than a second ago.
    private func logBounded(_ kind: String, _ message: String) {
        let now = tdm_monotonic_ns()
        let due = lastLogged.withLock { last -> Bool in
            if let t = last[kind], now &- t < 1_000_000_000 { return false }
            last[kind] = now
            return true
        }
        if due { log(message) }
    }
}

private extension Int32 {
    var isTrue: Bool { self != 0 }
}
