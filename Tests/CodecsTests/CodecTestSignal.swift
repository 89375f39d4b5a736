import Foundation

/// Signal generators and measurements shared by the codec tests (namespaced to avoid clashes in this target).
enum CodecTestSignal {
    /// A sine of `frequency` Hz at `amplitude` (0–32767), `count` samples at `sampleRate`, starting at `phase` samples.
    static func sine(frequency: Double, sampleRate: Int, count: Int, amplitude: Double = 10000, offset: Int = 0) -> [Int16] {
        (0..<count).map { index in
            Int16(amplitude * sin(2 * Double.pi * frequency * Double(index + offset) / Double(sampleRate)))
        }
    }

    /// Mean energy per sample.
    static func energy(_ samples: ArraySlice<Int16>) -> Double {
        guard !samples.isEmpty else { return 0 }
        return samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)
    }

    /// Power of `frequency` in `samples` by the Goertzel algorithm, normalised so a full-scale sine of amplitude A
    /// gives about A²/4.
    static func goertzelPower(_ samples: ArraySlice<Int16>, frequency: Double, sampleRate: Int) -> Double {
        let coefficient = 2 * cos(2 * Double.pi * frequency / Double(sampleRate))
        var previous = 0.0
        var beforePrevious = 0.0
        for sample in samples {
            let current = Double(sample) + coefficient * previous - beforePrevious
            beforePrevious = previous
            previous = current
        }
        let power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious
        let n = Double(samples.count)
        return power / (n * n)
    }

    /// The best SNR in dB of `decoded` against `reference` over lags 0..<maxLag (codec delay), measured on
    /// `window` samples starting at `start` in the reference.
    static func alignedSNR(reference: [Int16], decoded: [Int16], start: Int, window: Int, maxLag: Int) -> (snr: Double, lag: Int) {
        var best = (snr: -Double.infinity, lag: 0)
        for lag in 0..<maxLag where start + lag + window <= decoded.count && start + window <= reference.count {
            var signal = 0.0
            var noise = 0.0
            for index in 0..<window {
                let wanted = Double(reference[start + index])
                let got = Double(decoded[start + lag + index])
                signal += wanted * wanted
                noise += (wanted - got) * (wanted - got)
            }
            let snr = 10 * log10(signal / max(noise, 1e-9))
            if snr > best.snr { best = (snr, lag) }
        }
        return best
    }
}
