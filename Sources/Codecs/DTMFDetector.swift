#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A DTMF digit found in audio: when it began and, once it has ended, how long it lasted.
public struct DTMFEvent: Equatable, Sendable {
    /// Whether the digit has just been recognised or has just ended.
    public enum Kind: Equatable, Sendable {
        /// The digit is recognised and still sounding; `durationSamples` is the length so far.
        case began
        /// The digit has ended; `durationSamples` is its measured length.
        case ended
    }

    /// Began or ended.
    public var kind: Kind
    /// The key.
    public var digit: DTMFDigit
    /// Estimated first sample of the tone, counted from the detector's first input sample.
    public var startSample: Int
    /// Estimated length in samples (so far, for `.began`).
    public var durationSamples: Int

    /// An event with the given fields.
    public init(kind: Kind, digit: DTMFDigit, startSample: Int, durationSamples: Int) {
        self.kind = kind
        self.digit = digit
        self.startSample = startSample
        self.durationSamples = durationSamples
    }
}

/// In-band DTMF detector (ITU-T Q.23 frequencies, Q.24 acceptance limits) over 8 or 16 kHz audio.
///
/// Method: the signal is cut into 1.25 ms sub-blocks; for each of the 8 DTMF frequencies and for
/// two side frequencies at ±4.5 % of it, a Goertzel filter gives the sub-block's complex DFT
/// value, which is phase-aligned and summed over a sliding 20 ms window with stepped Hann
/// weights (the window keeps one group's tone from leaking into the other group's bins; the
/// block length puts a null on the window's replicas). Every 2.5 ms the strongest row and
/// column are tested:
/// - frequency: the nominal bin must beat both side bins, which puts the accept/reject boundary
///   near ±2.25 % (Q.24: accept ±1.5 %, reject ±3.5 %);
/// - level: each tone at least `minimumLevel` dBm0;
/// - twist: high group at most `normalTwist` dB below, or `reverseTwist` dB above, the low group;
/// - purity: the two tones hold at least `minimumEnergyShare` of the windows' energy, which
///   rejects speech, noise and harmonic-rich signals.
/// A digit is reported after `onHops` consecutive passing tests (tones of 40 ms and more are
/// accepted, 30 ms and less rejected; the boundary is near 36 ms) and ends after `offHops`
/// failing ones (a 40 ms pause always separates digits; a 10 ms interruption is bridged).
/// Measured frequency boundary: ±2.2 % (see DTMFDetectorTests).
///
/// `process` accepts frames of any size, never allocates and queues events in a fixed ring read
/// with `nextEvent()`. Owned by one worker: not thread-safe.
public final class DTMFDetector {
    /// Sampling rate of the input in Hz (8000 or 16000).
    public let sampleRate: Int
    /// Minimum level of each tone, dBm0.
    public var minimumLevel: Double = -36 { didSet { updateThresholds() } }
    /// Largest accepted normal twist (high group weaker than low), dB.
    public var normalTwist: Double = 8 { didSet { updateThresholds() } }
    /// Largest accepted reverse twist (high group stronger than low), dB.
    public var reverseTwist: Double = 4 { didSet { updateThresholds() } }
    /// Smallest share of the window's mean square that the two tones must hold (0 … 1; ≈ 1 for pure tones).
    public var minimumEnergyShare: Double = 0.7
    /// Consecutive passing 2.5 ms tests needed to recognise a digit.
    public var onHops = 13
    /// Consecutive failing 2.5 ms tests that end a digit.
    public var offHops = 9
    /// Events lost because nobody read them (the ring holds 64).
    public private(set) var droppedEvents = 0

    static let blocksPerSecond = 800
    static let blocksPerHop = 2
    static let windowBlocks = 16
    static let sideOffset = 0.045
    static let binCount = 24

