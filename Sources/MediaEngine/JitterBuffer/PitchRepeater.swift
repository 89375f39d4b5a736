/// Continues a signal past the end of its history by repeating its last pitch period, crossfading toward the
/// period before near each seam so the wrap-around is continuous. Shared by `Expand` and `PreemptiveExpand`.
struct PitchRepeater: Sendable {
    var period = 0
    var phase = 0

    /// Starts a new continuation of `history` (needs ≥ 2·maxLag + window samples for a good estimate).
    mutating func start(history: UnsafeBufferPointer<Int16>, minLag: Int, maxLag: Int) {
        period = PitchEstimator.period(of: history, minLag: minLag, maxLag: maxLag, window: maxLag)
        period = max(1, min(period, history.count / 2))
        phase = 0
    }

    /// Writes the next `count` samples of the continuation into `out`, scaled by a gain ramping `fromGain` → `toGain`.
    mutating func generate(history: UnsafeBufferPointer<Int16>, into out: UnsafeMutablePointer<Int16>, count: Int, overlap: Int, fromGain: Float, toGain: Float) {
        guard let h = history.baseAddress, period > 0, history.count >= 2 * period else {
            out.update(repeating: 0, count: count)
            return
        }
        let end = history.count, l = period
        let ov = min(overlap, l / 2)
        let gainStep = count > 0 ? (toGain - fromGain) / Float(count) : 0
        for i in 0..<count {
            let q = phase
            var v = Float(h[end - l + q])
            if q >= l - ov {
                // Approaching the seam: fade toward the previous period, whose successor is this period's start.
                let w = Float(q - (l - ov) + 1) / Float(ov + 1)
                v = v * (1 - w) + Float(h[end - 2 * l + q]) * w
            }
            out[i] = JitterDSPMath.saturate(v * (fromGain + gainStep * Float(i)))
            phase = q + 1 == l ? 0 : q + 1
        }
    }
}
