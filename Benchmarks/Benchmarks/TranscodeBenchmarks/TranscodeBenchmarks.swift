import Benchmark
import Foundation
import BenchmarkSupport
import Codecs
import MediaEngine
import TandemBase

/// One transcoded frame per iteration: receive one 20 ms packet and produce the outgoing one, through
/// `AudioPipeline` in simulated time. Allocation counts are gated by Thresholds/ (zero once warm).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .tandemHotPath()

    /// 20 ms payloads of a 400 Hz tone encoded by `format`'s codec.
    func payloads(_ opus: Bool) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var out = [UInt8](repeating: 0, count: 1500)
        let rate = opus ? 48000 : 8000
        let frame = rate / 50
        let encoder = try! OpusEncoder(configuration: OpusEncoderConfiguration(sampleRate: 48000))
        let g711 = G711Encoder(law: .uLaw)
        for f in 0..<50 {
            let pcm = (0..<frame).map { Int16(8000 * sin(2 * .pi * 400 * Double(f * frame + $0) / Double(rate))) }
            let n = pcm.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBytes { o in opus ? try! encoder.encode(p, into: o) : try! g711.encode(p, into: o) }
            }
            result.append(Array(out[0..<n]))
        }
        return result
    }

    func run(_ benchmark: Benchmark, input: AudioEndpointFormat, output: AudioEndpointFormat, isOpusInput: Bool) {
        let pipeline = try! AudioPipeline(input: input, output: output, ssrc: 1, sequenceNumber: 0, timestamp: 0)
        let step = UInt32(input.codec.timestampIncrement(milliseconds: 20))
        let packets = payloads(isOpusInput).enumerated().map { index, payload -> [UInt8] in
            var header: [UInt8] = [0x80, input.payloadType, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]
            header[2] = 0; header[3] = UInt8(index)
            return header + payload
        }
        var buffer = [UInt8](repeating: 0, count: 1500)
        var packet = [UInt8](repeating: 0, count: 1500)
        var seq: UInt16 = 0
        var ts: UInt32 = 0
        var clock: UInt64 = 1_000_000_000
        func frame(_ index: Int) -> Int {
            let source = packets[index % packets.count]
            let length = source.count
            packet.withUnsafeMutableBytes { p in
                source.withUnsafeBytes { p.copyMemory(from: $0) }
                p[2] = UInt8(seq >> 8); p[3] = UInt8(seq & 0xFF)
                p.storeBytes(of: ts.bigEndian, toByteOffset: 4, as: UInt32.self)
            }
            let now = Instant(nanoseconds: clock)
            _ = packet.withUnsafeBytes { pipeline.receive(UnsafeRawBufferPointer(rebasing: $0[0..<length]), now: now) }
            var produced = 0
            buffer.withUnsafeMutableBytes { b in
                while true {
                    let n = pipeline.produce(now: now, into: b)
                    if n == 0 { break }
                    produced += n
                }
            }
            seq &+= 1; ts &+= step; clock += 20_000_000
            return produced
        }
        for i in 0..<200 { _ = frame(i) }  // warm: jitter buffer playing, codecs primed
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(frame(i)) }
    }

    Benchmark("MediaEngine.AudioPipeline.frame.pcmuToOpus") { benchmark in
        run(benchmark, input: AudioEndpointFormat(codec: .pcmu, payloadType: 0),
            output: AudioEndpointFormat(codec: .opus, payloadType: 111), isOpusInput: false)
    }
    Benchmark("MediaEngine.AudioPipeline.frame.opusToPCMU") { benchmark in
        run(benchmark, input: AudioEndpointFormat(codec: .opus, payloadType: 111),
            output: AudioEndpointFormat(codec: .pcmu, payloadType: 0), isOpusInput: true)
    }
}
