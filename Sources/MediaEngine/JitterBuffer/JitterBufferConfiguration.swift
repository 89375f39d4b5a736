/// Fixed parameters of one jitter buffer, chosen when the stream is set up.
public struct JitterBufferConfiguration: Sendable, Equatable {
    /// RTP clock rate of the stream in Hz (8000 for G.711/G.722 RTP clock, 48000 for Opus).
    public var clockRate: Int
    /// Duration of one packet and of one pull, in milliseconds (10 or 20). One packet holds one frame.
    public var frameDurationMs: Int
    /// Number of packet slots; rounded up to a power of two. Packets further ahead than this are an overflow.
    public var capacity: Int
    /// Largest payload accepted, in bytes; larger packets are rejected and counted.
    public var maximumPayloadSize: Int
    /// Lower bound of the target playout delay, in milliseconds.
    public var minimumDelayMs: Int
    /// Upper bound of the target playout delay, in milliseconds.
    public var maximumDelayMs: Int
    /// A packet whose delay relative to the recent minimum changes by more than this is a timestamp jump (reset).
    public var timestampJumpThresholdMs: Int
    /// Consecutive concealed frames on an empty buffer after which the gap is treated as silence (DTX without CN).
    public var maximumExpandFrames: Int

    /// A configuration with NetEq-like defaults for 20 ms frames.
    public init(
        clockRate: Int = 8000,
        frameDurationMs: Int = 20,
        capacity: Int = 128,
        maximumPayloadSize: Int = 640,
        minimumDelayMs: Int = 20,
        maximumDelayMs: Int = 1000,
        timestampJumpThresholdMs: Int = 3000,
        maximumExpandFrames: Int = 5
    ) {
        self.clockRate = clockRate
        self.frameDurationMs = frameDurationMs
        self.capacity = capacity
        self.maximumPayloadSize = maximumPayloadSize
        self.minimumDelayMs = minimumDelayMs
        self.maximumDelayMs = maximumDelayMs
        self.timestampJumpThresholdMs = timestampJumpThresholdMs
        self.maximumExpandFrames = maximumExpandFrames
    }

    /// Samples (RTP clock ticks) in one frame.
    public var frameSamples: Int { clockRate * frameDurationMs / 1000 }
}
