// tandem-codec-perf: Tandem's codecs and resampler measured side by side with the C libraries
// (spandsp G.711/G.722, libopus, libspeexdsp's resampler at quality 5) in one process and one run.
// Run through `perf/run codecs`, which builds it in release mode and pins it to one CPU.
import CReference
import Codecs
import Foundation

// MARK: - Timing

/// Median nanoseconds per call of `body` over `runs` runs of `iterations` calls each.
func measure(iterations: Int, runs: Int = 9, _ body: () -> Void) -> Double {
    for _ in 0..<max(1, iterations / 10) { body() } // warm up caches and branch predictors
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        let end = DispatchTime.now().uptimeNanoseconds
        samples.append(Double(end - start) / Double(iterations))
    }
    samples.sort()
    return samples[samples.count / 2]
}

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func sine(rate: Int, count: Int, frequency: Double, amplitude: Double = 12000) -> [Int16] {
    (0..<count).map { Int16(amplitude * sin(2 * .pi * frequency * Double($0) / Double(rate))) }
}

/// A speech-like test signal: several tones and a little noise, so no codec gets an easy ride.
func testSignal(rate: Int, count: Int) -> [Int16] {
    var seed: UInt64 = 0x9e3779b97f4a7c15
    return (0..<count).map { i in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let t = Double(i) / Double(rate)
        let noise = Double(Int64(bitPattern: seed >> 11) % 600)
        let v = 5000 * sin(2 * .pi * 310 * t) + 3000 * sin(2 * .pi * 1230 * t) + 1500 * sin(2 * .pi * 2710 * t) + noise
        return Int16(max(-32768, min(32767, v)))
    }
}

struct Row {
    var name: String
    var tandem: Double
    var peer: Double
    var peerName: String
    var metric: String
    var ratio: Double { tandem / peer }
}
var rows: [Row] = []
var extraResults: [String] = []

// MARK: - G.711 (160 samples = 20 ms at 8 kHz)

do {
    let pcm = testSignal(rate: 8000, count: 160)
    var bytes = [UInt8](repeating: 0, count: 160)
    var out = [Int16](repeating: 0, count: 160)
    let spandspU = ref_g711_create(1)!, spandspA = ref_g711_create(0)!
    defer { ref_g711_free(spandspU); ref_g711_free(spandspA) }
    let iterations = 200_000

    pcm.withUnsafeBufferPointer { p in
        bytes.withUnsafeMutableBytes { b in
            let t = measure(iterations: iterations) { consume(G711.encodeULaw(p, into: b)) }
            let r = measure(iterations: iterations) {
                consume(ref_g711_encode(spandspU, b.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!, 160))
            }
            rows.append(Row(name: "G.711 µ-law encode, 160 samples", tandem: t, peer: r, peerName: "spandsp g711_encode",
                            metric: "g711.ulaw_encode_160.tandem/spandsp"))
            let ta = measure(iterations: iterations) { consume(G711.encodeALaw(p, into: b)) }
            let ra = measure(iterations: iterations) {
                consume(ref_g711_encode(spandspA, b.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!, 160))
            }
            rows.append(Row(name: "G.711 A-law encode, 160 samples", tandem: ta, peer: ra, peerName: "spandsp g711_encode",
                            metric: "g711.alaw_encode_160.tandem/spandsp"))
        }
    }
    bytes.withUnsafeBytes { b in
        out.withUnsafeMutableBufferPointer { o in
            let t = measure(iterations: iterations) { consume(G711.decodeULaw(b, into: o)) }
            let r = measure(iterations: iterations) {
                consume(ref_g711_decode(spandspU, o.baseAddress!, b.baseAddress!.assumingMemoryBound(to: UInt8.self), 160))
            }
            rows.append(Row(name: "G.711 µ-law decode, 160 samples", tandem: t, peer: r, peerName: "spandsp g711_decode",
                            metric: "g711.ulaw_decode_160.tandem/spandsp"))
            let ta = measure(iterations: iterations) { consume(G711.decodeALaw(b, into: o)) }
            let ra = measure(iterations: iterations) {
                consume(ref_g711_decode(spandspA, o.baseAddress!, b.baseAddress!.assumingMemoryBound(to: UInt8.self), 160))
            }
            rows.append(Row(name: "G.711 A-law decode, 160 samples", tandem: ta, peer: ra, peerName: "spandsp g711_decode",
                            metric: "g711.alaw_decode_160.tandem/spandsp"))
        }
    }
}

// MARK: - Resampler vs speexdsp quality 5 (20 ms frames)

