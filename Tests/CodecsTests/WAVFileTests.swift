import Codecs
import Foundation
import Testing

@Suite struct WAVFileTests {
    static let encodings: [WAVFormat.Encoding] = [.pcm16, .uLaw, .aLaw]
    static let formats: [WAVFormat] = encodings.flatMap { encoding in
        [8000, 11025, 16000, 22050, 32000, 44100, 48000].flatMap { rate in
            [1, 2].map { WAVFormat(encoding: encoding, sampleRate: rate, channels: $0) }
        }
    }

    private static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-wav-\(getpid())-\(name).wav").path
    }

    /// What a sample reads back as once stored in `encoding`.
    private static func stored(_ sample: Int16, _ encoding: WAVFormat.Encoding) -> Int16 {
        switch encoding {
        case .pcm16: sample
        case .uLaw: G711.decodeULaw(G711.encodeULaw(sample))
        case .aLaw: G711.decodeALaw(G711.encodeALaw(sample))
        }
    }

    @Test(arguments: formats)
    func streamingWriteThenReadRoundTrips(format: WAVFormat) throws {
        let path = Self.temporaryPath("\(format.formatTag)-\(format.sampleRate)-\(format.channels)")
        defer { unlink(path) }
        // An odd number of sample frames so the 8-bit formats need a pad byte.
        let frames = 1001
        let samples = CodecTestSignal.sine(frequency: 440, sampleRate: format.sampleRate, count: frames * format.channels,
                                           amplitude: 20000)
        let writer = try WAVWriter(path: path, format: format)
        // Appended in uneven pieces, as a recorder would.
        var start = 0
        for piece in [1, 300, 2500] where start < samples.count {
            let end = min(samples.count, start + piece * format.channels)
            try samples[start..<end].withUnsafeBufferPointer { try writer.append(samples: $0) }
            start = end
        }
        try samples[start...].withUnsafeBufferPointer { try writer.append(samples: $0) }
        try writer.finish()
        #expect(writer.dataBytes == samples.count * format.bitsPerSample / 8)

        let file = try WAVFile(contentsOf: path)
        #expect(file.format == format)
        #expect(file.samples() == samples.map { Self.stored($0, format.encoding) })
        // The file on disk is exactly what the in-memory writer produces.
        let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(onDisk == file.serialized())
        #expect(onDisk.count % 2 == 0)
    }

    @Test func headerFieldsMatchTheClassicLayout() {
        let file = WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 16000, channels: 1), samples: [1, -1])
        let bytes = file.serialized()
        #expect(bytes.count == 48)
        #expect(Array(bytes[0..<4]) == Array("RIFF".utf8) && Array(bytes[8..<16]) == Array("WAVEfmt ".utf8))
        #expect(bytes[4] == 40 && bytes[16] == 16 && bytes[20] == 1 && bytes[22] == 1)
        #expect(bytes[24] == 0x80 && bytes[25] == 0x3E) // 16000
        #expect(bytes[28] == 0x00 && bytes[29] == 0x7D) // 32000 bytes/s
        #expect(bytes[32] == 2 && bytes[34] == 16)
        #expect(Array(bytes[36..<40]) == Array("data".utf8) && bytes[40] == 4)
        #expect(Array(bytes[44...]) == [0x01, 0x00, 0xFF, 0xFF])
        let law = WAVFile(format: WAVFormat(encoding: .uLaw, sampleRate: 8000), samples: [0, 0, 0]).serialized()
        #expect(law.count == 58 + 4)
        #expect(law[16] == 18 && law[20] == 7 && law[34] == 8)
        #expect(Array(law[38..<42]) == Array("fact".utf8) && law[46] == 3)
    }

    @Test func unknownChunksAreSkippedAndExtensibleIsRead() throws {
        var bytes = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVE".utf8)
        bytes += Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3, 0] // odd size plus pad byte
        bytes += Array("fmt ".utf8) + [40, 0, 0, 0, 0xFE, 0xFF, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0,
                                       22, 0, 16, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]
        bytes += Array("data".utf8) + [4, 0, 0, 0, 0x34, 0x12, 0xCC, 0xED]
        let riffSize = bytes.count - 8
        bytes[4] = UInt8(riffSize)
        let file = try WAVFile(parsing: bytes)
        #expect(file.format == WAVFormat(encoding: .pcm16, sampleRate: 8000, channels: 1))
        #expect(file.samples() == [0x1234, -0x1234])
    }

    private static func validFile(_ encoding: WAVFormat.Encoding = .pcm16, channels: Int = 1) -> [UInt8] {
        WAVFile(format: WAVFormat(encoding: encoding, sampleRate: 8000, channels: channels),
                samples: CodecTestSignal.sine(frequency: 500, sampleRate: 8000, count: 40 * channels)).serialized()
    }

    private static func patched(_ bytes: [UInt8], at offset: Int, _ values: [UInt8]) -> [UInt8] {
        var copy = bytes
        copy.replaceSubrange(offset..<offset + values.count, with: values)
        return copy
    }

    static let malformed: [(String, [UInt8], WAVError)] = {
        let good = validFile()
        return [
            ("empty", [], .truncated),
            ("eleven bytes", Array(good[0..<11]), .truncated),
            ("RIFX", patched(good, at: 0, Array("RIFX".utf8)), .badMagic),
            ("AVI form", patched(good, at: 8, Array("AVI ".utf8)), .badMagic),
            ("riff size 2", patched(good, at: 4, [2, 0, 0, 0]), .invalidChunkSize),
            ("header only", Array(good[0..<12]), .truncated),
            ("fmt cut short", Array(good[0..<30]), .truncated),
            ("zero sizes, no data chunk", patched(Array(good[0..<36]), at: 4, [0, 0, 0, 0]), .truncated),
            ("fmt size 2", patched(good, at: 16, [2, 0, 0, 0]), .invalidChunkSize),
            ("fmt size huge", patched(good, at: 16, [0, 0, 1, 0]), .invalidChunkSize),
            ("ADPCM", patched(good, at: 20, [2, 0]), .unsupportedFormat(formatTag: 2, bitsPerSample: 16)),
            ("24-bit", patched(good, at: 34, [24, 0]), .unsupportedFormat(formatTag: 1, bitsPerSample: 24)),
            ("zero channels", patched(good, at: 22, [0, 0]), .invalidFormat),
            ("three channels", patched(good, at: 22, [3, 0]), .unsupportedFormat(formatTag: 1, bitsPerSample: 16)),
            ("96 kHz", patched(good, at: 24, [0x00, 0x77, 0x01, 0x00]), .unsupportedFormat(formatTag: 1, bitsPerSample: 16)),
            ("zero rate", patched(good, at: 24, [0, 0, 0, 0]), .invalidFormat),
            ("wrong block align", patched(good, at: 32, [4, 0]), .invalidFormat),
            ("wrong byte rate", patched(good, at: 28, [1, 0, 0, 0]), .invalidFormat),
            ("data before fmt", patched(good, at: 12, Array("junk".utf8)), .missingFormat),
            ("no data", patched(good, at: 36, Array("junk".utf8)), .missingData),
        ]
    }()

    @Test(arguments: malformed)
    func malformedFilesThrowTypedErrors(name: String, bytes: [UInt8], error: WAVError) {
        #expect(throws: error, "\(name)") { try WAVFile(parsing: bytes) }
    }

    /// Sizes a crashed or killed writer leaves behind: the file is read up to the bytes actually present.
    static let openEnded: [(String, [UInt8], Int)] = {
        let good = validFile()
        let zeroSizes = patched(patched(good, at: 4, [0, 0, 0, 0]), at: 40, [0, 0, 0, 0])
        return [
            ("zero RIFF and data sizes", zeroSizes, 40),
            ("zero sizes, cut mid-sample", Array(zeroSizes[0..<(44 + 21)]), 10),
            ("zero sizes, header only", Array(zeroSizes[0..<44]), 0),
            // WAVWriter's first header (RIFF size 36, data size 0), then samples appended but never patched.
            ("unpatched writer header", patched(patched(good, at: 4, [36, 0, 0, 0]), at: 40, [0, 0, 0, 0]), 40),
            ("streaming 0xFFFFFFFF sizes", patched(patched(good, at: 4, [0xFF, 0xFF, 0xFF, 0xFF]), at: 40,
                                                   [0xFF, 0xFF, 0xFF, 0xFF]), 40),
            ("riff larger than file", patched(good, at: 4, [0xFF, 0x00, 0x00, 0x00]), 40),
            ("absurd riff size", patched(good, at: 4, [0xF0, 0xFF, 0xFF, 0xFF]), 40),
            ("data cut short", Array(good[0..<60]), 8),
            ("absurd data size", patched(good, at: 40, [0xFF, 0xFF, 0xFF, 0x7F]), 40),
            ("data size past riff", patched(good, at: 40, [0xFF, 0x00, 0x00, 0x00]), 40),
            // A stale header (patched earlier, more written since): valid up to the patched size.
            ("stale sizes", patched(patched(good, at: 4, [36 + 20, 0, 0, 0]), at: 40, [20, 0, 0, 0]), 10),
        ]
    }()

    @Test(arguments: openEnded)
    func unfinishedFilesAreReadUpToTheBytesPresent(name: String, bytes: [UInt8], samples: Int) throws {
        let file = try WAVFile(parsing: bytes)
        #expect(file.samples().count == samples, "\(name)")
        let expected = WAVFile(format: file.format, data: Array(Self.validFile()[44..<(44 + samples * 2)])).samples()
        #expect(file.samples() == expected, "\(name)")
    }

    @Test func emptyDataChunkInAFinishedFileStaysEmpty() throws {
        // A correct RIFF size with a zero data size is a genuinely empty prompt, not an open-ended one; the trailing
        // LIST chunk must not be read as audio.
        var bytes = WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000), samples: []).serialized()
        bytes += Array("LIST".utf8) + [4, 0, 0, 0, 1, 2, 3, 4]
        bytes[4] = UInt8(bytes.count - 8)
        #expect(try WAVFile(parsing: bytes).data.isEmpty)
    }

    @Test func aWriterThatCannotWriteItsHeaderThrowsAndClosesTheDescriptorOnce() throws {
        // /dev/full refuses every write with ENOSPC. Regression: the failed init used to free its scratch buffer and
        // close the descriptor, then deinit did both again (double free).
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        #expect(descriptor >= 0)
        #expect(throws: WAVError.io(errno: ENOSPC)) {
            try WAVWriter(fileDescriptor: descriptor, format: WAVFormat(encoding: .pcm16, sampleRate: 8000),
                          closesDescriptor: true)
        }
        #expect(fcntl(descriptor, F_GETFD) == -1 && errno == EBADF)
    }

    @Test func missingFileIsAnIOError() {
        #expect(throws: WAVError.io(errno: ENOENT)) { try WAVFile(contentsOf: "/nonexistent/tandem.wav") }
    }

    @Test func fuzzedFilesNeverTrapAndRoundTrip() throws {
        var random = CodecTestRandom(seed: 0x5741_5645)
        let seeds = [Self.validFile(), Self.validFile(.uLaw, channels: 2), Self.validFile(.aLaw),
                     WAVFile(format: WAVFormat(encoding: .uLaw, sampleRate: 16000), samples: [1, 2, 3]).serialized()]
        var accepted = 0
        var rejected = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(max(bytes.count, 1)))
                switch random.next() % 6 {
                case 0 where !bytes.isEmpty: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8(random.next() % 8)
                case 2: bytes = Array(bytes[0..<position])
                case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: min(position, bytes.count))
                case 4 where position + 4 <= bytes.count:
                    // Overwrite a 32-bit field (often a size) with an extreme or random value.
                    let value: UInt32 = [0, 1, 0xFFFF_FFFF, 0x8000_0000, UInt32(truncatingIfNeeded: random.next())][Int(random.next() % 5)]
                    for index in 0..<4 { bytes[position + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
                default: if !bytes.isEmpty { bytes.remove(at: position) }
                }
            }
            do {
                let file = try WAVFile(parsing: bytes)
                accepted += 1
                let again = try WAVFile(parsing: file.serialized())
                #expect(again == file)
            } catch {
                rejected += 1
            }
        }
        #expect(accepted > 1000 && rejected > 1000)
    }
}
