import CBatchIO
import RTP
import SRTP
import TandemBase

#if canImport(Glibc)
import Glibc
#endif

/// One media worker: a thread that owns an epoll set, a tick timerfd, a wake-up eventfd, a slice of
/// the RTP port range, the legs bound in it and preallocated receive/send batches.
///
/// Control threads only call `submit`; everything else runs on the worker thread. Nothing on the
/// packet path allocates, locks or formats.
final class MediaWorker: @unchecked Sendable {
    /// epoll data for the wake-up eventfd and the tick timerfd; sockets use `socketTagBase + 2*slot (+1 for RTCP)`.
    static let wakeTag: UInt64 = 0
    static let tickTag: UInt64 = 1
    static let socketTagBase: UInt64 = 2
    /// Datagrams per recvmmsg/sendmmsg and bytes per datagram buffer.
    static let batchCapacity: UInt32 = 64
    static let bufferSize: UInt32 = 2048

    let index: Int
    let ports: RTPPortRange
    let commands = MPSCQueue<WorkerCommand>(capacity: 1024)
    let wakeFD: Int32
    let epollFD: Int32
    /// Sockets of conference participants' audio legs: not watched by the loop's wait, but read once per tick
    /// (the room's jitter buffers pull every 20 ms anyway), so a room of N talkers costs one wake-up per tick
    /// instead of N per 20 ms.
    let roomEpollFD: Int32
    let roomEpollEvents: UnsafeMutablePointer<tdm_event>
    private let tickFD: Int32
    private let tickNanoseconds: UInt64
    private let timeoutTicks: UInt64
    let relatchThreshold: Int
    private let pinsToCPU: Int?
    private let bindV4: tdm_addr
    private let bindV6: tdm_addr
    private let advertisedV4: String
    private let advertisedV6: String
    private let events: MPSCQueue<MediaEvent>
    private let eventFD: Int32

    let recvBatch: OpaquePointer
    let sendBatch: OpaquePointer
    /// Destination fd and leg slot per queued send message.
    let sendFDs: UnsafeMutablePointer<Int32>
    let sendLegs: UnsafeMutablePointer<Int32>
    var sendCount: UInt32 = 0

    /// The leg table: one slot per port pair of the slice, allocated once.
    let legs: UnsafeMutablePointer<LegState>
    let legCapacity: Int
    private var freeSlots: [Int32]
    /// Slots in use, densely, so the tick visits only live legs (not the whole port range).
    private(set) var activeSlots: [Int32]
    /// Each slot's index in `activeSlots`, or -1.
    private var activePositions: [Int32]
    private var freePairs: [Int32]
    /// Sessions on this worker and their legs' slots (control path only).
    private var sessions: [UInt64: [Int32]] = [:]
    private var epollEvents: UnsafeMutablePointer<tdm_event>
    static let maxEpollEvents: Int32 = 64
    var tick: UInt64 = 0
    private var isRunning = true
    /// Conference rooms on this worker, by number, and the same rooms as a list for the tick.
    var rooms: [UInt64: WorkerRoom] = [:]
    var roomList: [WorkerRoom] = []
    /// Events the queue refused because the control side fell behind.
    private(set) var lostEvents: UInt64 = 0

    /// Load figures published to the control side (see `publishLoad`).
    let load = WorkerLoadCounters()
    /// Worker-local totals behind `load`: plain integers on the packet path.
    var totalPacketsIn: UInt64 = 0
    var totalPacketsOut: UInt64 = 0
    var totalPacketsDropped: UInt64 = 0
    private var activeLegs = 0
    /// Nanoseconds spent handling epoll events, and the start of the current load window.
    private var busyNanoseconds: UInt64 = 0
    private var windowStart: UInt64 = 0
    private var windowBusyStart: UInt64 = 0
    private let loadWindowNanoseconds: UInt64