    /// Samples per sub-block and per decision (two sub-blocks).
    private let block: Int
    private let hop: Int
    /// Stepped Hann weights, oldest sub-block first, and their sum.
    private let weights: UnsafeMutablePointer<Double>
    private let weightSum: Double
    // Goertzel state and constants, one per bin: bin = 3 × frequency + (0: −4.5 %, 1: nominal, 2: +4.5 %).
    private let coef: UnsafeMutablePointer<Float>
    private let s1: UnsafeMutablePointer<Float>
    private let s2: UnsafeMutablePointer<Float>
    private let cosW: UnsafeMutablePointer<Double>
    private let sinW: UnsafeMutablePointer<Double>
    /// Per bin, the phasor e^{−jω·(first sample of the current sub-block)} and its per-block step.
    private let rotRe: UnsafeMutablePointer<Double>
    private let rotIm: UnsafeMutablePointer<Double>
    private let stepRe: UnsafeMutablePointer<Double>
    private let stepIm: UnsafeMutablePointer<Double>
    /// Ring of the last `windowBlocks` sub-block values per bin, and sub-block energies.
    private let ringRe: UnsafeMutablePointer<Double>
    private let ringIm: UnsafeMutablePointer<Double>
    private let ringEnergy: UnsafeMutablePointer<Double>
    private var ringSlot = 0
    private var inBlock = 0
    private var blockEnergy: Float = 0
    private var hopIndex = 0
    private var blockIndex = 0

    private var minimumPower = 0.0
    private var normalTwistRatio = 0.0
    private var reverseTwistRatio = 0.0

    private var candidate: DTMFDigit?
    private var run = 0
    private var runStartHop = 0
    private var active: DTMFDigit?
    private var activeStart = 0
    private var lastHitHop = 0
    private var misses = 0

    private let events: UnsafeMutablePointer<DTMFEvent>
    private let eventCapacity = 64
    private var eventHead = 0
    private var eventCount = 0

    /// A detector for `sampleRate` (8000 or 16000 Hz) input.
    public init(sampleRate: Int = 8000) throws(ToneError) {
        guard sampleRate == 8000 || sampleRate == 16000 else { throw .unsupportedSampleRate(sampleRate) }
        self.sampleRate = sampleRate
        block = sampleRate / Self.blocksPerSecond
        hop = block * Self.blocksPerHop
        weights = .allocate(capacity: Self.windowBlocks)
        var total = 0.0
        for b in 0..<Self.windowBlocks {
            let x = sin(Double.pi * (Double(b) + 0.5) / Double(Self.windowBlocks))
            weights[b] = x * x
            total += x * x
        }
        weightSum = total
        let n = Self.binCount
        coef = .allocate(capacity: n)
        s1 = .allocate(capacity: n)
        s2 = .allocate(capacity: n)
        cosW = .allocate(capacity: n)
        sinW = .allocate(capacity: n)
        rotRe = .allocate(capacity: n)
        rotIm = .allocate(capacity: n)
        stepRe = .allocate(capacity: n)
        stepIm = .allocate(capacity: n)
        ringRe = .allocate(capacity: n * Self.windowBlocks)
        ringIm = .allocate(capacity: n * Self.windowBlocks)
        ringEnergy = .allocate(capacity: Self.windowBlocks)
        events = .allocate(capacity: eventCapacity)
        let nominal = DTMFDigit.rowFrequencies + DTMFDigit.columnFrequencies
        for (f, frequency) in nominal.enumerated() {
            for j in 0..<3 {
                let k = f * 3 + j
                let hz = frequency * (1 + Double(j - 1) * Self.sideOffset)
                let w = 2 * Double.pi * hz / Double(sampleRate)
                coef[k] = Float(2 * cos(w))
                cosW[k] = cos(w)
                sinW[k] = sin(w)
                stepRe[k] = cos(w * Double(block))
                stepIm[k] = -sin(w * Double(block))
            }
        }
        events.initialize(repeating: DTMFEvent(kind: .began, digit: .zero, startSample: 0, durationSamples: 0), count: eventCapacity)
        s1.initialize(repeating: 0, count: n)
        s2.initialize(repeating: 0, count: n)
        rotRe.initialize(repeating: 1, count: n)
        rotIm.initialize(repeating: 0, count: n)
        ringRe.initialize(repeating: 0, count: n * Self.windowBlocks)
        ringIm.initialize(repeating: 0, count: n * Self.windowBlocks)
        ringEnergy.initialize(repeating: 0, count: Self.windowBlocks)
        updateThresholds()
    }

