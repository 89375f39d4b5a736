/// A packet trace for replaying a jitter buffer in simulated time, with deterministic generators.
///
/// Times are milliseconds on the receiver's clock. Packets that the network lost are kept (with `arrivalMs`
/// nil) so a replay can tell concealment of a lost packet from concealment of a late one. Generators use a
/// fixed-seed PRNG, so each trace is the same on every run. Building a trace allocates; it is test/bench code.
public struct JitterTrace: Sendable {
    /// One sent packet.
    public struct Packet: Sendable, Equatable {
        /// Send time on the receiver's clock, ms.
        public var sendMs: Double
        /// Arrival time, ms; nil if the network lost it.
        public var arrivalMs: Double?
        /// RTP sequence number.
        public var sequenceNumber: UInt16
        /// RTP timestamp.
        public var timestamp: UInt32
        /// RTP SSRC.
        public var ssrc: UInt32
        /// Payload size in bytes.
        public var payloadSize: Int
        /// RTP marker bit.
        public var hasMarker: Bool
        /// RFC 3389 comfort-noise packet.
        public var isComfortNoise: Bool
    }

    /// Name for reports.
    public var name: String
    /// Sent packets in send order; duplicates appear as extra entries.
    public var packets: [Packet]
    /// RTP clock rate, Hz.
    public var clockRate: Int
    /// Packet duration, ms.
    public var frameMs: Int
    /// The smallest one-way network delay in the trace, ms.
    public var baseDelayMs: Double

    /// A trace from explicit packets.
    public init(name: String, packets: [Packet], clockRate: Int = 8000, frameMs: Int = 20, baseDelayMs: Double = 30) {
        self.name = name
        self.packets = packets
        self.clockRate = clockRate
        self.frameMs = frameMs
        self.baseDelayMs = baseDelayMs
    }
}

/// SplitMix64: a tiny deterministic generator for traces and tests.
public struct TracePRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// A generator from `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Uniform in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
}

extension JitterTrace {
    /// The common sender: 20 ms packets of 160 bytes at 8 kHz; `delay(i, sendMs)` gives the network delay
    /// (nil = lost). `driftPPM` > 0 means the sender's clock runs fast. Sequence numbers and timestamps start
    /// near their wrap points so every trace crosses a wrap.
    static func make(
        name: String, seconds: Double, driftPPM: Double = 0, baseDelayMs: Double = 30,
        seqStart: UInt16 = 65_000, tsStart: UInt32 = 0xFFFF_0000, ssrc: UInt32 = 0x1234_5678,
        delay: (Int, Double) -> Double?
    ) -> JitterTrace {
        let count = Int(seconds * 50)
        let period = 20.0 / (1 + driftPPM * 1e-6)
        var packets: [Packet] = []
        packets.reserveCapacity(count)
        for i in 0..<count {
            let send = 100 + Double(i) * period
            let d = delay(i, send)
            packets.append(Packet(
                sendMs: send, arrivalMs: d.map { send + $0 }, sequenceNumber: seqStart &+ UInt16(truncatingIfNeeded: i),
                timestamp: tsStart &+ UInt32(truncatingIfNeeded: i * 160), ssrc: ssrc, payloadSize: 160,
                hasMarker: i == 0, isComfortNoise: false))
        }
        return JitterTrace(name: name, packets: packets, baseDelayMs: baseDelayMs)
    }

    /// Constant 30 ms network delay, no loss.
    public static func clean(seconds: Double = 30) -> JitterTrace {
        make(name: "clean", seconds: seconds) { _, _ in 30 }
    }