/// Worst-case stopband attenuation in dB (positive) of a resampler, measured on Float samples so that
/// Int16 rounding does not set a floor: the output level of tones between 1.05 × the output Nyquist and
/// 0.95 × the input Nyquist (downsampling), relative to the output level of a 1 kHz passband tone.
/// `run` resamples a whole signal and returns the output.
func stopbandAttenuation(inRate: Int, outRate: Int, run: ([Float]) -> [Float]) -> Double {
    func level(_ x: [Float]) -> Double {
        let tail = x.dropFirst(x.count / 4) // skip the filter's start-up
        return (tail.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, tail.count))).squareRoot()
    }
    func tone(_ f: Double) -> [Float] {
        (0..<inRate).map { Float(12000 * sin(2 * .pi * f * Double($0) / Double(inRate))) }
    }
    let reference = level(run(tone(1000)))
    let low = 1.05 * Double(outRate) / 2, high = 0.95 * Double(inRate) / 2
    var worst = -300.0
    var f = low
    while f <= high {
        worst = max(worst, 20 * log10(max(level(run(tone(f))), 1e-9) / reference))
        f += (high - low) / 23
    }
    return -worst
}

for (inRate, outRate) in [(48000, 8000), (8000, 48000), (48000, 16000), (16000, 48000), (16000, 8000), (8000, 16000)] {
    let inFrame = inRate / 50, outCap = outRate / 50 + 64
    let input = testSignal(rate: inRate, count: inFrame)
    var output = [Int16](repeating: 0, count: outCap)
    guard let tandem = try? Resampler(inputRate: inRate, outputRate: outRate, chunkSize: inFrame),
          let speex = ref_speex_resampler_create(Int32(inRate), Int32(outRate), 5) else {
        print("cannot create resamplers for \(inRate)->\(outRate)")
        exit(1)
    }
    defer { ref_speex_resampler_free(speex) }
    let iterations = 20_000
    let (t, r) = input.withUnsafeBufferPointer { p in
        output.withUnsafeMutableBufferPointer { o in
            (measure(iterations: iterations) { consume(tandem.process(p, into: o)) },
             measure(iterations: iterations) { consume(ref_speex_resample(speex, p.baseAddress!, Int32(inFrame), o.baseAddress!, Int32(outCap))) })
        }
    }
    let name = "\(inRate / 1000)k_to_\(outRate / 1000)k"
    rows.append(Row(name: "resample 20 ms \(inRate / 1000)→\(outRate / 1000) kHz", tandem: t, peer: r, peerName: "speexdsp q5",
                    metric: "resampler.\(name).tandem/speexdsp_q5"))
    if inRate > outRate {
        func runTandem(_ x: [Float]) -> [Float] {
            guard let rs = try? Resampler(inputRate: inRate, outputRate: outRate, chunkSize: inFrame) else { return [] }
            var result: [Float] = []
            var buf = [Float](repeating: 0, count: outCap)
            var i = 0
            while i + inFrame <= x.count {
                let n = x[i..<i + inFrame].withUnsafeBufferPointer { p in buf.withUnsafeMutableBufferPointer { rs.process(p, into: $0) } }
                result += buf[0..<n]
                i += inFrame
            }
            return result
        }
        func runSpeex(_ x: [Float]) -> [Float] {
            guard let rs = ref_speex_resampler_create(Int32(inRate), Int32(outRate), 5) else { return [] }
            defer { ref_speex_resampler_free(rs) }
            var result: [Float] = []
            var buf = [Float](repeating: 0, count: outCap)
            var i = 0
            while i + inFrame <= x.count {
                let n = x[i..<i + inFrame].withUnsafeBufferPointer { p in
                    buf.withUnsafeMutableBufferPointer { ref_speex_resample_float(rs, p.baseAddress!, Int32(inFrame), $0.baseAddress!, Int32(outCap)) }
                }
                result += buf[0..<Int(n)]
                i += inFrame
            }
            return result
        }
        let at = stopbandAttenuation(inRate: inRate, outRate: outRate, run: runTandem)
        let ar = stopbandAttenuation(inRate: inRate, outRate: outRate, run: runSpeex)
        extraResults.append("RESULT resampler.\(name).stopband_attenuation.tandem \(String(format: "%.1f", at)) dB")
        extraResults.append("RESULT resampler.\(name).stopband_attenuation.speexdsp_q5 \(String(format: "%.1f", ar)) dB")
    }
}

// MARK: - Opus and G.722: Tandem's wrappers vs the C libraries called directly