    deinit {
        coef.deallocate(); s1.deallocate(); s2.deallocate(); cosW.deallocate(); sinW.deallocate()
        rotRe.deallocate(); rotIm.deallocate(); stepRe.deallocate(); stepIm.deallocate()
        ringRe.deallocate(); ringIm.deallocate(); ringEnergy.deallocate(); events.deallocate()
        weights.deallocate()
    }

    private func updateThresholds() {
        let amplitude = ToneGenerator.amplitudeAtZeroDBm0 * pow(10, minimumLevel / 20)
        minimumPower = amplitude * amplitude / 2
        normalTwistRatio = pow(10, normalTwist / 10)
        reverseTwistRatio = pow(10, reverseTwist / 10)
    }

    /// Forgets all state and events, as if newly built.
    public func reset() {
        let n = Self.binCount
        s1.update(repeating: 0, count: n)
        s2.update(repeating: 0, count: n)
        rotRe.update(repeating: 1, count: n)
        rotIm.update(repeating: 0, count: n)
        ringRe.update(repeating: 0, count: n * Self.windowBlocks)
        ringIm.update(repeating: 0, count: n * Self.windowBlocks)
        ringEnergy.update(repeating: 0, count: Self.windowBlocks)
        ringSlot = 0; inBlock = 0; blockEnergy = 0; hopIndex = 0; blockIndex = 0
        candidate = nil; run = 0; active = nil; misses = 0
        eventHead = 0; eventCount = 0; droppedEvents = 0
    }

    /// The oldest unread event, or nil. Does not allocate.
    public func nextEvent() -> DTMFEvent? {
        guard eventCount > 0 else { return nil }
        let e = events[eventHead]
        eventHead = (eventHead + 1) % eventCapacity
        eventCount -= 1
        return e
    }

    /// Feeds samples (any count). Cost: 24 Goertzel updates per sample plus a small test every
    /// 2.5 ms. Never allocates; events are queued for `nextEvent()`.
    public func process(_ samples: UnsafeBufferPointer<Int16>) {
        guard let base = samples.baseAddress else { return }
        var offset = 0
        while offset < samples.count {
            let n = min(block - inBlock, samples.count - offset)
            accumulate(base + offset, count: n)
            inBlock += n
            offset += n
            if inBlock == block {
                finishBlock()
                inBlock = 0
            }
        }
    }

    private func accumulate(_ x: UnsafePointer<Int16>, count n: Int) {
        let bins = Self.binCount
        var energy = blockEnergy
        for i in 0..<n {
            let v = Float(x[i])
            energy += v * v
            // Independent per bin: this loop over bins vectorises.
            for k in 0..<bins {
                let s0 = v + coef[k] * s1[k] - s2[k]
                s2[k] = s1[k]
                s1[k] = s0
            }
        }
        blockEnergy = energy
    }

    private func finishBlock() {
        let bins = Self.binCount
        let slotBase = ringSlot
        for k in 0..<bins {
            // Goertzel output s1 − e^{−jω}·s2 equals the sub-block DFT up to a factor that is the
            // same for every sub-block; rotating by e^{−jω·start} aligns the sub-blocks' phases.
            let a = Double(s1[k]) - cosW[k] * Double(s2[k])
            let b = sinW[k] * Double(s2[k])
            let re = a * rotRe[k] - b * rotIm[k]
            let im = a * rotIm[k] + b * rotRe[k]
            ringRe[k * Self.windowBlocks + slotBase] = re
            ringIm[k * Self.windowBlocks + slotBase] = im
            let nr = rotRe[k] * stepRe[k] - rotIm[k] * stepIm[k]
            let ni = rotRe[k] * stepIm[k] + rotIm[k] * stepRe[k]
            let g = 1.5 - 0.5 * (nr * nr + ni * ni)
            rotRe[k] = nr * g
            rotIm[k] = ni * g
            s1[k] = 0
            s2[k] = 0
        }
        ringEnergy[slotBase] = Double(blockEnergy)
        blockEnergy = 0
        ringSlot = (ringSlot + 1) % Self.windowBlocks
        blockIndex += 1
        if blockIndex % Self.blocksPerHop == 0 {
            hopIndex += 1
            decide(evaluate())
        }
    }