    init(
        index: Int, ports: RTPPortRange, configuration: MediaEngineConfiguration, bindV4: tdm_addr, bindV6: tdm_addr,
        events: MPSCQueue<MediaEvent>, eventFD: Int32
    ) throws(MediaSessionError) {
        self.index = index
        self.ports = ports
        self.events = events
        self.eventFD = eventFD
        self.bindV4 = bindV4
        self.bindV6 = bindV6
        advertisedV4 = configuration.advertisedAddress ?? configuration.bindAddress
        advertisedV6 = configuration.advertisedAddressIPv6 ?? configuration.bindAddressIPv6
        relatchThreshold = max(1, configuration.relatchThreshold)
        pinsToCPU = configuration.pinsWorkers ? index % HostCPU.availableCount : nil
        let tickNS = UInt64(max(1, Self.nanoseconds(configuration.tickInterval)))
        tickNanoseconds = tickNS
        timeoutTicks = max(1, UInt64(max(0, Self.nanoseconds(configuration.mediaTimeout))) / tickNS)
        loadWindowNanoseconds = UInt64(max(1, Self.nanoseconds(configuration.loadWindow)))

        let ep = tdm_epoll_create()
        guard ep >= 0 else { throw .system(operation: "epoll_create", errno: ep) }
        let wake = tdm_eventfd_create()
        guard wake >= 0 else { _ = tdm_close(ep); throw .system(operation: "eventfd", errno: wake) }
        let timer = tdm_timerfd_create(tickNS)
        guard timer >= 0 else {
            _ = tdm_close(ep); _ = tdm_close(wake)
            throw .system(operation: "timerfd_create", errno: timer)
        }
        epollFD = ep
        let roomEp = tdm_epoll_create()
        guard roomEp >= 0 else {
            _ = tdm_close(ep); _ = tdm_close(wake); _ = tdm_close(timer)
            throw .system(operation: "epoll_create", errno: roomEp)
        }
        roomEpollFD = roomEp
        roomEpollEvents = .allocate(capacity: Int(Self.maxEpollEvents))
        wakeFD = wake
        tickFD = timer
        _ = tdm_epoll_add(ep, wake, UInt32(TDM_EPOLLIN), Self.wakeTag)
        _ = tdm_epoll_add(ep, timer, UInt32(TDM_EPOLLIN), Self.tickTag)
        // Only out of memory makes batch creation fail: report it like the other set-up failures, leaking nothing.
        let r = tdm_batch_create(Self.batchCapacity, Self.bufferSize)
        let s = tdm_batch_create(Self.batchCapacity, Self.bufferSize)
        guard let r, let s else {
            tdm_batch_destroy(r)
            tdm_batch_destroy(s)
            _ = tdm_close(ep); _ = tdm_close(wake); _ = tdm_close(timer)
            throw .system(operation: "tdm_batch_create", errno: 12) // ENOMEM
        }
        recvBatch = r
        sendBatch = s
        sendFDs = .allocate(capacity: Int(Self.batchCapacity))
        sendLegs = .allocate(capacity: Int(Self.batchCapacity))
        legCapacity = ports.pairCount
        legs = .allocate(capacity: legCapacity)
        legs.initialize(repeating: LegState(), count: legCapacity)
        freeSlots = (0..<Int32(legCapacity)).reversed()
        activeSlots = []
        activeSlots.reserveCapacity(legCapacity)
        activePositions = [Int32](repeating: -1, count: legCapacity)
        freePairs = (0..<Int32(ports.pairCount)).reversed()
        epollEvents = .allocate(capacity: Int(Self.maxEpollEvents))
    }

