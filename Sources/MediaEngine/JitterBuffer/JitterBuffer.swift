import TandemBase

/// A codec-agnostic audio jitter buffer driven by injected time (NetEq's split: `PacketBuffer`,
/// `DelayEstimator`, `DecisionLogic`; the DSP operations live in `PlayoutDSP`).
///
/// Use on the worker that owns the stream: `insert(_:payload:now:)` for each received packet, and every frame
/// `pull(now:)`, then decode `payload(0)` (and `payload(1)` for `.accelerate`) and apply the returned operation
/// to the decoded audio. All storage is allocated in `init`; `insert` and `pull` never allocate.
///
/// Timing model: the *playout delay* of the frame due now is `now − (send time + base delay)`, where the base
/// delay is the smallest `arrival − send time` seen recently (`DelayEstimator`). A packet with relative delay r
/// is on time iff r ≤ playout delay, so keeping the playout delay at the estimator's target (a high quantile of
/// r) bounds late losses, and accelerate/stretch keep it there against clock drift and delay changes.
public final class JitterBuffer {
    enum State { case empty, waiting, playing }

    /// The configuration this buffer was built with.
    public let configuration: JitterBufferConfiguration
    /// Counters since creation.
    public private(set) var statistics = JitterBufferStatistics()
    /// The packet storage.
    public let packets: PacketBuffer
    /// The target-delay estimator.
    public let delayEstimator: DelayEstimator
    /// The per-frame decision state machine.
    public private(set) var decisionLogic: DecisionLogic

    private var state = State.empty
    private var ssrc: UInt32 = 0
    private var nextSeq = SequenceNumber(0)
    private var nextTimestamp = RTPTimestamp(0)
    // Timestamp unwrapping: the newest timestamp seen and its extended (64-bit) value.
    private var referenceTimestamp = RTPTimestamp(0)
    private var referenceExtended: Int64 = 0
    // Bit i set: sequence number nextSeq − 1 − i was played (tells duplicates from late packets).
    private var playedMask: UInt64 = 0
    private var pendingReset = false
    private let frameSamples: Int
    private let frameMicroseconds: Int64
    private let out: UnsafeMutableRawPointer
    private var outLengths = (0, 0)
    /// Playout delay of the last pulled frame, in microseconds (0 before playout starts).
    public private(set) var playoutDelayMicroseconds: Int64 = 0

    /// A buffer for one stream. Allocates its storage once.
    public init(configuration: JitterBufferConfiguration = JitterBufferConfiguration()) {
        self.configuration = configuration
        frameSamples = max(1, configuration.frameSamples)
        frameMicroseconds = Int64(configuration.frameDurationMs) * 1000
        packets = PacketBuffer(capacity: configuration.capacity, slotSize: configuration.maximumPayloadSize)
        delayEstimator = DelayEstimator(frameMs: configuration.frameDurationMs, minimumMs: configuration.minimumDelayMs, maximumMs: configuration.maximumDelayMs)
        decisionLogic = DecisionLogic(frameMs: configuration.frameDurationMs, maximumExpandFrames: configuration.maximumExpandFrames)
        out = .allocate(byteCount: 2 * packets.slotSize, alignment: 16)
    }

    deinit { out.deallocate() }

    /// The current target delay in milliseconds.
    public var targetDelayMs: Int { Int(delayEstimator.targetMicroseconds / 1000) }
    /// Packets currently buffered.
    public var bufferedPackets: Int { packets.count }

    /// Payload `index` (0 or 1) of the last decision; valid until the next `pull`. Empty when there is none.
    public func payload(_ index: Int) -> UnsafeRawBufferPointer {
        let length = index == 0 ? outLengths.0 : index == 1 ? outLengths.1 : 0
        return UnsafeRawBufferPointer(start: out + (index == 1 ? packets.slotSize : 0), count: length)
    }

    // MARK: - Insert

