/// Packet-loss concealment: repeats the last pitch period of the played audio, fading out over consecutive
/// concealed frames (full level for the first frame, then halving, silent after `fadeFrames`).
///
/// Codec-agnostic; a codec with its own PLC (Opus, G.722) can be used instead by the caller (`ConcealmentSource`).
/// Caller-owned buffers; no allocation.
public struct Expand: Sendable {
    /// Samples per frame.
    public let frameSamples: Int
    /// Pitch search range, samples.
    public let minLag: Int, maxLag: Int
    /// Seam crossfade length, samples.
    public let overlap: Int
    /// Consecutive frames concealed so far.
    public private(set) var consecutiveFrames = 0
    var repeater = PitchRepeater()

    /// Concealment for frames of `frameSamples` at `sampleRate`.
    public init(frameSamples: Int, sampleRate: Int) {
        self.frameSamples = frameSamples
        minLag = max(2, sampleRate / 400)   // 2.5 ms
        maxLag = max(minLag, sampleRate * 15 / 1000)  // 15 ms
        overlap = max(1, sampleRate / 1000)  // 1 ms
    }

    /// Writes one concealed frame continuing `history` (the audio played so far, newest last) into `output`.
    public mutating func process(history: UnsafeBufferPointer<Int16>, output: UnsafeMutableBufferPointer<Int16>) {
        guard let out = output.baseAddress else { return }
        if consecutiveFrames == 0 { repeater.start(history: history, minLag: minLag, maxLag: maxLag) }
        let from = Self.gain(consecutiveFrames), to = Self.gain(consecutiveFrames + 1)
        repeater.generate(history: history, into: out, count: output.count, overlap: overlap, fromGain: from, toGain: to)
        consecutiveFrames += 1
    }

    /// Ends a concealment run (a real frame was played).
    public mutating func reset() { consecutiveFrames = 0 }

    /// Gain at the start of concealed frame `k`: 1, 1, 0.5, 0.25, 0.125, then 0.
    static func gain(_ k: Int) -> Float {
        k <= 1 ? 1 : k >= 5 ? 0 : Float(1) / Float(1 << (k - 1))
    }
}

/// Which concealment produces audio for a missing frame. An enum, not a closure, so the hot path stays static.
public enum ConcealmentSource: Sendable, Equatable {
    /// `Expand` (pitch repetition) on the decoded history; works for any codec.
    case builtIn
    /// The codec's own PLC (the caller decodes with a missing-packet flag); `PlayoutDSP` then passes it through.
    case codec
}
