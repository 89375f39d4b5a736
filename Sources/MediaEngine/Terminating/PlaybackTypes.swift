import Codecs

/// Why a prompt, tone sequence or digit string could not be loaded for playback. Raised on the control side at
/// load time, so the caller can answer the request with an error instead of playing nothing.
public enum PlaybackError: Error, Equatable, Sendable {
    /// The WAV file is missing, unreadable, corrupt or in an unsupported format.
    case file(WAVError)
    /// The WAV file holds no samples.
    case empty
    /// The leg's sample rate is not one playback renders at (8, 16, 24, 32, 48 kHz).
    case unsupportedSampleRate(Int)
    /// The tone sequence description does not parse.
    case invalidToneSequence(ToneDescriptionError)
    /// A character that is not a DTMF digit, an empty digit string, or a bad duration/level.
    case invalidDigits
    /// The tone generator refused the sequence (too many segments, bad level).
    case tone(ToneError)
}

/// Why playback ended.
public enum PlaybackEnd: Sendable, Hashable {
    /// Every requested pass was played.
    case completed
    /// `stop()` was called.
    case stopped
    /// A barge-in digit was received.
    case bargeIn(DTMFDigit)
}
