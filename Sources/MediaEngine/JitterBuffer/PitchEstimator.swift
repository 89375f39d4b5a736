/// Finds the pitch period of recent audio by normalised autocorrelation (speech pitch: 2.5–15 ms).
///
/// Scalar loops over caller buffers; no allocation. Cost O(window × lag range) per call, so it runs only for
/// the synthetic operations (conceal, stretch, accelerate), not for normal frames.
public enum PitchEstimator {
    /// The lag in `minLag...maxLag` whose `window` samples before the end of `signal` best match the `window`
    /// samples one lag earlier. Needs `signal.count >= window + maxLag`; otherwise returns `maxLag` clipped to fit.
    public static func period(of signal: UnsafeBufferPointer<Int16>, minLag: Int, maxLag: Int, window: Int) -> Int {
        let n = signal.count
        let hi = min(maxLag, n - window)
        guard hi >= minLag, minLag > 0, window > 0, let x = signal.baseAddress else { return max(1, min(maxLag, n / 2)) }
        let end = n - window
        var energyA: Float = 0
        for i in 0..<window { let a = Float(x[end + i]); energyA += a * a }
        var best: Float = -2
        for lag in minLag...hi { best = max(best, score(x, end: end, lag: lag, window: window, energyA: energyA)) }
        // The shortest lag that is a local peak close to the best score: multiples of the period score as well,
        // and picking them would repeat more than one period.
        var lag = minLag
        while lag <= hi {
            var s = score(x, end: end, lag: lag, window: window, energyA: energyA)
            if s >= best - 0.05 {
                while lag < hi {
                    let t = score(x, end: end, lag: lag + 1, window: window, energyA: energyA)
                    if t <= s { break }
                    s = t
                    lag += 1
                }
                return lag
            }
            lag += 1
        }
        return hi
    }

    private static func score(_ x: UnsafePointer<Int16>, end: Int, lag: Int, window: Int, energyA: Float) -> Float {
        var dot: Float = 0, energyB: Float = 0
        for i in 0..<window {
            let b = Float(x[end - lag + i])
            dot += Float(x[end + i]) * b
            energyB += b * b
        }
        return dot / ((energyA * energyB).squareRoot() + 1)
    }
}

/// Sample arithmetic shared by the jitter-buffer DSP operations.
enum JitterDSPMath {
    /// Crossfades `a` into `b` over `count` samples: out[i] = a[i]·(1−w) + b[i]·w with w rising linearly.
    @inline(__always)
    static func crossfade(_ a: UnsafePointer<Int16>, _ b: UnsafePointer<Int16>, into out: UnsafeMutablePointer<Int16>, count: Int) {
        let step = 1 / Float(count + 1)
        for i in 0..<count {
            let w = Float(i + 1) * step
            out[i] = JitterDSPMath.saturate(Float(a[i]) * (1 - w) + Float(b[i]) * w)
        }
    }

    @inline(__always)
    static func saturate(_ v: Float) -> Int16 {
        Int16(max(-32768, min(32767, v.rounded())))
    }
}
