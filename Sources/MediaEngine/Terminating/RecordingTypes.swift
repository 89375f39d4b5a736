import Codecs

/// How a call recording lays out its two legs.
public enum RecordingMode: Sendable, Hashable {
    /// Two channels: leg 0 (A) on the left, leg 1 (B) on the right, aligned in time.
    case stereo
    /// One channel: both legs summed with saturation.
    case mono

    /// Channels in the file.
    public var channels: Int { self == .stereo ? 2 : 1 }
}

/// What to record and how. A `Sendable` value built on the control side.
public struct RecordingOptions: Sendable, Hashable {
    /// Channel layout.
    public var mode: RecordingMode
    /// The file's sample rate (8, 16, 24, 32 or 48 kHz); frames at other rates are resampled on the writer thread.
    public var sampleRate: Int
    /// Sample encoding in the file: 16-bit PCM (default), or G.711 to halve the size.
    public var encoding: WAVFormat.Encoding
    /// How much audio (both legs together, in milliseconds at `sampleRate`) the worker→writer ring holds before
    /// frames are dropped as overruns. Covers writer-thread stalls (disk latency) up to about this long.
    public var bufferMilliseconds: Int

    /// Options with the usual defaults: 16-bit PCM and a 2-second ring.
    public init(mode: RecordingMode = .stereo, sampleRate: Int = 8000, encoding: WAVFormat.Encoding = .pcm16,
                bufferMilliseconds: Int = 2000) {
        self.mode = mode
        self.sampleRate = sampleRate
        self.encoding = encoding
        self.bufferMilliseconds = bufferMilliseconds
    }
}

/// Why a recording could not start.
public enum RecordingError: Error, Equatable, Sendable {
    /// The options are out of range (rate, buffer size).
    case invalidOptions
    /// The file could not be created or its header written (errno).
    case io(errno: Int32)
    /// The writer has been shut down.
    case writerStopped
    /// The writer thread could not be started (errno).
    case threadStartFailed(errno: Int32)
}

/// Why a running recording ended early.
public enum RecordingFailure: Error, Equatable, Sendable {
    /// A write to the file failed with this errno (ENOSPC for a full disk, EIO, EFBIG…). The file is valid up to the
    /// last successful write when the final header patch succeeded, and up to the last periodic patch otherwise.
    case writeFailed(errno: Int32)
    /// The file reached the 4 GiB a WAV header can describe.
    case fileTooLarge
}

/// A recording's life-cycle event, reported by `RecordingWriter`.
public enum RecordingEvent: Sendable, Equatable {
    /// The file was created and the recording accepts frames.
    case started(id: Int, path: String)
    /// The recording was stopped (by `stop()`, or by `RecordingWriter.shutdown()`) and its file finalised.
    /// `durationMilliseconds` is the audio in the file (paused time is not in it).
    case stopped(id: Int, path: String, durationMilliseconds: Int)
    /// The recording ended because of an error; frames are no longer taken. Other recordings are not affected.
    case failed(id: Int, path: String, reason: RecordingFailure)
}
