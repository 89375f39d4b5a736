import TandemBase

/// Runs a `JitterTrace` through a `JitterBuffer` in simulated time with a fixed pull clock, and reports delay
/// and concealment figures (NetEq's replay tool in miniature). Test and benchmark code: it allocates.
public struct JitterBufferReplay {
    /// What one replay measured.
    public struct Report: Sendable {
        /// Trace name.
        public var name: String
        /// Frames pulled after playout started.
        public var frames = 0
        /// Speech packets the sender sent (the denominator of the shares).
        public var sentSpeechPackets = 0
        /// Packets decoded (normal, accelerate, CN).
        public var playedPackets = 0
        /// Mean of (playout time − arrival time) over played packets, ms.
        public var meanAddedDelayMs = 0.0
        /// 95th percentile of (playout time − arrival time), ms.
        public var p95AddedDelayMs = 0.0
        /// Mean of (playout time − send time − base network delay), ms: the buffering delay a listener hears.
        public var meanBufferingDelayMs = 0.0
        /// Frames concealed (or filled) where the due packet was lost by the network, as a share of sent speech packets.
        public var concealedLostShare = 0.0
        /// Frames concealed (or filled) where the due packet was sent and arrived, but too late, as a share.
        public var concealedLateShare = 0.0
        /// Final buffer counters.
        public var statistics = JitterBufferStatistics()
        /// (pull time ms, buffering delay ms) for every played speech packet, in order.
        public var delaySamples: [(timeMs: Double, delayMs: Double)] = []
        /// Whether any packet was decoded twice.
        public var playedTwice = false

        /// Mean buffering delay of packets played in `[fromMs, toMs)`, or nil if none.
        public func meanBufferingDelay(fromMs: Double, toMs: Double) -> Double? {
            let window = delaySamples.filter { $0.timeMs >= fromMs && $0.timeMs < toMs }
            guard !window.isEmpty else { return nil }
            return window.map(\.delayMs).reduce(0, +) / Double(window.count)
        }
    }

    /// Replays `trace` with a pull every frame starting `pullPhaseMs` after time 0; returns the report.
    public static func run(_ trace: JitterTrace, configuration: JitterBufferConfiguration? = nil, pullPhaseMs: Double = 7) -> Report {
        let config = configuration ?? JitterBufferConfiguration(clockRate: trace.clockRate, frameDurationMs: trace.frameMs)
        let buffer = JitterBuffer(configuration: config)
        var report = Report(name: trace.name)

        // Ground truth per (seq, timestamp): did the network deliver it, and when was it sent.
        struct Key: Hashable { var seq: UInt16; var ts: UInt32 }
        var delivered: [Key: Bool] = [:]
        var sendTime: [Key: Double] = [:]
        var firstArrival: [Key: Double] = [:]
        for p in trace.packets where !p.isComfortNoise {
            let k = Key(seq: p.sequenceNumber, ts: p.timestamp)
            if delivered[k] == nil { report.sentSpeechPackets += 1 }
            delivered[k] = (delivered[k] ?? false) || p.arrivalMs != nil
            sendTime[k] = p.sendMs
            if let a = p.arrivalMs { firstArrival[k] = min(firstArrival[k] ?? .infinity, a) }
        }
        let arrivals = trace.packets.filter { $0.arrivalMs != nil }.sorted { ($0.arrivalMs ?? 0) < ($1.arrivalMs ?? 0) }
        let end = (arrivals.last?.arrivalMs ?? 0) + 3000
        let payload = [UInt8](repeating: 0x55, count: 1500)
        var played = Set<Key>()
        var added: [Double] = []
        var buffering = 0.0
        var lost = 0, late = 0
        var started = false
        var next = 0
        var t = pullPhaseMs
        payload.withUnsafeBytes { bytes in
            while t < end {
                while next < arrivals.count, let a = arrivals[next].arrivalMs, a <= t {
                    let p = arrivals[next]
                    buffer.insert(
                        JitterPacket(sequenceNumber: SequenceNumber(p.sequenceNumber), timestamp: RTPTimestamp(p.timestamp), ssrc: p.ssrc,
                                     hasMarker: p.hasMarker, isComfortNoise: p.isComfortNoise),
                        payload: UnsafeRawBufferPointer(rebasing: bytes[0..<min(p.payloadSize, bytes.count)]),
                        now: Instant(nanoseconds: UInt64(a * 1_000_000)))
                    next += 1
                }
                let d = buffer.pull(now: Instant(nanoseconds: UInt64(t * 1_000_000)))
                if d.operation != .silence { started = true }
                if started { report.frames += 1 }
                for i in 0..<d.packetCount {
                    let k = Key(seq: d.sequenceNumber.advanced(by: i).rawValue, ts: d.timestamp.advanced(by: i * config.frameSamples).rawValue)
                    report.playedPackets += 1
                    guard let arrival = firstArrival[k], let send = sendTime[k] else { continue }
                    if !played.insert(k).inserted { report.playedTwice = true }
                    added.append(t - arrival)
                    let b = t - send - trace.baseDelayMs
                    buffering += b
                    report.delaySamples.append((t, b))
                }
                if d.operation == .conceal || (d.operation == .comfortNoise && d.packetCount == 0) {
                    // A synthetic frame stands in for a real speech frame only if that frame was actually sent.
                    if let wasDelivered = delivered[Key(seq: d.sequenceNumber.rawValue, ts: d.timestamp.rawValue)] {
                        if wasDelivered { late += 1 } else { lost += 1 }
                    }
                }
                t += Double(config.frameDurationMs)
            }
        }
        if !added.isEmpty {
            report.meanAddedDelayMs = added.reduce(0, +) / Double(added.count)
            report.meanBufferingDelayMs = buffering / Double(added.count)
            added.sort()
            report.p95AddedDelayMs = added[min(added.count - 1, Int(Double(added.count) * 0.95))]
        }
        let denominator = Double(max(1, report.sentSpeechPackets))
        report.concealedLostShare = Double(lost) / denominator
        report.concealedLateShare = Double(late) / denominator
        report.statistics = buffer.statistics
        return report
    }
}
