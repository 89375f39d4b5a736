#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Synthesises a `ToneSequence` (call-progress tones, DTMF, any cadence) into caller buffers.
///
/// Each of up to four oscillators is a unit phasor rotated once per sample, so phase is
/// continuous across calls and across segment changes. `play` copies the sequence into storage
/// made at init; `generate` never allocates. Owned by one worker: not thread-safe.
public final class ToneGenerator {
    /// Sampling rates the generator supports, in Hz.
    public static let supportedRates: [Int] = [8000, 16000, 24000, 32000, 48000]
    /// Peak amplitude of a 0 dBm0 sine in 16-bit linear PCM: G.711's full-scale sine is +3.17 dBm0
    /// (ITU-T G.711 §4, the digital milliwatt), so 0 dBm0 peaks at 32768 × 10^(−3.17/20).
    public static let amplitudeAtZeroDBm0: Double = 22_748

    /// Output sampling rate in Hz.
    public let sampleRate: Int
    /// Level of each frequency at gain 1, in dBm0.
    public private(set) var level: Double

    private let capacity = ToneSequence.maximumSegments
    private let oscillators = ToneSequence.maximumFrequencies
    /// Per segment: sample count (−1 = continuous), frequency count, plays-once flag.
    private let lengths: UnsafeMutablePointer<Int>
    private let counts: UnsafeMutablePointer<Int>
    private let once: UnsafeMutablePointer<Bool>
    /// Per segment × oscillator: rotation (cos, sin of 2πf/fs) and peak amplitude.
    private let rotCos: UnsafeMutablePointer<Double>
    private let rotSin: UnsafeMutablePointer<Double>
    private let amplitudes: UnsafeMutablePointer<Double>
    /// Per oscillator: the current phasor.
    private let phasorCos: UnsafeMutablePointer<Double>
    private let phasorSin: UnsafeMutablePointer<Double>

    private var segmentCount = 0
    private var current = 0
    private var remaining = 0
    private var firstPass = true
    /// True once the sequence has ended (or nothing was played); output is silence.
    public private(set) var isFinished = true

    /// A generator at `sampleRate` with each frequency at `level` dBm0 (default −13 dBm0).
    public init(sampleRate: Int, level: Double = -13) throws(ToneError) {
        guard Self.supportedRates.contains(sampleRate) else { throw .unsupportedSampleRate(sampleRate) }
        guard level.isFinite, level <= 3.17 else { throw .invalidParameter }
        self.sampleRate = sampleRate
        self.level = level
        lengths = .allocate(capacity: capacity)
        counts = .allocate(capacity: capacity)
        once = .allocate(capacity: capacity)
        rotCos = .allocate(capacity: capacity * oscillators)
        rotSin = .allocate(capacity: capacity * oscillators)
        amplitudes = .allocate(capacity: capacity * oscillators)
        phasorCos = .allocate(capacity: oscillators)
        phasorSin = .allocate(capacity: oscillators)
        lengths.initialize(repeating: 0, count: capacity)
        counts.initialize(repeating: 0, count: capacity)
        once.initialize(repeating: false, count: capacity)
        rotCos.initialize(repeating: 1, count: capacity * oscillators)
        rotSin.initialize(repeating: 0, count: capacity * oscillators)
        amplitudes.initialize(repeating: 0, count: capacity * oscillators)
        // Start at phase 0 of a sine (cos 1, sin 0) so a tone starts without a click.
        phasorCos.initialize(repeating: 1, count: oscillators)
        phasorSin.initialize(repeating: 0, count: oscillators)
    }

    deinit {
        lengths.deallocate()
        counts.deallocate()
        once.deallocate()
        rotCos.deallocate()
        rotSin.deallocate()
        amplitudes.deallocate()
        phasorCos.deallocate()
        phasorSin.deallocate()
    }

    /// Changes the level of each frequency at gain 1 (dBm0, at most +3.17); applies from the next `play`.
    public func setLevel(_ dBm0: Double) throws(ToneError) {
        guard dBm0.isFinite, dBm0 <= 3.17 else { throw .invalidParameter }
        level = dBm0
    }

    /// Starts `sequence` from its first segment, replacing what was playing. Does not allocate.
    ///
    /// Frequencies at or above the Nyquist frequency are played as silence; segments past
    /// `ToneSequence.maximumSegments` are refused.
    public func play(_ sequence: ToneSequence) throws(ToneError) {
        guard sequence.segments.count <= capacity else { throw .tooManySegments }
        segmentCount = 0
        for segment in sequence.segments {
            try append(frequencies: segment.frequencies, gains: segment.gains,
                       milliseconds: segment.durationMilliseconds, playsOnce: segment.playsOnce)
        }
        restart()
    }

    /// Empties the generator's segment list, for building one with `append` (no allocation).
    public func clear() {
        segmentCount = 0
        isFinished = true
    }

    /// Adds one segment; call `restart` to play from the beginning. Does not allocate.
    ///
    /// `gains` are linear, relative to `level`; `milliseconds` nil means continuous.
    public func append(frequencies: [Double], gains: [Double], milliseconds: Int?, playsOnce: Bool) throws(ToneError) {
        guard segmentCount < capacity else { throw .tooManySegments }
        var samples = -1
        if let ms = milliseconds {
            guard ms >= 0, ms <= ToneSequence.maximumDurationMilliseconds else { throw .invalidParameter }
            samples = ms * sampleRate / 1000
        }
        appendSamples(frequencies: frequencies, gains: gains, samples: samples, playsOnce: playsOnce)
    }

