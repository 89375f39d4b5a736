/// Low-level white-ish noise at a given level (RFC 3389 comfort noise without spectral shaping).
/// Deterministic LCG; caller-owned buffers; no allocation.
public struct ComfortNoiseGenerator: Sendable {
    private var state: UInt32

    /// A generator seeded with `seed`.
    public init(seed: UInt32 = 0x1234_5678) { state = seed }

    /// The level in −dBov carried by an RFC 3389 CN payload (first byte, bits 0–6, RFC 3389 §3.1); 127 (silence) if empty.
    public static func level(rfc3389Payload payload: UnsafeRawBufferPointer) -> Int {
        payload.isEmpty ? 127 : Int(payload[0] & 0x7F)
    }

    /// Fills `output` with noise whose RMS is `levelDBov` dB below full scale (32767); 127 or more gives silence.
    public mutating func generate(levelDBov: Int, into output: UnsafeMutableBufferPointer<Int16>) {
        guard let out = output.baseAddress else { return }
        if levelDBov >= 127 {
            out.update(repeating: 0, count: output.count)
            return
        }
        // Uniform noise in [−A, A] has RMS A/√3.
        var rms: Float = 32767
        for _ in 0..<max(0, levelDBov) { rms *= 0.891_250_94 }  // 10^(−1/20) per dB
        let amplitude = rms * 1.732_050_8
        for i in 0..<output.count {
            state = state &* 1_664_525 &+ 1_013_904_223  // Numerical Recipes LCG
            let u = Float(Int32(bitPattern: state)) / 2_147_483_648
            out[i] = JitterDSPMath.saturate(u * amplitude)
        }
    }
}