    /// Network delay uniform in 30 + [0, 2·amplitude) ms (±amplitude around its mean); reordering happens naturally.
    public static func uniformJitter(amplitudeMs: Double = 40, seconds: Double = 40, seed: UInt64 = 1) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        return make(name: "jitter±\(Int(amplitudeMs))", seconds: seconds) { _, _ in 30 + rng.uniform(0, 2 * amplitudeMs) }
    }

    /// Small jitter with occasional delay spikes: the link stalls for `spikeMs`, and everything sent during the
    /// stall arrives in a burst when it ends. Spikes every 5–9 s during the first `spikySeconds`, then calm.
    public static func spiky(spikeMs: Double = 200, seconds: Double = 60, spikySeconds: Double = 35, seed: UInt64 = 2) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        var stalls: [Double] = []
        var t = 3000.0
        while t < spikySeconds * 1000 {
            stalls.append(t)
            t += rng.uniform(5000, 9000)
        }
        return make(name: "spiky", seconds: seconds) { _, send in
            var d = 30 + rng.uniform(0, 5)
            for s in stalls where send >= s && send < s + spikeMs { d = max(d, s + spikeMs + 30 - send + rng.uniform(0, 1)) }
            return d
        }
    }

    /// Independent random loss with probability `rate`, 30–40 ms delay.
    public static func randomLoss(rate: Double = 0.05, seconds: Double = 40, seed: UInt64 = 3) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        return make(name: "loss\(Int(rate * 100))%", seconds: seconds) { _, _ in
            let lost = rng.unit() < rate
            let d = 30 + rng.uniform(0, 10)
            return lost ? nil : d
        }
    }

    /// Burst loss (Gilbert–Elliott-like): bursts of 3–10 consecutive packets, about `rate` overall.
    public static func burstLoss(rate: Double = 0.05, seconds: Double = 40, seed: UInt64 = 4) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        var remaining = 0
        // Mean burst 6.5 packets: start a burst with probability rate / 6.5 per good packet.
        return make(name: "burst-loss", seconds: seconds) { _, _ in
            let d = 30 + rng.uniform(0, 10)
            if remaining > 0 { remaining -= 1; return nil }
            if rng.unit() < rate / 6.5 {
                remaining = 2 + Int(rng.next() % 8)
                return nil
            }
            return d
        }
    }

    /// `rate` of packets swapped with their successor (the successor arrives first), small jitter otherwise.
    public static func reordering(rate: Double = 0.05, seconds: Double = 40, seed: UInt64 = 5) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        var trace = make(name: "reorder", seconds: seconds) { _, _ in 30 + rng.uniform(0, 4) }
        var i = 0
        while i + 1 < trace.packets.count {
            if rng.unit() < rate, let a = trace.packets[i].arrivalMs, let b = trace.packets[i + 1].arrivalMs {
                trace.packets[i].arrivalMs = b + 1
                trace.packets[i + 1].arrivalMs = a + 19
                i += 2
            } else {
                i += 1
            }
        }
        return trace
    }

    /// Sender clock off by `ppm` (positive: fast), 30–40 ms delay.
    public static func drift(ppm: Double, seconds: Double = 300, seed: UInt64 = 6) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        return make(name: "drift\(ppm > 0 ? "+" : "")\(Int(ppm))ppm", seconds: seconds, driftPPM: ppm) { _, _ in 30 + rng.uniform(0, 10) }
    }

    /// `rate` of packets duplicated, the copy arriving 5–30 ms after the original.
    public static func duplicates(rate: Double = 0.03, seconds: Double = 30, seed: UInt64 = 7) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        var trace = make(name: "duplicates", seconds: seconds) { _, _ in 30 + rng.uniform(0, 5) }
        var out: [Packet] = []
        for p in trace.packets {
            out.append(p)
            if rng.unit() < rate, let a = p.arrivalMs {
                var copy = p
                copy.arrivalMs = a + rng.uniform(5, 30)
                out.append(copy)
            }
        }
        trace.packets = out
        return trace
    }

    /// Talkspurts of 2–4 s separated by 1–2 s silences (DTX): no packets during silence, then a marker packet
    /// whose timestamp jumped by the silence. With `comfortNoise`, one RFC 3389 CN packet opens each silence.
    public static func dtx(comfortNoise: Bool, seconds: Double = 40, seed: UInt64 = 8) -> JitterTrace {
        var rng = TracePRNG(seed: seed)
        var packets: [Packet] = []
        var seq: UInt16 = 100
        var frame = 0  // 20 ms frame index on the sender's timeline
        var talkEnd = Int(rng.uniform(100, 200))
        var marker = true
        let total = Int(seconds * 50)
        while frame < total {
            let send = 100 + Double(frame) * 20
            packets.append(Packet(sendMs: send, arrivalMs: send + 30 + rng.uniform(0, 20), sequenceNumber: seq,
                                  timestamp: 5000 &+ UInt32(frame * 160), ssrc: 77, payloadSize: 160, hasMarker: marker, isComfortNoise: false))
            marker = false
            seq &+= 1
            frame += 1
            if frame >= talkEnd {
                if comfortNoise {
                    let cnSend = 100 + Double(frame) * 20
                    packets.append(Packet(sendMs: cnSend, arrivalMs: cnSend + 30 + rng.uniform(0, 20), sequenceNumber: seq,
                                          timestamp: 5000 &+ UInt32(frame * 160), ssrc: 77, payloadSize: 1, hasMarker: false, isComfortNoise: true))
                    seq &+= 1
                }
                frame += Int(rng.uniform(50, 100))
                talkEnd = frame + Int(rng.uniform(100, 200))
                marker = true
            }
        }
        return JitterTrace(name: comfortNoise ? "dtx+cn" : "dtx", packets: packets)
    }

    /// Clean stream whose timestamps jump forward by `jumpTicks` halfway (sequence numbers stay contiguous).
    public static func timestampJump(jumpTicks: UInt32 = 8_000_000, seconds: Double = 30) -> JitterTrace {
        var trace = clean(seconds: seconds)
        trace.name = "timestamp-jump"
        for i in trace.packets.count / 2..<trace.packets.count { trace.packets[i].timestamp &+= jumpTicks }
        return trace
    }

    /// Clean stream that switches to a new SSRC with unrelated sequence numbers and timestamps halfway.
    public static func ssrcChange(seconds: Double = 30) -> JitterTrace {
        var trace = clean(seconds: seconds)
        trace.name = "ssrc-change"
        let half = trace.packets.count / 2
        for i in half..<trace.packets.count {
            trace.packets[i].ssrc = 0xCAFE_F00D
            trace.packets[i].sequenceNumber = 1000 &+ UInt16(truncatingIfNeeded: i - half)
            trace.packets[i].timestamp = 0x4000_0000 &+ UInt32(truncatingIfNeeded: (i - half) * 160)
            trace.packets[i].hasMarker = i == half
        }
        return trace
    }
}
