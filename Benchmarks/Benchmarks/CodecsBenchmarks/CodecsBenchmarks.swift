import Benchmark
import BenchmarkSupport
import Codecs
import Foundation

/// Per-frame costs of the codecs and the resampler. Buffers and codec state are created before the
/// measured region; allocation counts are gated by Thresholds/ (zero once warm).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .tandemHotPath()

    func signal(rate: Int, count: Int) -> [Int16] {
        (0..<count).map { i in
            let t = Double(i) / Double(rate)
            return Int16(6000 * sin(2 * .pi * 310 * t) + 3000 * sin(2 * .pi * 1230 * t))
        }
    }

    Benchmark("Codecs.G711.encodeULaw.160") { benchmark in
        let pcm = signal(rate: 8000, count: 160)
        var out = [UInt8](repeating: 0, count: 160)
        pcm.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBytes { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(G711.encodeULaw(p, into: o)) }
            }
        }
    }

    Benchmark("Codecs.G711.decodeULaw.160") { benchmark in
        let bytes = [UInt8]((0..<160).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        var out = [Int16](repeating: 0, count: 160)
        bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBufferPointer { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(G711.decodeULaw(b, into: o)) }
            }
        }
    }

    Benchmark("Codecs.Opus.encode.20ms48k", configuration: .tandemHotPath(maxDuration: .seconds(3), maxIterations: 20)) { benchmark in
        let pcm = signal(rate: 48000, count: 960)
        var out = [UInt8](repeating: 0, count: 1500)
        guard let encoder = try? OpusEncoder(configuration: .init(bitrate: 32000)) else { return }
        pcm.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBytes { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try? encoder.encode(p, into: o)) }
            }
        }
    }

    Benchmark("Codecs.Opus.decode.20ms48k", configuration: .tandemHotPath(maxDuration: .seconds(3), maxIterations: 20)) { benchmark in
        let pcm = signal(rate: 48000, count: 960)
        var packet = [UInt8](repeating: 0, count: 1500)
        var out = [Int16](repeating: 0, count: 960)
        guard let encoder = try? OpusEncoder(configuration: .init(bitrate: 32000)),
              let decoder = try? OpusDecoder(sampleRate: 48000, channels: 1) else { return }
        let length = pcm.withUnsafeBufferPointer { p in packet.withUnsafeMutableBytes { (try? encoder.encode(p, into: $0)) ?? 0 } }
        packet.withUnsafeBytes { raw in
            let payload = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            out.withUnsafeMutableBufferPointer { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try? decoder.decode(payload, into: o)) }
            }
        }
    }

    Benchmark("Codecs.Resampler.process.20ms48kTo16k") { benchmark in
        let input = signal(rate: 48000, count: 960)
        var out = [Int16](repeating: 0, count: 400)
        guard let resampler = try? Resampler(inputRate: 48000, outputRate: 16000, chunkSize: 960) else { return }
        input.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(resampler.process(p, into: o)) }
            }
        }
    }

    Benchmark("Codecs.Resampler.process.20ms8kTo48k") { benchmark in
        let input = signal(rate: 8000, count: 160)
        var out = [Int16](repeating: 0, count: 1100)
        guard let resampler = try? Resampler(inputRate: 8000, outputRate: 48000, chunkSize: 160) else { return }
        input.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(resampler.process(p, into: o)) }
            }
        }
    }
}