    deinit {
        for slot in 0..<legCapacity where legs[slot].isActive { closeLeg(Int32(slot)) }
        legs.deinitialize(count: legCapacity)
        legs.deallocate()
        sendFDs.deallocate()
        sendLegs.deallocate()
        epollEvents.deallocate()
        roomEpollEvents.deallocate()
        _ = tdm_close(roomEpollFD)
        tdm_batch_destroy(recvBatch)
        tdm_batch_destroy(sendBatch)
        _ = tdm_close(epollFD)
        _ = tdm_close(wakeFD)
        _ = tdm_close(tickFD)
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, attos) = d.components
        return s &* 1_000_000_000 &+ attos / 1_000_000_000
    }

    /// Queues a command and wakes the worker. Any thread. False when the queue is full.
    func submit(_ command: WorkerCommand) -> Bool {
        guard commands.push(command) else { return false }
        _ = tdm_eventfd_signal(wakeFD)
        return true
    }

    // MARK: - Loop (worker thread)

    /// The worker thread's body: returns after a `.stop` command.
    func run() {
        if let cpu = pinsToCPU, tdm_pin_current_thread(Int32(cpu)) == 0 { load.cpu.store(cpu, ordering: .relaxed) }
        windowStart = tdm_monotonic_ns()
        while isRunning {
            let n = tdm_epoll_wait(epollFD, epollEvents, Self.maxEpollEvents, -1)
            guard n > 0 else { continue }
            // Busy time: from the wake-up to the next wait (two vDSO clock reads per wake-up, not per packet).
            let busyStart = tdm_monotonic_ns()
            defer { busyNanoseconds &+= tdm_monotonic_ns() &- busyStart }
            for e in 0..<Int(n) {
                let tag = epollEvents[e].data
                switch tag {
                case Self.wakeTag:
                    _ = tdm_eventfd_drain(wakeFD)
                    applyCommands()
                    drainSpreadRooms()
                case Self.tickTag:
                    let expirations = tdm_timerfd_read(tickFD)
                    if expirations > 0 { onTick(UInt64(expirations)) }
                default:
                    let socket = tag &- Self.socketTagBase
                    readSocket(slot: Int(socket >> 1), isRTCPSocket: socket & 1 == 1, now: busyStart)
                }
                if !isRunning { break }
            }
        }
        for slot in 0..<legCapacity where legs[slot].isActive { closeLeg(Int32(slot)) }
        sessions.removeAll()
        publishLoad()
    }

    /// Per tick: media timeouts, reported once per silence (not per packet).
    private func onTick(_ expirations: UInt64) {
        tick &+= expirations
        let now = tdm_monotonic_ns()
        if now &- windowStart >= loadWindowNanoseconds {
            let fraction = min(1, Double(busyNanoseconds &- windowBusyStart) / Double(now &- windowStart))
            load.busyFractionBits.store(fraction.bitPattern, ordering: .relaxed)
            windowStart = now
            windowBusyStart = busyNanoseconds
        }
        publishLoad()
        produceOutputs(now: now)
        readRoomSockets(now: now)
        produceRooms(now: now)
        for s in activeSlots {
            let slot = Int(s)
            if !legs[slot].isTimedOut, !legs[slot].direction.isHold, tick &- legs[slot].lastRTPTick >= timeoutTicks {
                legs[slot].isTimedOut = true
                emit(slot: Int32(slot), .mediaTimeout)
            }
        }
    }

    /// Publishes the packet totals and counts for `MediaEngine.workerLoads()`: a few relaxed stores,
    /// once per socket read, command batch and tick.
    @inline(__always)
    func publishLoad() {
        publishPackets()
        load.legs.store(activeLegs, ordering: .relaxed)
        load.sessions.store(sessions.count, ordering: .relaxed)
    }

    /// The packet totals alone: what a socket read changes (three relaxed stores, plain moves on x86).
    @inline(__always)
    func publishPackets() {
        load.packetsIn.store(totalPacketsIn, ordering: .relaxed)
        load.packetsOut.store(totalPacketsOut, ordering: .relaxed)
        load.packetsDropped.store(totalPacketsDropped, ordering: .relaxed)
    }

    /// Pushes an event for the control side. Rare (stream start, SSRC change, timeout); no allocation.
    func emit(slot: Int32, _ kind: MediaEvent.Kind, room: UInt64? = nil, roomWorker: Int? = nil) {
        let leg = legs[Int(slot)]
        let handle = MediaLegHandle(
            session: MediaSessionHandle(number: leg.sessionNumber, worker: index), slot: slot,
            generation: leg.generation)
        push(MediaEvent(leg: handle, kind: kind, room: room.map { ConferenceRoomHandle(number: $0, worker: roomWorker ?? index) }))
    }

    /// An event about a whole room (its playback ended): no leg.
    func emitRoomEvent(_ room: UInt64, _ kind: MediaEvent.Kind) {
        let none = MediaLegHandle(session: MediaSessionHandle(number: 0, worker: index), slot: -1, generation: 0)
        push(MediaEvent(leg: none, kind: kind, room: ConferenceRoomHandle(number: room, worker: index)))
    }

    private func push(_ event: MediaEvent) {
        if events.push(event) {
            _ = tdm_eventfd_signal(eventFD)
        } else {
            lostEvents &+= 1
        }
    }

    // MARK: - Commands (worker thread, between batches)

    private func applyCommands() {
        while isRunning, let command = commands.pop() {
            switch command {
            case .createSession(let number, let reply):
                sessions[number] = []
                publishLoad()
                reply.resume()
            case .addLeg(let session, let options, let reply):
                let result = addLeg(session, options)
                publishLoad()
                reply.resume(returning: result)
            case .updateLeg(let leg, let update, let reply):
                reply.resume(returning: updateLeg(leg, update))
            case .link(let a, let b, let reply):
                reply.resume(returning: link(a, b))
            case .deleteSession(let session, let reply):
                guard let slots = sessions.removeValue(forKey: session.number) else {
                    reply.resume(returning: .failure(.unknownSession))
                    continue
                }
                for slot in slots { closeLeg(slot) }
                publishLoad()
                reply.resume(returning: .success(()))
            case .query(let session, let reply):
                // Published first, so a caller that awaited a query sees at least these totals.
                publishLoad()
                reply.resume(returning: query(session))
            case .setOutput(let leg, let output, let reply):
                guard isValid(leg) else {
                    reply.resume(returning: .failure(.unknownLeg))
                    continue
                }
                legs[Int(leg.slot)].outPipeline = output.pipeline
                legs[Int(leg.slot)].playback = output.playback
                legs[Int(leg.slot)].inBandDetector = output.detector
                reply.resume(returning: .success(()))
            case .conference(let c):
                apply(c)
                publishLoad()
            case .stop:
                isRunning = false
            }
        }
        if !isRunning {
            while let command = commands.pop() { command.fail(.notRunning) }
        }
    }

    private func addLeg(_ session: MediaSessionHandle, _ options: LegOptions) -> Result<LegInfo, MediaSessionError> {
        guard sessions[session.number] != nil else { return .failure(.unknownSession) }
        guard let slot = freeSlots.popLast() else { return .failure(.portsExhausted) }
        // Try free pairs until one binds: another process may hold some ports of the range.
        var busy: [Int32] = []
        defer { freePairs.insert(contentsOf: busy, at: 0) }
        var lastError: Int32 = 0
        while let pair = freePairs.popLast() {
            var address = options.isIPv6 ? bindV6 : bindV4
            let rtpPort = UInt16(ports.lowerBound + 2 * Int(pair))
            var noOptions = tdm_udp_options()
            address.port = rtpPort
            let rtpFD = tdm_udp_open(&address, &noOptions)
            guard rtpFD >= 0 else { lastError = rtpFD; busy.append(pair); continue }
            address.port = rtpPort + 1
            let rtcpFD = tdm_udp_open(&address, &noOptions)
            guard rtcpFD >= 0 else { lastError = rtcpFD; _ = tdm_close(rtpFD); busy.append(pair); continue }
            let tag = Self.socketTagBase + 2 * UInt64(slot)
            _ = tdm_epoll_add(epollFD, rtpFD, UInt32(TDM_EPOLLIN), tag)
            _ = tdm_epoll_add(epollFD, rtcpFD, UInt32(TDM_EPOLLIN), tag + 1)
            let generation = legs[Int(slot)].generation
            var leg = LegState()
            leg.isActive = true
            leg.generation = generation
            leg.sessionNumber = session.number
            leg.rtpFD = rtpFD
            leg.rtcpFD = rtcpFD
            leg.pairIndex = pair
            leg.rtpPort = rtpPort
            leg.isRTCPMux = options.rtcpMux
            leg.lastRTPTick = tick
            legs[Int(slot)] = leg
            activePositions[Int(slot)] = Int32(activeSlots.count)
            activeSlots.append(slot)
            activeLegs += 1
            sessions[session.number, default: []].append(slot)
            let handle = MediaLegHandle(session: session, slot: slot, generation: generation)
            return .success(LegInfo(
                leg: handle, address: options.isIPv6 ? advertisedV6 : advertisedV4, rtpPort: Int(rtpPort),
                rtcpPort: options.rtcpMux ? Int(rtpPort) : Int(rtpPort) + 1))
        }
        freeSlots.append(slot)
        if busy.isEmpty || lastError == -98 /* EADDRINUSE */ { return .failure(.portsExhausted) }
        return .failure(.system(operation: "bind", errno: lastError))
    }

    /// Closes a leg's sockets and returns its slot and port pair to the pools.
    private func closeLeg(_ slot: Int32) {
        let i = Int(slot)
        guard legs[i].isActive else { return }
        leaveRoom(slot: slot)
        _ = tdm_epoll_remove(epollFD, legs[i].rtpFD)
        _ = tdm_epoll_remove(epollFD, legs[i].rtcpFD)
        _ = tdm_close(legs[i].rtpFD)
        _ = tdm_close(legs[i].rtcpFD)
        let pair = legs[i].pairIndex
        let generation = legs[i].generation &+ 1
        legs[i] = LegState()
        let position = Int(activePositions[i])
        if position >= 0 {
            let last = activeSlots.removeLast()
            if position < activeSlots.count {
                activeSlots[position] = last
                activePositions[Int(last)] = Int32(position)
            }
            activePositions[i] = -1
        }
        legs[i].generation = generation
        activeLegs -= 1
        freePairs.append(pair)
        freeSlots.append(slot)
    }

    func isValid(_ leg: MediaLegHandle) -> Bool {
        let i = Int(leg.slot)
        return i >= 0 && i < legCapacity && legs[i].isActive && legs[i].generation == leg.generation
            && legs[i].sessionNumber == leg.session.number
    }

    private func updateLeg(_ handle: MediaLegHandle, _ u: PreparedLegUpdate) -> Result<Void, MediaSessionError> {
        guard isValid(handle) else { return .failure(.unknownLeg) }
        let i = Int(handle.slot)
        if let a = u.remoteRTP {
            legs[i].signalledRTP = a
            // Signalling (re)pointed the leg at its party, e.g. on answer: its media timeout counts from now, even
            // when it already fired while the call was ringing.
            legs[i].lastRTPTick = tick
            legs[i].isTimedOut = false
        }
        if let a = u.remoteRTCP { legs[i].signalledRTCP = a }
        if let s = u.inboundSRTP { legs[i].inboundSRTP = s }
        if let s = u.outboundSRTP { legs[i].outboundSRTP = s }
        if let d = u.direction {
            // Leaving hold restarts the media timeout rather than firing it at once.
            if legs[i].direction.isHold && !d.isHold { legs[i].lastRTPTick = tick }
            legs[i].direction = d
        }
        if let s = u.strictSource { legs[i].isStrictSource = s }
        if let r = u.clockRate, r > 0 { legs[i].clockRate = UInt64(r) }
        if let b = u.blockMedia { legs[i].isMediaBlocked = b }
        if let b = u.blockDTMF { legs[i].isDTMFBlocked = b }
        if let m = u.telephoneEventMask { legs[i].telephoneEventMask = m }
        if let r = u.rewritesOutboundStream, r != legs[i].rewritesOutboundStream {
            legs[i].rewritesOutboundStream = r
            legs[i].rewriter.reset()
        }
        if let m = u.rtcpMux { legs[i].isRTCPMux = m }
        if let l = u.learnsSource {
            legs[i].learnsSource = l
            if !l {
                legs[i].rtpPeer = PeerLatch()
                legs[i].rtcpPeer = PeerLatch()
            }
        }
        return .success(())
    }

    private func link(_ a: MediaLegHandle, _ b: MediaLegHandle) -> Result<Void, MediaSessionError> {
        guard isValid(a), isValid(b) else { return .failure(.unknownLeg) }
        guard a.session == b.session else { return .failure(.legsInDifferentSessions) }
        legs[Int(a.slot)].linked = b.slot
        legs[Int(b.slot)].linked = a.slot
        return .success(())
    }

    private func query(_ session: MediaSessionHandle) -> Result<SessionStatistics, MediaSessionError> {
        guard let slots = sessions[session.number] else { return .failure(.unknownSession) }
        var result = SessionStatistics(session: session, legs: [])
        for slot in slots {
            let leg = legs[Int(slot)]
            let expected = leg.receiveStatistics.expectedPacketCount
            let lost = leg.receiveStatistics.cumulativeLost
            let lossPercent = expected > 0 ? max(0, Double(lost)) * 100 / Double(expected) : 0
            let jitterMS = leg.receiveStatistics.jitterEstimate * 1000 / Double(leg.clockRate)
            let rttMS: Double? = leg.hasRoundTrip ? Double(leg.roundTripNanoseconds) / 1_000_000 : nil
            let mos = EModel.meanOpinionScore(
                codec: .g711(), oneWayDelayMilliseconds: (rttMS ?? 0) / 2, jitterMilliseconds: jitterMS,
                packetLossPercent: lossPercent)
            result.legs.append(LegStatistics(
                leg: MediaLegHandle(session: session, slot: slot, generation: leg.generation),
                packetsIn: leg.packetsIn, bytesIn: leg.bytesIn, packetsOut: leg.packetsOut, bytesOut: leg.bytesOut,
                rtcpPacketsIn: leg.rtcpPacketsIn, dropped: leg.drops, expectedPackets: expected, cumulativeLost: lost,
                jitterMilliseconds: jitterMS, meanOpinionScore: mos, roundTripMilliseconds: rttMS, ssrc: leg.hasSSRC ? SSRC(leg.ssrc) : nil,
                peer: leg.rtpDestination.flatMap(Self.mediaAddress), isTimedOut: leg.isTimedOut,
                pipeline: leg.outPipeline?.counters))
        }
        return .success(result)
    }

    static func mediaAddress(_ a: tdm_addr) -> MediaAddress? {
        var a = a
        var text = [CChar](repeating: 0, count: 64)
        let n = tdm_addr_format_host(&a, &text, text.count)
        guard n > 0 else { return nil }
        let host = String(decoding: text[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return MediaAddress(host: host, port: Int(a.port))
    }
}