    /// Adds one segment of `samples` samples (−1 = continuous) with two frequencies; no allocation.
    func appendPair(_ f1: Double, _ g1: Double, _ f2: Double, _ g2: Double, samples: Int, playsOnce: Bool) -> Bool {
        guard segmentCount < capacity else { return false }
        let s = segmentCount
        lengths[s] = samples
        once[s] = playsOnce
        counts[s] = 0
        setOscillator(segment: s, frequency: f1, gain: g1)
        setOscillator(segment: s, frequency: f2, gain: g2)
        segmentCount += 1
        return true
    }

    private func appendSamples(frequencies: [Double], gains: [Double], samples: Int, playsOnce: Bool) {
        let s = segmentCount
        lengths[s] = samples
        once[s] = playsOnce
        counts[s] = 0
        for k in 0..<min(frequencies.count, oscillators) {
            setOscillator(segment: s, frequency: frequencies[k], gain: k < gains.count ? gains[k] : 1)
        }
        segmentCount += 1
    }

    private func setOscillator(segment s: Int, frequency: Double, gain: Double) {
        let k = counts[s]
        guard k < oscillators else { return }
        let nyquist = Double(sampleRate) / 2
        let playable = frequency.isFinite && frequency > 0 && frequency < nyquist && gain.isFinite
        let w = playable ? 2 * Double.pi * frequency / Double(sampleRate) : 0
        rotCos[s * oscillators + k] = cos(w)
        rotSin[s * oscillators + k] = sin(w)
        amplitudes[s * oscillators + k] = playable ? Self.amplitudeAtZeroDBm0 * pow(10, level / 20) * max(0, min(gain, 1)) : 0
        counts[s] = k + 1
    }

    /// Plays the loaded segments from the first one.
    public func restart() {
        current = 0
        firstPass = true
        isFinished = segmentCount == 0
        remaining = segmentCount > 0 ? lengths[0] : 0
        skipEmptySegments()
    }

    /// Stops the current continuous (or longer) segment after `samples` more samples; the
    /// sequence then goes on with its next segment. Used to end a tone whose length becomes
    /// known while it plays (RFC 4733 end of event).
    public func endCurrentSegment(afterSamples samples: Int) {
        guard !isFinished else { return }
        remaining = max(0, samples)
        skipEmptySegments()
    }

    /// Stops everything at once; further output is silence.
    public func stop() {
        isFinished = true
    }

    /// Fills `output` with the sequence (silence once it has ended) and returns how many samples
    /// belonged to the sequence. Never allocates; cost is one rotation per oscillator per sample.
    @discardableResult
    public func generate(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let base = output.baseAddress else { return 0 }
        let total = output.count
        var written = 0
        var produced = 0
        while written < total {
            if isFinished {
                (base + written).update(repeating: 0, count: total - written)
                break
            }
            let n = remaining < 0 ? total - written : min(remaining, total - written)
            render(into: base + written, count: n, segment: current)
            written += n
            produced = written
            if remaining >= 0 {
                remaining -= n
                if remaining == 0 { advance() }
            }
        }
        renormalise()
        return produced
    }

    private func render(into out: UnsafeMutablePointer<Int16>, count n: Int, segment s: Int) {
        let k = counts[s]
        if k == 0 {
            out.update(repeating: 0, count: n)
            return
        }
        let base = s * oscillators
        for o in 0..<k {
            let rc = rotCos[base + o], rs = rotSin[base + o], a = amplitudes[base + o]
            var c = phasorCos[o], sn = phasorSin[o]
            if o == 0 {
                for i in 0..<n {
                    out[i] = Self.clampRound(a * sn)
                    (c, sn) = (c * rc - sn * rs, sn * rc + c * rs)
                }
            } else {
                for i in 0..<n {
                    out[i] = Self.clampRound(Double(out[i]) + a * sn)
                    (c, sn) = (c * rc - sn * rs, sn * rc + c * rs)
                }
            }
            phasorCos[o] = c
            phasorSin[o] = sn
        }
    }

    @inline(__always)
    private static func clampRound(_ v: Double) -> Int16 {
        let c = min(max(v, -32768), 32767)
        return Int16(c < 0 ? c - 0.5 : c + 0.5)
    }

    /// Keeps each phasor on the unit circle (one Newton step), against slow rounding drift.
    private func renormalise() {
        for o in 0..<oscillators {
            let c = phasorCos[o], s = phasorSin[o]
            let g = 1.5 - 0.5 * (c * c + s * s)
            phasorCos[o] = c * g
            phasorSin[o] = s * g
        }
    }

    private func advance() {
        current += 1
        if current >= segmentCount {
            firstPass = false
            current = 0
        }
        remaining = lengths[current]
        skipEmptySegments()
    }

    /// Skips zero-length segments and, after the first pass, play-once ones; finishes when none is left.
    private func skipEmptySegments() {
        var guardCount = 0
        while !isFinished && (remaining == 0 || (!firstPass && once[current])) {
            guardCount += 1
            // Every segment visited without playing anything: the sequence has ended.
            if guardCount > segmentCount + 1 || (!firstPass && allOnce()) {
                isFinished = true
                return
            }
            current += 1
            if current >= segmentCount {
                firstPass = false
                current = 0
            }
            remaining = lengths[current]
        }
    }

    private func allOnce() -> Bool {
        for s in 0..<segmentCount where !once[s] && lengths[s] != 0 { return false }
        return true
    }
}
