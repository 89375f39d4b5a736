// tandem-transcode-perf: the CPU cost of one PCMU↔Opus 20 ms transcoded call through Tandem's AudioPipeline
// (two directions, 50 frames/s each), against the bare codec work at the same settings (G.711 decode + Opus encode
// + Opus decode + G.711 encode) measured in a loop in the same run, plus an Opus complexity sweep.
// Run through `perf/run transcode`, which pins it to one CPU and compares with rtpengine.
//
//   tandem-transcode-perf                 measure and print `TANDEM` / `BARE` lines (µs of CPU per call-second)
//   tandem-transcode-perf --write DIR     also write the load generator's inputs: DIR/pcmu.pkts and DIR/opus.pkts,
//                                         10 s of 20 ms payloads, each as a 2-byte big-endian length then the bytes
import Codecs
import Foundation
import MediaEngine
import TandemBase

/// CPU time of this thread, in nanoseconds.
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// A speech-like signal: tones and a little noise with a syllable-rate envelope, so no codec gets an easy ride.
func testSignal(rate: Int, seconds: Int) -> [Int16] {
    var seed: UInt64 = 0x9e37_79b9_7f4a_7c15
    return (0..<(rate * seconds)).map { i in
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let t = Double(i) / Double(rate)
        let envelope = 0.55 + 0.45 * sin(2 * .pi * 3.3 * t)
        let noise = Double(Int64(bitPattern: seed >> 11) % 600)
        let v = envelope * (5000 * sin(2 * .pi * 310 * t) + 3000 * sin(2 * .pi * 1230 * t) + 1500 * sin(2 * .pi * 2710 * t)) + noise
        return Int16(max(-32768, min(32767, v)))
    }
}

let seconds = 10
let frames = seconds * 50
// The G.711 side: 8 kHz PCMU. The Opus side: what a WebRTC endpoint sends, fullband 48 kHz at libopus's defaults.
let pcm8 = testSignal(rate: 8000, seconds: seconds)
let pcm48 = testSignal(rate: 48000, seconds: seconds)
var pcmuPayloads: [[UInt8]] = []
var opusPayloads: [[UInt8]] = []
do {
    let g711 = G711Encoder(law: .uLaw)
    let opus = try OpusEncoder(configuration: OpusEncoderConfiguration(sampleRate: 48000, complexity: 9))
    var out = [UInt8](repeating: 0, count: 1500)
    for f in 0..<frames {
        try pcm8.withUnsafeBufferPointer { p in
            let n = try out.withUnsafeMutableBytes { try g711.encode(UnsafeBufferPointer(rebasing: p[f * 160..<(f + 1) * 160]), into: $0) }
            pcmuPayloads.append(Array(out[0..<n]))
        }
        try pcm48.withUnsafeBufferPointer { p in
            let n = try out.withUnsafeMutableBytes { try opus.encode(UnsafeBufferPointer(rebasing: p[f * 960..<(f + 1) * 960]), into: $0) }
            opusPayloads.append(Array(out[0..<n]))
        }
    }
}

let arguments = CommandLine.arguments
if let index = arguments.firstIndex(of: "--write"), index + 1 < arguments.count {
    let dir = arguments[index + 1]
    for (name, payloads) in [("pcmu.pkts", pcmuPayloads), ("opus.pkts", opusPayloads)] {
        var data = Data()
        for p in payloads { data.append(contentsOf: [UInt8(p.count >> 8), UInt8(p.count & 0xFF)] + p) }
        try data.write(to: URL(fileURLWithPath: dir + "/" + name))
    }
}

func rtp(_ pt: UInt8, _ seq: UInt16, _ ts: UInt32, _ payload: [UInt8]) -> [UInt8] {
    [0x80, pt, UInt8(seq >> 8), UInt8(seq & 0xFF), UInt8(ts >> 24), UInt8((ts >> 16) & 0xFF), UInt8((ts >> 8) & 0xFF),
     UInt8(ts & 0xFF), 0, 0, 0x12, 0x34] + payload
}

let pcmuFormat = AudioEndpointFormat(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: 101)
let opusFormat = AudioEndpointFormat(codec: .opus, payloadType: 111, telephoneEventPayloadType: 96)
let pcmuPackets = pcmuPayloads.enumerated().map { rtp(0, UInt16($0.offset), UInt32($0.offset * 160), $0.element) }
let opusPackets = opusPayloads.enumerated().map { rtp(111, UInt16($0.offset), UInt32($0.offset * 960), $0.element) }

