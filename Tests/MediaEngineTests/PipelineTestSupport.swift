import Codecs
import Foundation
import MediaEngine
import RTP
import TandemBase

/// A packet a pipeline produced, parsed for assertions.
struct PipelineOutputPacket {
    var payloadType: UInt8
    var hasMarker: Bool
    var sequenceNumber: UInt16
    var timestamp: UInt32
    var ssrc: UInt32
    var payload: [UInt8]
    var producedAtMs: Int
}

/// A packet to feed a pipeline at a given arrival time.
struct PipelineInputPacket {
    var arrivalMs: Double
    var bytes: [UInt8]
}

/// A small deterministic generator (SplitMix64) so jitter and fuzz inputs are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum PipelineTestSupport {
    /// Builds an RTP packet.
    static func rtp(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32 = 0x1234_5678,
                    marker: Bool = false, payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        bytes[0] = 0x80
        bytes[1] = (marker ? 0x80 : 0) | payloadType
        bytes[2] = UInt8(sequenceNumber >> 8); bytes[3] = UInt8(sequenceNumber & 0xFF)
        for i in 0..<4 {
            bytes[4 + i] = UInt8(truncatingIfNeeded: timestamp >> (24 - 8 * UInt32(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i)))
        }
        return bytes + payload
    }

    /// A sine tone of `seconds` at `rate` Hz, amplitude `amplitude`.
    static func tone(hz: Double, rate: Int, seconds: Double, amplitude: Double = 8000) -> [Int16] {
        let count = Int(Double(rate) * seconds)
        return (0..<count).map { Int16(amplitude * sin(2 * .pi * hz * Double($0) / Double(rate))) }
    }

    /// Encodes `pcm` (at the format's encoder rate) into one payload per ptime with a fresh encoder.
    static func encodePayloads(_ pcm: [Int16], format: AudioEndpointFormat, rate: Int) throws -> [[UInt8]] {
        let frame = rate * format.ptimeMilliseconds / 1000
        var payloads: [[UInt8]] = []
        var out = [UInt8](repeating: 0, count: 4000)
        let encode: (UnsafeBufferPointer<Int16>, UnsafeMutableRawBufferPointer) throws -> Int
        switch format.codec.name.lowercased() {
        case "pcmu":
            let e = G711Encoder(law: .uLaw, frameSamples: frame); encode = { try e.encode($0, into: $1) }
        case "pcma":
            let e = G711Encoder(law: .aLaw, frameSamples: frame); encode = { try e.encode($0, into: $1) }
        case "g722":
            let e = try G722Encoder(frameSamples: frame); encode = { try e.encode($0, into: $1) }
        case "opus":
            let e = try OpusEncoder(configuration: OpusEncoderConfiguration(sampleRate: rate, frameMilliseconds: format.ptimeMilliseconds))
            encode = { try e.encode($0, into: $1) }
        default:
            let e = try L16Encoder(sampleRate: rate, frameSamples: frame); encode = { try e.encode($0, into: $1) }
        }
        var offset = 0
        while offset + frame <= pcm.count {
            let n = try pcm.withUnsafeBufferPointer { p in
                try out.withUnsafeMutableBytes { o in try encode(UnsafeBufferPointer(rebasing: p[offset..<offset + frame]), o) }
            }
            payloads.append(Array(out[0..<n]))
            offset += frame
        }
        return payloads
    }

    /// The PCM rate to generate for a format's sender.
    static func senderRate(_ format: AudioEndpointFormat) -> Int { format.codec.name.lowercased() == "opus" ? 48000 : format.codec.sampleRate }

    /// RTP packets for `payloads` sent every ptime from time 0, arriving after 40 ms ± `jitterMs` (seeded).
    static func packets(_ payloads: [[UInt8]], format: AudioEndpointFormat, jitterMs: Double = 10, seed: UInt64 = 7,
                        firstSequence: UInt16 = 1000, firstTimestamp: UInt32 = 5000) -> [PipelineInputPacket] {
        var random = SeededGenerator(seed: seed)
        let step = UInt32(format.codec.timestampIncrement(milliseconds: format.ptimeMilliseconds))
        return payloads.enumerated().map { index, payload in
            let send = Double(index * format.ptimeMilliseconds)
            let jitter = jitterMs == 0 ? 0 : Double.random(in: -jitterMs...jitterMs, using: &random)
            let bytes = rtp(payloadType: format.payloadType, sequenceNumber: firstSequence &+ UInt16(truncatingIfNeeded: index),
                            timestamp: firstTimestamp &+ UInt32(index) &* step, marker: index == 0, payload: payload)
            return PipelineInputPacket(arrivalMs: send + 40 + jitter, bytes: bytes)
        }
    }

    /// Drives `pipeline` like a worker: a 10 ms tick, packets delivered when they have arrived, `produce` until 0.
    static func run(_ pipeline: AudioPipeline, _ input: [PipelineInputPacket], untilMs end: Int) -> [PipelineOutputPacket] {
        let sorted = input.sorted { $0.arrivalMs < $1.arrivalMs }
        var next = 0
        var output: [PipelineOutputPacket] = []
        var buffer = [UInt8](repeating: 0, count: max(pipeline.maximumPacketSize, 1500))
        var t = 0
        while t <= end {
            while next < sorted.count, sorted[next].arrivalMs <= Double(t) {
                sorted[next].bytes.withUnsafeBytes { _ = pipeline.receive($0, now: Instant(nanoseconds: UInt64(sorted[next].arrivalMs * 1_000_000))) }
                next += 1
            }
            while true {
                let n = buffer.withUnsafeMutableBytes { pipeline.produce(now: Instant(nanoseconds: UInt64(t) * 1_000_000), into: $0) }
                if n == 0 { break }
                output.append(parse(Array(buffer[0..<n]), at: t))
            }
            t += 10
        }
        return output
    }

    static func parse(_ b: [UInt8], at t: Int) -> PipelineOutputPacket {
        PipelineOutputPacket(
            payloadType: b[1] & 0x7F, hasMarker: b[1] & 0x80 != 0,
            sequenceNumber: UInt16(b[2]) << 8 | UInt16(b[3]),
            timestamp: b[4..<8].reduce(0) { $0 << 8 | UInt32($1) },
            ssrc: b[8..<12].reduce(0) { $0 << 8 | UInt32($1) },
            payload: Array(b[12...]), producedAtMs: t)
    }

    /// Decodes Y's audio packets (those with `payloadType`) in order with a fresh decoder; returns PCM and its rate.
    static func decode(_ packets: [PipelineOutputPacket], format: AudioEndpointFormat) throws -> (pcm: [Int16], rate: Int) {
        var pcm: [Int16] = []
        var out = [Int16](repeating: 0, count: 6000)
        let rate: Int
        let decode: (UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Int16>) throws -> Int
        switch format.codec.name.lowercased() {
        case "pcmu": rate = 8000; let d = G711Decoder(law: .uLaw); decode = { try d.decode($0, into: $1) }
        case "pcma": rate = 8000; let d = G711Decoder(law: .aLaw); decode = { try d.decode($0, into: $1) }
        case "g722": rate = 16000; let d = try G722Decoder(); decode = { try d.decode($0, into: $1) }
        case "opus": rate = 16000; let d = try OpusDecoder(sampleRate: 16000); decode = { try d.decode($0, into: $1) }
        default:
            rate = format.codec.sampleRate
            let d = try L16Decoder(sampleRate: rate, frameSamples: rate / 50); decode = { try d.decode($0, into: $1) }
        }
        for packet in packets where packet.payloadType == format.payloadType {
            let n = try packet.payload.withUnsafeBytes { p in try out.withUnsafeMutableBufferPointer { try decode(p, $0) } }
            pcm += out[0..<n]
        }
        return (pcm, rate)
    }

    /// Power of `hz` in `pcm` by the Goertzel recurrence, normalised per sample.
    static func goertzel(_ pcm: ArraySlice<Int16>, hz: Double, rate: Int) -> Double {
        let w = 2 * Double.pi * hz / Double(rate)
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for x in pcm {
            let s = Double(x) + coefficient * s1 - s2
            s2 = s1
            s1 = s
        }
        return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / Double(pcm.count * pcm.count)
    }

    /// The frequency (25 Hz grid, 100–3500 Hz) with the most power.
    static func dominantFrequency(_ pcm: ArraySlice<Int16>, rate: Int) -> Double {
        var best = 0.0, bestPower = -1.0
        var hz = 100.0
        while hz <= 3500 {
            let p = goertzel(pcm, hz: hz, rate: rate)
            if p > bestPower { bestPower = p; best = hz }
            hz += 25
        }
        return best
    }

    /// RMS level in dBFS.
    static func levelDBFS(_ pcm: ArraySlice<Int16>) -> Double {
        let energy = pcm.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, pcm.count))
        return 10 * log10(max(energy, 1e-9) / (32768.0 * 32768.0))
    }
}
