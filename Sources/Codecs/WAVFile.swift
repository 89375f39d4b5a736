#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole RIFF/WAVE file in memory: its format and the raw bytes of its `data` chunk.
///
/// Used for prompts and music on hold, loaded on the control side (parsing allocates). The parser checks every
/// size and field and throws `WAVError` on anything malformed; it skips chunks it does not know (LIST, bext…).
public struct WAVFile: Hashable, Sendable {
    /// The sample format.
    public var format: WAVFormat
    /// The stored sample bytes: little-endian 16-bit PCM, or G.711 codes; a whole number of sample frames.
    public var data: [UInt8]

    /// Creates a file from a format and its stored sample bytes.
    public init(format: WAVFormat, data: [UInt8]) {
        self.format = format
        self.data = data
    }

    /// Creates a file holding `samples` (interleaved) encoded in `format`.
    public init(format: WAVFormat, samples: [Int16]) {
        self.format = format
        switch format.encoding {
        case .pcm16:
            var bytes = [UInt8](repeating: 0, count: samples.count * 2)
            for (index, sample) in samples.enumerated() {
                let bits = UInt16(bitPattern: sample)
                bytes[index * 2] = UInt8(truncatingIfNeeded: bits)
                bytes[index * 2 + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
            data = bytes
        case .uLaw: data = samples.map(G711.encodeULaw)
        case .aLaw: data = samples.map(G711.encodeALaw)
        }
    }

    /// The largest `data` chunk the parser accepts (a WAV size field is 32-bit; 1 GiB is far beyond any prompt).
    public static let maxDataSize = 1 << 30

    /// Parses a RIFF/WAVE file.
    ///
    /// Lenient about sizes the way common players are, so that an unfinished recording (a writer that crashed, was
    /// killed, or hit a full disk before patching its header) is still readable: a RIFF size of 0 or one larger than
    /// the input means "up to the end of the input"; a `data` size larger than the bytes present means "the bytes
    /// actually present"; and a `data` size of 0 for the last chunk of the RIFF (a header written before any sample,
    /// as `WAVWriter` does) means "everything after it to the end of the input". A trailing partial sample frame is
    /// dropped. Every other inconsistency throws.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(WAVError) {
        let reader = ByteReader(bytes)
        guard bytes.count >= 12 else { throw .truncated }
        guard reader.tag(at: 0) == Self.riff, reader.tag(at: 8) == Self.wave else { throw .badMagic }
        let riffSize = Int(reader.uint32(at: 4))
        // 0 (never patched) or beyond the input (cut short, or a streaming writer's 0xFFFFFFFF): use what is there.
        let isOpenEnded = riffSize == 0 || riffSize > bytes.count - 8
        // Otherwise the RIFF size covers "WAVE" plus the chunks; it must at least hold the form type.
        guard isOpenEnded || riffSize >= 4 else { throw .invalidChunkSize }
        let end = isOpenEnded ? bytes.count : 8 + riffSize

        var format: WAVFormat?
        var offset = 12
        while true {
            guard end - offset >= 8 else { throw end == offset && !isOpenEnded ? .missingData : .truncated }
            let tag = reader.tag(at: offset)
            let size = Int(reader.uint32(at: offset + 4))
            let body = offset + 8
            if tag == Self.fmt {
                guard format == nil else { throw .invalidFormat }
                // 16 (PCM), 18 (with cbSize) or 40 (WAVE_FORMAT_EXTENSIBLE); anything beyond a few hundred is bogus.
                guard size >= 16, size <= 256 else { throw .invalidChunkSize }
                guard size <= end - body else { throw .truncated }
                format = try Self.parseFormat(reader, at: body, size: size)
            } else if tag == Self.data {
                guard let format else { throw .missingFormat }
                var usable = size
                if size == 0, isOpenEnded || body == end {
                    // A header never patched: a size of 0 for a data chunk that is the last thing in the RIFF (or
                    // in an open-ended one). Take whatever follows, to the end of the input.
                    usable = bytes.count - body
                } else if size > end - body {
                    // A data size past the input: a file cut short.
                    usable = end - body
                }
                guard usable <= Self.maxDataSize else { throw .invalidChunkSize }
                // A trailing partial sample frame cannot be played; drop it.
                usable -= usable % format.blockAlign
                self.format = format
                self.data = Array(UnsafeRawBufferPointer(rebasing: bytes[body..<body + usable]))
                return
            } else {
                guard size <= Self.maxDataSize else { throw .invalidChunkSize }
                guard size <= end - body else { throw .truncated }
            }
            // Chunks are word aligned: an odd-sized body is followed by a pad byte (which may be missing at the end).
            offset = min(end, body + size + (size & 1))
        }
    }

    /// Parses a complete RIFF/WAVE file held in an array.
    public init(parsing bytes: [UInt8]) throws(WAVError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(WAVError) in try WAVFile(parsing: raw) } }
        self = try result.get()
    }

    /// Reads and parses the file at `path` (blocking I/O; control side only). Files over `maxFileSize` are refused.
    public init(contentsOf path: String, maxFileSize: Int = 64 << 20) throws(WAVError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io(errno: errno) }
        let size = Int(status.st_size)
        guard size <= maxFileSize else { throw .invalidChunkSize }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = bytes.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress.map { $0 + filled }, size - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(errno: errno)
            }
            if count == 0 { break }
            filled += count
        }
        try self.init(parsing: Array(bytes[0..<filled]))
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { format.headerSize + data.count + (data.count & 1) }

    /// Writes the whole file (header, data, pad byte) into `buffer`, which must hold `serializedSize` bytes;
    /// returns the bytes written, or 0 if `buffer` is too small.
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count >= serializedSize else { return 0 }
        var offset = format.writeHeader(into: buffer, dataBytes: data.count)
        for byte in data {
            buffer[offset] = byte
            offset += 1
        }
        if data.count & 1 == 1 {
            buffer[offset] = 0
            offset += 1
        }
        return offset
    }

    /// The whole file as bytes.
    public func serialized() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: serializedSize)
        _ = bytes.withUnsafeMutableBytes { write(to: $0) }
        return bytes
    }

    /// The samples decoded to interleaved 16-bit linear PCM.
    public func samples() -> [Int16] {
        switch format.encoding {
        case .pcm16:
            return (0..<data.count / 2).map { Int16(bitPattern: UInt16(data[$0 * 2]) | UInt16(data[$0 * 2 + 1]) << 8) }
        case .uLaw: return data.map(G711.decodeULaw)
        case .aLaw: return data.map(G711.decodeALaw)
        }
    }

    static let riff: UInt32 = fourCC("RIFF")
    static let wave: UInt32 = fourCC("WAVE")
    static let fmt: UInt32 = fourCC("fmt ")
    static let data: UInt32 = fourCC("data")

    static func fourCC(_ text: StaticString) -> UInt32 {
        let pointer = text.utf8Start
        return UInt32(pointer[0]) | UInt32(pointer[1]) << 8 | UInt32(pointer[2]) << 16 | UInt32(pointer[3]) << 24
    }

    private static func parseFormat(_ reader: ByteReader, at offset: Int, size: Int) throws(WAVError) -> WAVFormat {
        var tag = reader.uint16(at: offset)
        let channels = Int(reader.uint16(at: offset + 2))
        let sampleRate = Int(reader.uint32(at: offset + 4))
        let byteRate = Int(reader.uint32(at: offset + 8))
        let blockAlign = Int(reader.uint16(at: offset + 12))
        let bits = reader.uint16(at: offset + 14)
        if tag == 0xFFFE {
            // WAVE_FORMAT_EXTENSIBLE: cbSize ≥ 22, then valid bits, channel mask and a sub-format GUID whose
            // first two bytes are the real format tag.
            guard size >= 40, reader.uint16(at: offset + 16) >= 22 else { throw .invalidFormat }
            tag = reader.uint16(at: offset + 24)
        }
        let encoding: WAVFormat.Encoding
        switch (tag, bits) {
        case (1, 16): encoding = .pcm16
        case (6, 8): encoding = .aLaw
        case (7, 8): encoding = .uLaw
        default: throw .unsupportedFormat(formatTag: tag, bitsPerSample: bits)
        }
        guard channels > 0, sampleRate > 0 else { throw .invalidFormat }
        let format = WAVFormat(encoding: encoding, sampleRate: sampleRate, channels: channels)
        guard format.isSupported else { throw .unsupportedFormat(formatTag: tag, bitsPerSample: bits) }
        guard blockAlign == format.blockAlign, byteRate == format.byteRate else { throw .invalidFormat }
        return format
    }
}

/// Bounds-checked little-endian reads; callers check lengths first, and out-of-range reads return 0 rather than trap.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func uint16(at offset: Int) -> UInt16 {
        guard offset >= 0, offset <= bytes.count - 2 else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func uint32(at offset: Int) -> UInt32 {
        guard offset >= 0, offset <= bytes.count - 4 else { return 0 }
        return UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16
    }

    func tag(at offset: Int) -> UInt32 { uint32(at: offset) }
}