    /// Takes one received packet at time `now`; copies the payload. Never allocates; bad packets are counted, not trapped on.
    @discardableResult
    public func insert(_ packet: JitterPacket, payload: UnsafeRawBufferPointer, now: Instant) -> JitterInsertResult {
        statistics.packetsReceived += 1
        guard payload.count <= packets.slotSize else {
            statistics.rejectedPackets += 1
            return .rejected
        }
        let arrival = Int64(bitPattern: now.nanoseconds / 1000)
        if state == .empty {
            restart(from: packet, signalReset: false)
            return store(packet, payload: payload, arrival: arrival)
        }
        if packet.ssrc != ssrc {
            statistics.ssrcChanges += 1
            statistics.resets += 1
            restart(from: packet, signalReset: true)
            return store(packet, payload: payload, arrival: arrival) == .inserted ? .reset : .rejected
        }
        // A timestamp jump shows as a change of (arrival − send time) far beyond any network delay change.
        if let base = delayEstimator.baseMicroseconds {
            let d = arrival - sendMicroseconds(packet.timestamp)
            let threshold = Int64(configuration.timestampJumpThresholdMs) * 1000
            if d - base > threshold || base - d > threshold {
                statistics.jumps += 1
                statistics.resets += 1
                restart(from: packet, signalReset: true)
                return store(packet, payload: payload, arrival: arrival) == .inserted ? .reset : .rejected
            }
        }
        let delta = nextSeq.distance(to: packet.sequenceNumber)
        if delta < 0 {
            if state == .waiting && -delta < packets.capacity / 2 {
                // Reordered before playout started: move the start back to the earliest packet.
                nextSeq = packet.sequenceNumber
                nextTimestamp = packet.timestamp
                return store(packet, payload: payload, arrival: arrival)
            }
            if -delta > packets.capacity {
                // Far behind anything we could still hold: the sender restarted its sequence numbers.
                statistics.jumps += 1
                statistics.resets += 1
                restart(from: packet, signalReset: true)
                return store(packet, payload: payload, arrival: arrival) == .inserted ? .reset : .rejected
            }
            if -delta <= 64 && playedMask & (1 << UInt64(-delta - 1)) != 0 {
                statistics.duplicatePackets += 1
                return .duplicate
            }
            // Late: still tells the estimator how delayed the network is (NetEq does the same).
            statistics.latePackets += 1
            delayEstimator.update(arrivalMicroseconds: arrival, sendMicroseconds: sendMicroseconds(packet.timestamp))
            return .late
        }
        if delta >= packets.capacity {
            // Overflow: the packet does not fit the window. Flush and restart from it (NetEq's flush policy).
            statistics.overflowFlushes += 1
            restart(from: packet, signalReset: false)
            return store(packet, payload: payload, arrival: arrival) == .inserted ? .flushed : .rejected
        }
        if packets.contains(packet.sequenceNumber) {
            statistics.duplicatePackets += 1
            return .duplicate
        }
        return store(packet, payload: payload, arrival: arrival)
    }

    private func store(_ packet: JitterPacket, payload: UnsafeRawBufferPointer, arrival: Int64) -> JitterInsertResult {
        let send = sendMicroseconds(packet.timestamp)
        if referenceTimestamp < packet.timestamp {
            referenceExtended += Int64(referenceTimestamp.distance(to: packet.timestamp))
            referenceTimestamp = packet.timestamp
        }
        packets.store(
            PacketBuffer.Entry(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, arrivalMicroseconds: arrival,
                               length: payload.count, hasMarker: packet.hasMarker, isComfortNoise: packet.isComfortNoise),
            payload: payload)
        delayEstimator.update(arrivalMicroseconds: arrival, sendMicroseconds: send)
        return .inserted
    }

    private func restart(from packet: JitterPacket, signalReset: Bool) {
        packets.flush()
        ssrc = packet.ssrc
        state = .waiting
        nextSeq = packet.sequenceNumber
        nextTimestamp = packet.timestamp
        referenceTimestamp = packet.timestamp
        referenceExtended = 0
        playedMask = 0
        delayEstimator.resetBase()
        decisionLogic.reset()
        if signalReset { pendingReset = true }
    }

    /// Send time of a timestamp in microseconds on the unwrapped RTP timeline.
    private func sendMicroseconds(_ ts: RTPTimestamp) -> Int64 {
        let extended = referenceExtended + Int64(referenceTimestamp.distance(to: ts))
        return extended * 1_000_000 / Int64(configuration.clockRate)
    }

    private func delay(of ts: RTPTimestamp, now: Int64) -> Int64 {
        now - (sendMicroseconds(ts) + (delayEstimator.baseMicroseconds ?? 0))
    }

    // MARK: - Pull

    /// The decision for the frame due at `now`. Call once per frame duration. Never allocates.
    public func pull(now: Instant) -> PlayoutDecision {
        outLengths = (0, 0)
        let nowUs = Int64(bitPattern: now.nanoseconds / 1000)
        let decision = decide(now: nowUs)
        statistics.record(decision.operation)
        return decision
    }

