/// The audio format of a RIFF/WAVE file Tandem reads or writes: 16-bit PCM, µ-law or A-law, mono or stereo.
public struct WAVFormat: Hashable, Sendable {
    /// How samples are stored in the `data` chunk.
    public enum Encoding: Hashable, Sendable {
        /// Signed 16-bit little-endian PCM (`WAVE_FORMAT_PCM`, tag 1).
        case pcm16
        /// G.711 A-law bytes (`WAVE_FORMAT_ALAW`, tag 6).
        case aLaw
        /// G.711 µ-law bytes (`WAVE_FORMAT_MULAW`, tag 7).
        case uLaw
    }

    /// The sample encoding.
    public var encoding: Encoding
    /// Sample frames per second, 8000–48000.
    public var sampleRate: Int
    /// Interleaved channels, 1 or 2.
    public var channels: Int

    /// Creates a format; `WAVWriter` and `WAVFile` check the ranges.
    public init(encoding: Encoding, sampleRate: Int, channels: Int = 1) {
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Sample rates Tandem reads and writes.
    public static let sampleRates: ClosedRange<Int> = 8000...48000

    /// The `wFormatTag` value.
    public var formatTag: UInt16 {
        switch encoding {
        case .pcm16: 1
        case .aLaw: 6
        case .uLaw: 7
        }
    }

    /// Bits per stored sample: 16 for PCM, 8 for G.711.
    public var bitsPerSample: Int { encoding == .pcm16 ? 16 : 8 }
    /// Bytes per sample frame (all channels).
    public var blockAlign: Int { channels * bitsPerSample / 8 }
    /// Bytes per second.
    public var byteRate: Int { sampleRate * blockAlign }

    /// Whether this format is one Tandem supports (rate and channel ranges).
    public var isSupported: Bool { Self.sampleRates.contains(sampleRate) && (1...2).contains(channels) }

    /// Non-PCM formats carry an 18-byte `fmt ` (with a zero `cbSize`) and a `fact` chunk (RIFF WAVE rules
    /// for compressed formats); PCM uses the classic 16-byte `fmt `.
    var hasFactChunk: Bool { encoding != .pcm16 }
    var formatChunkSize: Int { hasFactChunk ? 18 : 16 }

    /// Bytes before the sample data: 44 for PCM, 58 for G.711.
    public var headerSize: Int { 12 + 8 + formatChunkSize + (hasFactChunk ? 12 : 0) + 8 }
    /// Byte offset of the `fact` chunk's sample count, if the format has one.
    var factOffset: Int? { hasFactChunk ? 12 + 8 + formatChunkSize + 8 : nil }
    /// Byte offset of the `data` chunk's size field.
    var dataSizeOffset: Int { headerSize - 4 }

    /// Writes the RIFF header for `dataBytes` bytes of samples into the start of `buffer` (which must hold
    /// `headerSize` bytes); returns `headerSize`. The RIFF size counts the pad byte an odd data size needs.
    func writeHeader(into buffer: UnsafeMutableRawBufferPointer, dataBytes: Int) -> Int {
        var offset = 0
        func put(_ text: StaticString) {
            let pointer = text.utf8Start
            for index in 0..<4 { buffer[offset + index] = pointer[index] }
            offset += 4
        }
        func put32(_ value: Int) {
            buffer.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
        }
        func put16(_ value: Int) {
            buffer.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt16.self)
            offset += 2
        }
        let padded = dataBytes + (dataBytes & 1)
        put("RIFF")
        put32(headerSize - 8 + padded)
        put("WAVE")
        put("fmt ")
        put32(formatChunkSize)
        put16(Int(formatTag))
        put16(channels)
        put32(sampleRate)
        put32(byteRate)
        put16(blockAlign)
        put16(bitsPerSample)
        if hasFactChunk {
            put16(0)
            put("fact")
            put32(4)
            put32(blockAlign > 0 ? dataBytes / blockAlign : 0)
        }
        put("data")
        put32(dataBytes)
        return offset
    }
}
