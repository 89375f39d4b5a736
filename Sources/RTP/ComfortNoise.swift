/// An RFC 3389 §3 comfort noise payload: a noise level and optional reflection coefficients.
///
/// A view: `reflectionCoefficients` points into the caller's bytes.
public struct ComfortNoise {
    /// The noise level in −dBov, 0...127 (0 is the loudest).
    public let noiseLevel: UInt8
    /// The quantised reflection coefficients, one byte each (the model order is their count).
    public let reflectionCoefficients: UnsafeRawBufferPointer

    /// Parses a CN payload; the level octet must be present and its top bit clear.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPPayloadParseError) {
        guard bytes.count >= 1 else { throw .truncated }
        let level = bytes.u8(0)
        // RFC 3389 §3.1: the level is 7 bits, "the MSB of the byte is always zero".
        guard level < 128 else { throw .invalidValue }
        self.noiseLevel = level
        self.reflectionCoefficients = bytes.slice(1, bytes.count)
    }

    /// Creates a payload to write; `reflectionCoefficients` is borrowed.
    public init(noiseLevel: UInt8, reflectionCoefficients: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.noiseLevel = noiseLevel
        self.reflectionCoefficients = reflectionCoefficients
    }

    /// The level in dBov (a negative number or zero).
    public var levelDBov: Int { -Int(noiseLevel) }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 1 + reflectionCoefficients.count }

    /// Writes the payload at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard noiseLevel < 128 else { throw .invalidField }
        let size = serializedSize
        guard buffer.count >= size else { throw .bufferTooSmall }
        buffer.put8(noiseLevel, at: 0)
        buffer.copy(reflectionCoefficients, at: 1)
        return size
    }
}
