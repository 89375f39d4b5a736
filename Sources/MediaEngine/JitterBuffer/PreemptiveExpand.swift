/// Time stretching for a too-empty buffer: one synthetic frame that continues the played audio by repeating its
/// last pitch period at full level, so the next packet is played one frame later (NetEq's preemptive expand,
/// done as expand-then-merge). The following `Normal` frame crossfades from this continuation.
/// Caller-owned buffers; no allocation.
public struct PreemptiveExpand: Sendable {
    /// Pitch search range, samples.
    public let minLag: Int, maxLag: Int
    /// Seam crossfade length, samples.
    public let overlap: Int
    var repeater = PitchRepeater()

    /// A stretcher at `sampleRate`.
    public init(sampleRate: Int) {
        minLag = max(2, sampleRate / 400)
        maxLag = max(minLag, sampleRate * 15 / 1000)
        overlap = max(1, sampleRate / 1000)
    }

    /// Writes one frame continuing `history` into `output`.
    public mutating func process(history: UnsafeBufferPointer<Int16>, output: UnsafeMutableBufferPointer<Int16>) {
        guard let out = output.baseAddress else { return }
        repeater.start(history: history, minLag: minLag, maxLag: maxLag)
        repeater.generate(history: history, into: out, count: output.count, overlap: overlap, fromGain: 1, toGain: 1)
    }
}
