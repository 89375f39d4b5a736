#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs

/// One-off sample-rate conversion of a whole prompt at load time (control side; allocates).
///
/// Between the rates `Resampler` handles (8/16/24/32/48 kHz) it runs `Resampler` over the prompt and removes the
/// filter's group delay, so the output is time-aligned with the input. For the 11.025 kHz family of WAV rates it uses
/// a windowed-sinc polyphase filter built here for the exact ratio (Blackman window, ±12 zero crossings, cut-off at
/// 92 % of the lower Nyquist). Either way the output holds `round(count × to / from)` samples.
enum PlaybackConversion {
    static func convert(_ input: [Int16], from: Int, to: Int) -> [Int16] {
        guard from != to, !input.isEmpty else { return input }
        let count = Int((Int64(input.count) * Int64(to) + Int64(from / 2)) / Int64(from))
        if let resampler = try? Resampler(inputRate: from, outputRate: to) {
            return convert(input, with: resampler, count: count)
        }
        return sinc(input, from: from, to: to, count: count)
    }

    /// Runs `resampler` over the input plus enough zeros to flush its delay, and keeps the aligned part.
    private static func convert(_ input: [Int16], with resampler: Resampler, count: Int) -> [Int16] {
        let delay = resampler.delaySamples
        let flush = (delay + 2) * resampler.decimation / resampler.interpolation + resampler.tapsPerPhase + 1
        let padded = input + [Int16](repeating: 0, count: flush)
        var output = [Int16](repeating: 0, count: resampler.outputCapacity(forInputCount: padded.count))
        let produced = padded.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { resampler.process(source, into: $0) }
        }
        let end = min(produced, delay + count)
        guard end > delay else { return [] }
        return Array(output[delay..<end])
    }

    /// Polyphase windowed-sinc conversion for any rational ratio.
    private static func sinc(_ input: [Int16], from: Int, to: Int, count: Int) -> [Int16] {
        let g = gcd(from, to)
        let up = to / g, down = from / g
        // Cut-off relative to the input's Nyquist frequency: the lower of the two Nyquists, with a guard band.
        let cutoff = 0.92 * min(1, Double(to) / Double(from))
        let halfWidth = Int((12 / cutoff).rounded(.up))
        let taps = 2 * halfWidth
        // table[p * taps + j] weighs input sample (i0 − halfWidth + 1 + j) for an output at phase p / up past i0.
        var table = [Double](repeating: 0, count: up * taps)
        for p in 0..<up {
            let fraction = Double(p) / Double(up)
            var sum = 0.0
            for j in 0..<taps {
                let x = Double(halfWidth - 1 - j) + fraction
                let y = cutoff * x
                let s = y == 0 ? 1 : sin(Double.pi * y) / (Double.pi * y)
                let w = 0.42 + 0.5 * cos(Double.pi * x / Double(halfWidth)) + 0.08 * cos(2 * Double.pi * x / Double(halfWidth))
                table[p * taps + j] = abs(x) < Double(halfWidth) ? s * max(0, w) : 0
                sum += table[p * taps + j]
            }
            // Unit DC gain per phase.
            for j in 0..<taps { table[p * taps + j] /= sum }
        }
        var output = [Int16](repeating: 0, count: count)
        for n in 0..<count {
            let position = n * down
            let i0 = position / up
            let p = position % up
            var acc = 0.0
            let first = i0 - halfWidth + 1
            for j in 0..<taps {
                let k = first + j
                guard k >= 0, k < input.count else { continue }
                acc += Double(input[k]) * table[p * taps + j]
            }
            output[n] = Int16(clamping: Int(acc.rounded()))
        }
        return output
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
