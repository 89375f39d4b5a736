/// Errors raised by encoders and decoders. Raised per frame, so every case is a plain value (no allocation).
public enum CodecError: Error, Equatable, Sendable {
    /// The input PCM frame does not hold the number of samples the encoder was configured for.
    case wrongFrameSize(expected: Int, got: Int)
    /// The caller's output buffer is too small for the result.
    case outputTooSmall(needed: Int, available: Int)
    /// The payload cannot be decoded (truncated, odd length for L16, corrupt Opus packet).
    case invalidPayload
    /// A configuration value is outside what the codec supports (rate, channels, bitrate).
    case unsupportedConfiguration
    /// An `a=fmtp` parameter list is malformed or a known parameter has a value outside its RFC range.
    case invalidFormatParameters
    /// The underlying C library returned an error code.
    case libraryFailure(code: Int32)
}

/// Errors raised while reading a RIFF/WAVE file. Bad files never trap; they raise one of these.
public enum WAVError: Error, Equatable, Sendable {
    /// The input ends before a header, chunk header or chunk body it announces.
    case truncated
    /// The file does not start with `RIFF....WAVE`.
    case badMagic
    /// A chunk or the RIFF header announces a size that cannot be right (beyond the file or a sane limit).
    case invalidChunkSize
    /// No `fmt ` chunk precedes the `data` chunk.
    case missingFormat
    /// No `data` chunk was found.
    case missingData
    /// The `fmt ` chunk's fields contradict each other (block align, byte rate) or are out of range.
    case invalidFormat
    /// A well-formed format Tandem does not handle (e.g. ADPCM, 24-bit PCM, more than two channels).
    case unsupportedFormat(formatTag: UInt16, bitsPerSample: UInt16)
    /// A read or write on the underlying file descriptor failed with this errno.
    case io(errno: Int32)
}
