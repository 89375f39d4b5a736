import MediaEngine
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tests of the DSP operations on synthetic voiced audio (a 200 Hz tone with a harmonic at 8 kHz: 40-sample pitch).
@Suite struct JitterBufferDSPTests {
    static func voiced(_ count: Int, from start: Int = 0, amplitude: Float = 8000) -> [Int16] {
        (start..<(start + count)).map { n in
            let x = Float(n) * 2 * .pi * 200 / 8000
            return Int16(amplitude * (0.7 * sinf(x) + 0.3 * sinf(2 * x)))
        }
    }

    /// Largest absolute difference between consecutive samples.
    static func maxStep(_ s: [Int16]) -> Int {
        zip(s, s.dropFirst()).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    static func rms(_ s: ArraySlice<Int16>) -> Double {
        (s.map { Double($0) * Double($0) }.reduce(0, +) / Double(max(1, s.count))).squareRoot()
    }

    @Test func pitchEstimatorFindsThePeriod() {
        let s = Self.voiced(400)
        let lag = s.withUnsafeBufferPointer { PitchEstimator.period(of: $0, minLag: 20, maxLag: 120, window: 120) }
        #expect(lag == 40)
    }

    @Test func accelerateHalvesWithoutClicks() {
        let input = Self.voiced(320)
        let smooth = Self.maxStep(input)
        var out = [Int16](repeating: 0, count: 160)
        let a = Accelerate(frameSamples: 160, overlap: 40)
        input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { _ = a.process(input: i, output: $0) } }
        // Removing 160 samples (4 whole periods) at an in-phase point leaves a seamless tone.
        #expect(Self.maxStep(out) <= smooth + 200)
        #expect(abs(Self.rms(out[...]) - Self.rms(input[...])) < 500)
    }

    @Test func expandRepeatsThePeriodAndFadesOut() {
        let history = Self.voiced(480)
        var e = Expand(frameSamples: 160, sampleRate: 8000)
        var frames: [[Int16]] = []
        for _ in 0..<6 {
            var out = [Int16](repeating: 0, count: 160)
            history.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { e.process(history: h, output: $0) } }
            frames.append(out)
        }
        // The first frame continues the tone: it matches the true continuation closely and joins without a click.
        let truth = Self.voiced(160, from: 480)
        let error = zip(frames[0], truth).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(error < 300, "\(error)")
        #expect(abs(Int(history.last ?? 0) - Int(frames[0][0])) <= Self.maxStep(history) + 200)
        #expect(Self.rms(frames[2][...]) < Self.rms(frames[0][...]))
        #expect(frames[5].allSatisfy { $0 == 0 })
        #expect(e.consecutiveFrames == 6)
    }

    @Test func preemptiveExpandContinuesAtFullLevel() {
        let history = Self.voiced(480)
        var p = PreemptiveExpand(sampleRate: 8000)
        var out = [Int16](repeating: 0, count: 160)
        history.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { p.process(history: h, output: $0) } }
        #expect(abs(Self.rms(out[...]) - Self.rms(history[...])) < 300)
        #expect(Self.maxStep(history + out) <= Self.maxStep(history) + 200)
    }

    @Test func normalMergesFromContinuation() {
        let decoded = [Int16](repeating: 1000, count: 160)
        let continuation = [Int16](repeating: -1000, count: 20)
        var out = [Int16](repeating: 0, count: 160)
        let n = Normal(mergeLength: 20)
        decoded.withUnsafeBufferPointer { d in continuation.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { n.process(decoded: d, continuation: c, output: $0) } } }
        #expect(out[0] < -800 && out[19] > 800 && out[20...].allSatisfy { $0 == 1000 })
        #expect(Self.maxStep(out) <= 120)
        // No continuation: plain copy.
        decoded.withUnsafeBufferPointer { d in out.withUnsafeMutableBufferPointer { n.process(decoded: d, continuation: UnsafeBufferPointer(start: nil, count: 0), output: $0) } }
        #expect(out == decoded)
    }

    @Test func comfortNoiseHasTheRequestedLevel() {
        var g = ComfortNoiseGenerator()
        var out = [Int16](repeating: 0, count: 8000)
        out.withUnsafeMutableBufferPointer { g.generate(levelDBov: 40, into: $0) }
        // −40 dBov of 32767 is ≈ 328 RMS.
        #expect(abs(Self.rms(out[...]) - 328) < 30)
        out.withUnsafeMutableBufferPointer { g.generate(levelDBov: 127, into: $0) }
        #expect(out.allSatisfy { $0 == 0 })
        let payload: [UInt8] = [0x80 | 55, 1, 2]
        #expect(payload.withUnsafeBytes { ComfortNoiseGenerator.level(rfc3389Payload: $0) } == 55)
    }

    /// The whole terminating path: insert → pull → "decode" (the payload carries the frame index) → render.
    /// On a jittery, lossy trace the output never clicks: every sample step stays near the tone's own.
    @Test func fullPipelineOnJitteryTraceHasNoClicks() {
        let jb = JitterBuffer()
        let dsp = PlayoutDSP(frameSamples: 160, sampleRate: 8000)
        var rng = TracePRNG(seed: 11)
        var arrivals: [(ms: Double, i: Int)] = []
        for i in 0..<500 where rng.unit() >= 0.03 { arrivals.append((Double(i) * 20 + rng.uniform(0, 60), i)) }
        arrivals.sort { $0.ms < $1.ms }
        var output: [Int16] = []
        var decoded = [Int16](repeating: 0, count: 320)
        var frame = [Int16](repeating: 0, count: 160)
        var next = 0
        var ops = Set<PlayoutOperation>()
        for k in 0..<560 {
            let now = Double(k) * 20 + 7
            while next < arrivals.count && arrivals[next].ms <= now {
                var index = UInt32(arrivals[next].i)
                withUnsafeBytes(of: &index) { jb.insert(JitterPacket(sequenceNumber: .init(UInt16(arrivals[next].i)), timestamp: .init(UInt32(arrivals[next].i * 160)), ssrc: 1), payload: $0, now: JitterBufferTests.at(arrivals[next].ms)) }
                next += 1
            }
            let d = jb.pull(now: JitterBufferTests.at(now))
            ops.insert(d.operation)
            for p in 0..<d.packetCount {
                let i = Int(jb.payload(p).loadUnaligned(as: UInt32.self))
                let pcm = Self.voiced(160, from: i * 160)
                for s in 0..<160 { decoded[p * 160 + s] = pcm[s] }
            }
            decoded.withUnsafeBufferPointer { dec in
                frame.withUnsafeMutableBufferPointer { dsp.render(d.operation, decoded: UnsafeBufferPointer(rebasing: dec[0..<(d.packetCount * 160)]), into: $0) }
            }
            output += frame
        }
        #expect(ops.contains(.conceal) && ops.contains(.normal))
        // Tone step ≈ 8000·2π·(0.7·200+0.3·400)/8000 ≈ 1630; allow the merges some slack, forbid clicks.
        let step = Self.maxStep(Array(output.drop { $0 == 0 }))
        #expect(step < 4000, "\(step)")
    }
}