do {
    let pcm48 = testSignal(rate: 48000, count: 960)
    var packet = [UInt8](repeating: 0, count: 1500)
    var decoded = [Int16](repeating: 0, count: 960)
    let config = OpusEncoderConfiguration(sampleRate: 48000, channels: 1, application: .voip, bitrate: 32000)
    guard let wrapper = try? OpusEncoder(configuration: config), let wrapperDec = try? OpusDecoder(sampleRate: 48000, channels: 1),
          let direct = ref_opus_encoder_create(48000, 32000, Int32(config.complexity)), let directDec = ref_opus_decoder_create(48000) else {
        print("cannot create Opus codecs"); exit(1)
    }
    defer { ref_opus_encoder_free(direct); ref_opus_decoder_free(directDec) }
    let iterations = 2_000
    pcm48.withUnsafeBufferPointer { p in
        packet.withUnsafeMutableBytes { b in
            let t = measure(iterations: iterations) { consume(try? wrapper.encode(p, into: b)) }
            let r = measure(iterations: iterations) {
                consume(ref_opus_encode(direct, p.baseAddress!, 960, b.baseAddress!.assumingMemoryBound(to: UInt8.self), 1500))
            }
            rows.append(Row(name: "Opus encode 20 ms @48 kHz, 32 kbit/s", tandem: t, peer: r, peerName: "libopus direct",
                            metric: "opus.encode_20ms.tandem/libopus"))
        }
    }
    let length = pcm48.withUnsafeBufferPointer { p in packet.withUnsafeMutableBytes { b in (try? wrapper.encode(p, into: b)) ?? 0 } }
    packet.withUnsafeBytes { raw in
        let payload = UnsafeRawBufferPointer(rebasing: raw[0..<length])
        decoded.withUnsafeMutableBufferPointer { o in
            let t = measure(iterations: iterations * 4) { consume(try? wrapperDec.decode(payload, into: o)) }
            let r = measure(iterations: iterations * 4) {
                consume(ref_opus_decode(directDec, payload.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(length), o.baseAddress!, 960))
            }
            rows.append(Row(name: "Opus decode 20 ms @48 kHz", tandem: t, peer: r, peerName: "libopus direct",
                            metric: "opus.decode_20ms.tandem/libopus"))
        }
    }

    let pcm16 = testSignal(rate: 16000, count: 320)
    guard let g722 = try? G722Encoder(), let g722Dec = try? G722Decoder(),
          let g722Direct = ref_g722_encoder_create(), let g722DirectDec = ref_g722_decoder_create() else {
        print("cannot create G.722 codecs"); exit(1)
    }
    defer { ref_g722_encoder_free(g722Direct); ref_g722_decoder_free(g722DirectDec) }
    pcm16.withUnsafeBufferPointer { p in
        packet.withUnsafeMutableBytes { b in
            let t = measure(iterations: 20_000) { consume(try? g722.encode(p, into: b)) }
            let r = measure(iterations: 20_000) {
                consume(ref_g722_encode(g722Direct, b.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!, 320))
            }
            rows.append(Row(name: "G.722 encode 20 ms", tandem: t, peer: r, peerName: "spandsp direct", metric: "g722.encode_20ms.tandem/spandsp"))
        }
    }
    packet.withUnsafeBytes { raw in
        let payload = UnsafeRawBufferPointer(rebasing: raw[0..<160])
        decoded.withUnsafeMutableBufferPointer { o in
            let t = measure(iterations: 20_000) { consume(try? g722Dec.decode(payload, into: o)) }
            let r = measure(iterations: 20_000) {
                consume(ref_g722_decode(g722DirectDec, o.baseAddress!, payload.baseAddress!.assumingMemoryBound(to: UInt8.self), 160))
            }
            rows.append(Row(name: "G.722 decode 20 ms", tandem: t, peer: r, peerName: "spandsp direct", metric: "g722.decode_20ms.tandem/spandsp"))
        }
    }
}

// MARK: - Report

print("")
print("| operation | Tandem (ns) | peer | peer (ns) | Tandem/peer |")
print("| --- | ---: | --- | ---: | ---: |")
for row in rows {
    print("| \(row.name) | \(String(format: "%.0f", row.tandem)) | \(row.peerName) | \(String(format: "%.0f", row.peer)) | \(String(format: "%.3f", row.ratio)) |")
}
print("")
for row in rows {
    print("RESULT \(row.metric) \(String(format: "%.3f", row.ratio))")
}
for line in extraResults { print(line) }