/// CPU nanoseconds per call-second of `calls` Tandem calls run for `rounds` × 10 s of simulated time.
@MainActor func measureTandem(complexity: Int?, calls: Int = 4, rounds: Int = 3) throws -> (Double, OpusEncoderConfiguration?) {
    var toOpus: [AudioPipeline] = []
    var toPCMU: [AudioPipeline] = []
    for c in 0..<calls {
        toOpus.append(try AudioPipeline(input: pcmuFormat, output: opusFormat, ssrc: UInt32(c), sequenceNumber: 0, timestamp: 0,
                                        opusComplexity: complexity))
        toPCMU.append(try AudioPipeline(input: opusFormat, output: pcmuFormat, ssrc: UInt32(c), sequenceNumber: 0, timestamp: 0))
    }
    var buffer = [UInt8](repeating: 0, count: 1500)
    var sent = 0
    var best = Double.infinity
    var clock: UInt64 = 1_000_000_000
    // One warm-up round, then the median of `rounds`.
    var samples: [Double] = []
    for round in 0...rounds {
        let start = threadCPUNanoseconds()
        for f in 0..<frames {
            let now = Instant(nanoseconds: clock)
            for c in 0..<calls {
                pcmuPackets[f].withUnsafeBytes { _ = toOpus[c].receive($0, now: now) }
                opusPackets[f].withUnsafeBytes { _ = toPCMU[c].receive($0, now: now) }
                buffer.withUnsafeMutableBytes { b in
                    while toOpus[c].produce(now: now, into: b) > 0 { sent += 1 }
                    while toPCMU[c].produce(now: now, into: b) > 0 { sent += 1 }
                }
            }
            clock += 20_000_000
        }
        let elapsed = Double(threadCPUNanoseconds() - start)
        if round > 0 { samples.append(elapsed / Double(calls * seconds)) }
        best = min(best, elapsed)
    }
    // Every frame must have gone through decode and encode in both directions, or the cost is not a call's.
    let expected = (rounds + 1) * frames
    for pipeline in toOpus + toPCMU {
        let c = pipeline.counters
        precondition(c.framesDecoded + c.framesConcealed >= expected - 20 && c.framesEncoded >= expected - 20,
                     "a pipeline skipped work: \(c)")
    }
    precondition(sent >= 2 * calls * (expected - 20), "pipelines produced too little: \(sent)")
    if complexity == nil {
        let a = toOpus[0].counters, b = toPCMU[0].counters
        print("CHECK per \(expected) frames: PCMU→Opus decoded \(a.framesDecoded) concealed \(a.framesConcealed) encoded \(a.framesEncoded) sent \(a.packetsSent); "
              + "Opus→PCMU decoded \(b.framesDecoded) concealed \(b.framesConcealed) encoded \(b.framesEncoded) sent \(b.packetsSent)")
    }
    samples.sort()
    return (samples[samples.count / 2], toOpus[0].opusConfiguration)
}

/// CPU nanoseconds per call-second of the bare codec work at the pipeline's settings.
@MainActor func measureBare(configuration: OpusEncoderConfiguration, rounds: Int = 3) throws -> Double {
    let uDecoder = G711Decoder(law: .uLaw)
    let uEncoder = G711Encoder(law: .uLaw)
    let opusEncoder = try OpusEncoder(configuration: configuration)
    let opusDecoder = try OpusDecoder(sampleRate: configuration.sampleRate, channels: 1)
    var pcm = [Int16](repeating: 0, count: 5760)
    var bytes = [UInt8](repeating: 0, count: 1500)
    var samples: [Double] = []
    var total = 0
    for round in 0...rounds {
        let start = threadCPUNanoseconds()
        for f in 0..<frames {
            try pcm.withUnsafeMutableBufferPointer { p in
                try bytes.withUnsafeMutableBytes { b in
                    // G.711 → Opus.
                    try pcmuPayloads[f].withUnsafeBytes { total += try uDecoder.decode($0, into: p) }
                    total += try opusEncoder.encode(UnsafeBufferPointer(rebasing: p[0..<configuration.frameSamples]), into: b)
                    // Opus → G.711.
                    let n = try opusPayloads[f].withUnsafeBytes { try opusDecoder.decode($0, into: p) }
                    total += try uEncoder.encode(UnsafeBufferPointer(rebasing: p[0..<n]), into: b)
                }
            }
        }
        let elapsed = Double(threadCPUNanoseconds() - start)
        if round > 0 { samples.append(elapsed / Double(seconds)) }
    }
    precondition(total > 0)
    samples.sort()
    return samples[samples.count / 2]
}

let (tandem, configuration) = try measureTandem(complexity: nil)
guard let configuration else { fatalError("PCMU→Opus pipeline has no Opus configuration") }
let bare = try measureBare(configuration: configuration)
print("SETTINGS Tandem Opus encoder: \(configuration.sampleRate) Hz input, mono, VoIP, complexity \(configuration.complexity), "
      + "\(configuration.isConstantBitrate ? "CBR" : "VBR"), bitrate \(configuration.bitrate.map { "\($0) bit/s" } ?? "auto"), "
      + "max bandwidth \(configuration.maxPlaybackRate) Hz, \(configuration.frameMilliseconds) ms; Opus decoder at "
      + "\(configuration.sampleRate) Hz; jitter buffer + playout DSP on both directions")
print("SETTINGS Opus side input: 48 kHz fullband libopus VoIP complexity 9, auto bitrate, mean payload "
      + "\(opusPayloads.map(\.count).reduce(0, +) / opusPayloads.count) bytes")
print(String(format: "TANDEM %.1f", tandem / 1000))
print(String(format: "BARE %.1f", bare / 1000))
// The complexity sweep behind AudioPipeline.speechOpusComplexity: call cost at each encoder complexity.
if arguments.contains("--sweep") {
    for complexity in [0, 2, 3, 5, 7, 10] {
        let (cost, _) = try measureTandem(complexity: complexity, calls: 2, rounds: 1)
        print(String(format: "SWEEP complexity %d: %.1f µs CPU per call-second", complexity, cost / 1000))
    }
}