    /// |X|² of `bin` over the window, each sub-block weighted.
    private func power(_ bin: Int) -> Double {
        var re = 0.0, im = 0.0
        let w = Self.windowBlocks
        let ringBase = bin * w
        for j in 0..<w {
            // j = 0 is the oldest sub-block: the one in the slot about to be overwritten.
            let slot = (ringSlot + j) % w
            re += weights[j] * ringRe[ringBase + slot]
            im += weights[j] * ringIm[ringBase + slot]
        }
        return re * re + im * im
    }

    /// Weighted mean square of the window's samples.
    private func meanSquare() -> Double {
        var e = 0.0
        let w = Self.windowBlocks
        for j in 0..<w { e += weights[j] * ringEnergy[(ringSlot + j) % w] }
        return e / (weightSum * Double(block))
    }

    /// The digit whose tones pass every test in the current window, if any.
    private func evaluate() -> DTMFDigit? {
        var row = 0, rowPower = -1.0
        for r in 0..<4 {
            let p = power(r * 3 + 1)
            if p > rowPower { rowPower = p; row = r }
        }
        var column = 0, columnPower = -1.0
        for c in 0..<4 {
            let p = power((4 + c) * 3 + 1)
            if p > columnPower { columnPower = p; column = c }
        }
        // Mean-square level of each tone: a sine of amplitude A gives |X| = A/2 · Σ(weights × block).
        let gain = weightSum * Double(block)
        let rowLevel = 2 * rowPower / (gain * gain)
        let columnLevel = 2 * columnPower / (gain * gain)
        guard rowLevel >= minimumPower, columnLevel >= minimumPower else { return nil }
        guard rowLevel <= columnLevel * normalTwistRatio, columnLevel <= rowLevel * reverseTwistRatio else { return nil }
        let total = meanSquare()
        guard total > 0 else { return nil }
        let share = (rowLevel + columnLevel) / total
        guard share >= minimumEnergyShare else { return nil }
        // Frequency check against the ±4.5 % side bins (Q.24 ±1.5 % accept, ±3.5 % reject).
        let rb = row * 3, cb = (4 + column) * 3
        guard power(rb) < rowPower, power(rb + 2) < rowPower,
              power(cb) < columnPower, power(cb + 2) < columnPower else { return nil }
        return DTMFDigit(row: row, column: column)
    }

    /// Calibrated so that reported start and duration match the tone's (see DTMFDetectorTests):
    /// a window passes once the tone fills most of it, so the first passing window ends about
    /// this many hops after the tone began, and the last one ends this many hops after it stopped.
    static let startLagHops = 5
    static let endLagHops = 3

    private func decide(_ digit: DTMFDigit?) {
        if let current = active {
            if digit == current {
                misses = 0
                lastHitHop = hopIndex
            } else {
                misses += 1
                if misses >= offHops {
                    let end = (lastHitHop - Self.endLagHops) * hop
                    push(DTMFEvent(kind: .ended, digit: current, startSample: activeStart,
                                   durationSamples: max(0, end - activeStart)))
                    active = nil
                    candidate = nil
                    run = 0
                }
            }
            return
        }
        if let digit, digit == candidate {
            run += 1
        } else {
            candidate = digit
            run = digit == nil ? 0 : 1
            runStartHop = hopIndex
        }
        if let digit, run >= onHops {
            active = digit
            activeStart = max(0, (runStartHop - Self.startLagHops) * hop)
            lastHitHop = hopIndex
            misses = 0
            push(DTMFEvent(kind: .began, digit: digit, startSample: activeStart,
                           durationSamples: hopIndex * hop - activeStart))
        }
    }

    private func push(_ event: DTMFEvent) {
        guard eventCount < eventCapacity else {
            droppedEvents += 1
            return
        }
        events[(eventHead + eventCount) % eventCapacity] = event
        eventCount += 1
    }
}
