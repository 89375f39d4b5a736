/// Time compression for a too-full buffer: two frames in, one frame out, removing one frame of audio at the
/// splice point where the signal best matches itself one frame later (a simplified WSOLA).
///
/// Output = input[0 ..< p], a crossfade of input[p ..< p+ov] into input[p+N ..< p+N+ov], then input[p+N+ov ..< 2N];
/// p is chosen to maximise the correlation of the two crossfaded segments, so the splice lands in phase.
/// Caller-owned buffers; no allocation.
public struct Accelerate: Sendable {
    /// Samples per output frame (N).
    public let frameSamples: Int
    /// Crossfade length in samples.
    public let overlap: Int

    /// An accelerator for frames of `frameSamples` with a crossfade of `overlap` samples (clamped to N/2).
    public init(frameSamples: Int, overlap: Int) {
        self.frameSamples = frameSamples
        self.overlap = max(1, min(overlap, frameSamples / 2))
    }

    /// Compresses `input` (2N samples) into `output` (N samples); returns the splice point chosen.
    @discardableResult
    public func process(input: UnsafeBufferPointer<Int16>, output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let n = frameSamples, ov = overlap
        guard input.count >= 2 * n, output.count >= n, let x = input.baseAddress, let y = output.baseAddress else {
            if let y = output.baseAddress { y.update(repeating: 0, count: output.count) }
            return 0
        }
        var bestP = 0
        var bestScore: Float = -2
        // Search step of 2 samples: half the cost, and the crossfade hides a one-sample misalignment.
        var p = 0
        while p <= n - ov {
            var dot: Float = 0, ea: Float = 0, eb: Float = 0
            for i in 0..<ov {
                let a = Float(x[p + i]), b = Float(x[p + n + i])
                dot += a * b; ea += a * a; eb += b * b
            }
            let score = dot / ((ea * eb).squareRoot() + 1)
            if score > bestScore { bestScore = score; bestP = p }
            p += 2
        }
        p = bestP
        y.update(from: x, count: p)
        JitterDSPMath.crossfade(x + p, x + p + n, into: y + p, count: ov)
        (y + p + ov).update(from: x + p + n + ov, count: n - p - ov)
        return p
    }
}
