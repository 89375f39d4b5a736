/// Applies a `PlayoutDecision`'s operation to decoded audio and keeps the history the synthetic operations need.
///
/// One per stream, on its worker. Buffers are allocated in `init`; `render` never allocates. The caller decodes
/// the decision's payloads into one buffer (N samples, 2N for `.accelerate`, none for synthetic frames) and
/// passes an output buffer of N samples.
public final class PlayoutDSP {
    /// Samples per frame.
    public let frameSamples: Int
    /// Where concealment audio comes from.
    public var concealment: ConcealmentSource
    /// Comfort-noise level in −dBov for `.comfortNoise` frames (set it from a CN payload; 127 = silence).
    public var comfortNoiseLevel = 127

    private var expand: Expand
    private var preemptive: PreemptiveExpand
    private let accelerate: Accelerate
    private let normal: Normal
    private var noise = ComfortNoiseGenerator()
    private let historyCount: Int
    private let history: UnsafeMutablePointer<Int16>
    private let continuation: UnsafeMutablePointer<Int16>
    private var previous: PlayoutOperation = .silence

    /// A DSP chain for frames of `frameSamples` at `sampleRate`. Allocates its history once.
    public init(frameSamples: Int, sampleRate: Int, concealment: ConcealmentSource = .builtIn) {
        self.frameSamples = max(1, frameSamples)
        self.concealment = concealment
        expand = Expand(frameSamples: frameSamples, sampleRate: sampleRate)
        preemptive = PreemptiveExpand(sampleRate: sampleRate)
        accelerate = Accelerate(frameSamples: self.frameSamples, overlap: max(1, sampleRate / 200))  // 5 ms
        normal = Normal(mergeLength: max(1, sampleRate / 400))  // 2.5 ms
        historyCount = max(2 * self.frameSamples, 3 * expand.maxLag)
        history = .allocate(capacity: historyCount)
        history.initialize(repeating: 0, count: historyCount)
        continuation = .allocate(capacity: normal.mergeLength)
        continuation.initialize(repeating: 0, count: normal.mergeLength)
    }

    deinit {
        history.deallocate()
        continuation.deallocate()
    }

    /// Produces one output frame for `operation` from `decoded` into `output` (N samples). No allocation.
    public func render(_ operation: PlayoutOperation, decoded: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<Int16>) {
        let n = min(frameSamples, output.count)
        let out = UnsafeMutableBufferPointer(rebasing: output[0..<n])
        let past = UnsafeBufferPointer(start: history, count: historyCount)
        switch operation {
        case .normal, .accelerate:
            let wasSynthetic = previous != .normal && previous != .accelerate
            var merge = UnsafeBufferPointer<Int16>(start: nil, count: 0)
            if wasSynthetic {
                // What the synthetic signal would have continued with: the merge fades from it into real audio.
                let m = normal.mergeLength
                let mergeOut = UnsafeMutableBufferPointer(start: continuation, count: m)
                switch previous {
                case .conceal where concealment == .builtIn: expand.process(history: past, output: mergeOut)
                case .stretch: preemptive.repeater.generate(history: past, into: continuation, count: m, overlap: preemptive.overlap, fromGain: 1, toGain: 1)
                case .comfortNoise: noise.generate(levelDBov: comfortNoiseLevel, into: mergeOut)
                default: continuation.update(repeating: 0, count: m)
                }
                merge = UnsafeBufferPointer(mergeOut)
            }
            if operation == .accelerate && decoded.count >= 2 * n {
                accelerate.process(input: decoded, output: out)
                if wasSynthetic, let o = out.baseAddress, let c = merge.baseAddress {
                    JitterDSPMath.crossfade(c, UnsafePointer(o), into: o, count: min(merge.count, n))
                }
            } else {
                normal.process(decoded: UnsafeBufferPointer(rebasing: decoded[0..<min(decoded.count, n)]), continuation: merge, output: out)
            }
            expand.reset()
        case .conceal:
            if concealment == .codec {
                normal.process(decoded: decoded, continuation: UnsafeBufferPointer(start: nil, count: 0), output: out)
            } else {
                expand.process(history: past, output: out)
            }
        case .stretch:
            preemptive.process(history: past, output: out)
        case .comfortNoise:
            noise.generate(levelDBov: comfortNoiseLevel, into: out)
        case .reset, .silence:
            out.update(repeating: 0)
            expand.reset()
        }
        previous = operation
        pushHistory(UnsafeBufferPointer(out))
    }

    /// Appends a frame to the history, dropping the oldest samples.
    private func pushHistory(_ frame: UnsafeBufferPointer<Int16>) {
        guard let f = frame.baseAddress else { return }
        let n = min(frame.count, historyCount)
        // Overlapping move: raw copyMemory has memmove semantics.
        UnsafeMutableRawPointer(history).copyMemory(from: history + n, byteCount: (historyCount - n) * MemoryLayout<Int16>.stride)
        (history + historyCount - n).update(from: f + frame.count - n, count: n)
    }
}
