#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a RIFF/WAVE file to a file descriptor: a header with placeholder sizes first, then `append` calls,
/// then `finish()` rewrites the RIFF, `fact` and `data` sizes. For the recorder.
///
/// Uses blocking `pwrite` at explicit offsets (the descriptor's position is not used): call it from a recording
/// or I/O thread, never from a media worker. `append(samples:)` converts through a fixed scratch buffer, so it does
/// not allocate. Not thread-safe: one owner.
public final class WAVWriter {
    /// The format being written.
    public let format: WAVFormat
    /// Bytes of sample data written so far.
    public private(set) var dataBytes = 0
    /// Whether `finish()` has completed.
    public private(set) var isFinished = false
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let scratch: UnsafeMutableRawBufferPointer

    /// The largest data size a WAV header can describe (32-bit RIFF size minus the header).
    public var maxDataBytes: Int { Int(UInt32.max) - format.headerSize - 1 }

    /// Starts a file on `fileDescriptor`, writing the header at offset 0. The caller keeps ownership of the
    /// descriptor unless `closesDescriptor` is true.
    public init(fileDescriptor: Int32, format: WAVFormat, closesDescriptor: Bool = false) throws(WAVError) {
        guard format.isSupported else {
            throw .unsupportedFormat(formatTag: format.formatTag, bitsPerSample: UInt16(format.bitsPerSample))
        }
        self.format = format
        self.descriptor = fileDescriptor
        self.ownsDescriptor = closesDescriptor
        self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        do {
            try writeHeader()
        } catch {
            // Every stored property is set, so `deinit` runs after this throw and frees `scratch`; it must not try
            // to finish (or close the descriptor a second time).
            isFinished = true
            if closesDescriptor { close(fileDescriptor) }
            throw error
        }
    }

    /// Creates (or truncates) the file at `path` with mode 0644 and starts writing it; the writer owns the descriptor.
    public convenience init(path: String, format: WAVFormat) throws(WAVError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno) }
        try self.init(fileDescriptor: descriptor, format: format, closesDescriptor: true)
    }

    deinit {
        if !isFinished { try? finish() }
        scratch.deallocate()
    }

    /// Appends already-encoded sample bytes (little-endian PCM16 or G.711 codes, whole sample frames).
    public func append(_ bytes: UnsafeRawBufferPointer) throws(WAVError) {
        guard !isFinished else { throw .io(errno: EBADF) }
        guard bytes.count <= maxDataBytes - dataBytes else { throw .invalidChunkSize }
        try writeAll(bytes, at: format.headerSize + dataBytes)
        dataBytes += bytes.count
    }

    /// Appends interleaved linear samples, encoding them to the file's format. Does not allocate.
    public func append(samples: UnsafeBufferPointer<Int16>) throws(WAVError) {
        let bytesPerSample = format.bitsPerSample / 8
        let chunkSamples = scratch.count / bytesPerSample
        var start = 0
        while start < samples.count {
            let count = min(chunkSamples, samples.count - start)
            let slice = UnsafeBufferPointer(rebasing: samples[start..<start + count])
            let written: Int
            switch format.encoding {
            case .pcm16:
                for index in 0..<count {
                    scratch.storeBytes(of: slice[index].littleEndian, toByteOffset: index * 2, as: Int16.self)
                }
                written = count * 2
            case .uLaw: written = G711.encodeULaw(slice, into: scratch)
            case .aLaw: written = G711.encodeALaw(slice, into: scratch)
            }
            try append(UnsafeRawBufferPointer(rebasing: scratch[0..<written]))
            start += count
        }
    }

    /// Rewrites the header's RIFF, `fact` and `data` sizes for the data written so far, without finishing, so that a
    /// file cut short later (crash, kill, full disk) is readable up to this point. One 44–58 byte `pwrite`; call it
    /// periodically (the recorder does so about once a second). Does not allocate.
    public func updateHeader() throws(WAVError) {
        guard !isFinished else { return }
        try writeHeader()
    }

    /// Writes the pad byte an odd data size needs, patches the sizes in the header, and closes the descriptor
    /// if the writer owns it. Calling it again does nothing.
    public func finish() throws(WAVError) {
        guard !isFinished else { return }
        isFinished = true
        defer { if ownsDescriptor { close(descriptor) } }
        if dataBytes & 1 == 1 {
            var pad: UInt8 = 0
            try withUnsafeBytes(of: &pad) { (raw) throws(WAVError) in try writeAll(raw, at: format.headerSize + dataBytes) }
        }
        try writeHeader()
    }

    private func writeHeader() throws(WAVError) {
        let header = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<format.headerSize])
        _ = format.writeHeader(into: header, dataBytes: dataBytes)
        try writeAll(UnsafeRawBufferPointer(header), at: 0)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(WAVError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let result = pwrite(descriptor, base + done, bytes.count - done, off_t(offset + done))
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(errno: errno)
            }
            done += result
        }
    }
}