    private func decide(now: Int64) -> PlayoutDecision {
        if pendingReset {
            pendingReset = false
            return PlayoutDecision(operation: .reset, packetCount: 0, sequenceNumber: nextSeq, timestamp: nextTimestamp)
        }
        let target = delayEstimator.targetMicroseconds
        switch state {
        case .empty:
            return PlayoutDecision(operation: .silence, packetCount: 0, sequenceNumber: nextSeq, timestamp: nextTimestamp)
        case .waiting:
            guard let first = packets.first(from: nextSeq, limit: packets.capacity), let e = packets.entry(first),
                  delay(of: e.timestamp, now: now) >= target - frameMicroseconds / 2
            else {
                return PlayoutDecision(operation: .silence, packetCount: 0, sequenceNumber: nextSeq, timestamp: nextTimestamp)
            }
            state = .playing
            nextSeq = first
            nextTimestamp = e.timestamp
        case .playing:
            break
        }

        playoutDelayMicroseconds = delay(of: nextTimestamp, now: now)
        // Look at the head: the due packet, or the first later one, and whether a timestamp gap (DTX) precedes it.
        let head: PlayoutHead
        var talkspurtSeq = nextSeq
        var talkspurtTimestamp = nextTimestamp
        if let e = packets.entry(nextSeq) {
            if nextTimestamp.distance(to: e.timestamp) > frameSamples / 2 {
                head = .talkspurt(isDue: delay(of: e.timestamp, now: now) >= target - frameMicroseconds / 2)
                talkspurtTimestamp = e.timestamp
            } else {
                let following = packets.entry(nextSeq.advanced(by: 1))
                let contiguous = following.map { e.timestamp.distance(to: $0.timestamp) == frameSamples && !$0.isComfortNoise } ?? false
                head = .due(isComfortNoise: e.isComfortNoise, hasFollowing: contiguous)
            }
        } else if let later = packets.first(from: nextSeq.advanced(by: 1), limit: packets.capacity - 1), let e = packets.entry(later) {
            let expected = nextTimestamp.advanced(by: nextSeq.distance(to: later) * frameSamples)
            if expected.distance(to: e.timestamp) > frameSamples / 2 {
                head = .talkspurt(isDue: delay(of: e.timestamp, now: now) >= target - frameMicroseconds / 2)
                talkspurtSeq = later
                talkspurtTimestamp = e.timestamp
            } else {
                head = .missing
                talkspurtSeq = later
            }
        } else {
            head = .empty
        }

        let action = decisionLogic.decide(head: head, playoutDelay: playoutDelayMicroseconds, target: target)
        let seq = nextSeq, ts = nextTimestamp
        switch action {
        case .normal:
            return play(count: 1, operation: .normal)
        case .accelerate:
            return play(count: 2, operation: .accelerate)
        case .stretch, .concealInPlace:
            return PlayoutDecision(operation: action.operation, packetCount: 0, sequenceNumber: seq, timestamp: ts)
        case .concealAndSkip:
            advance(played: false)
            nextTimestamp = ts.advanced(by: frameSamples)
            return PlayoutDecision(operation: .conceal, packetCount: 0, sequenceNumber: seq, timestamp: ts)
        case .skipToNext, .startTalkspurt:
            while nextSeq != talkspurtSeq { advance(played: false) }
            if action == .startTalkspurt { nextTimestamp = talkspurtTimestamp }
            return play(count: 1, operation: .normal)
        case .comfortNoise(let consumes):
            if consumes { return play(count: 1, operation: .comfortNoise) }
            return PlayoutDecision(operation: .comfortNoise, packetCount: 0, sequenceNumber: seq, timestamp: ts)
        }
    }

    /// Copies `count` packets from the playout point into the output area and moves the playout point past them.
    private func play(count: Int, operation: PlayoutOperation) -> PlayoutDecision {
        let first = nextSeq
        var ts = nextTimestamp
        for i in 0..<count {
            let seq = nextSeq
            let view = packets.payload(seq)
            if let e = packets.entry(seq) { ts = i == 0 ? e.timestamp : ts }
            if let base = view.baseAddress, view.count > 0 {
                (out + i * packets.slotSize).copyMemory(from: base, byteCount: view.count)
            }
            if i == 0 { outLengths.0 = view.count } else { outLengths.1 = view.count }
            packets.remove(seq)
            advance(played: true)
        }
        let decision = PlayoutDecision(operation: operation, packetCount: count, sequenceNumber: first, timestamp: ts)
        nextTimestamp = ts.advanced(by: count * frameSamples)
        return decision
    }

    private func advance(played: Bool) {
        if !played && packets.contains(nextSeq) { packets.remove(nextSeq) }
        if !played { statistics.skippedPackets += 1 }
        playedMask = (playedMask << 1) | (played ? 1 : 0)
        nextSeq = nextSeq.advanced(by: 1)
    }
}
