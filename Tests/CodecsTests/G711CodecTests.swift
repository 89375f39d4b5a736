import Codecs
import Testing

@Suite struct G711CodecTests {
    @Test(arguments: [G711Law.uLaw, .aLaw])
    func frameRoundTripKeepsTheSignal(law: G711Law) throws {
        let encoder = G711Encoder(law: law)
        let decoder = G711Decoder(law: law)
        let input = CodecTestSignal.sine(frequency: 1000, sampleRate: 8000, count: 160)
        var payload = [UInt8](repeating: 0, count: 160)
        var output = [Int16](repeating: 0, count: 160)
        let bytes = try input.withUnsafeBufferPointer { pcm in
            try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
        }
        #expect(bytes == 160)
        let samples = try payload.withUnsafeBytes { raw in
            try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) }
        }
        #expect(samples == 160)
        let snr = CodecTestSignal.alignedSNR(reference: input, decoded: output, start: 0, window: 160, maxLag: 1)
        // G.711 gives about 38 dB SNR on a sine well inside its range.
        #expect(snr.snr > 30)
        // The codes must be exactly what the scalar functions produce.
        for index in 0..<160 {
            let code = law == .uLaw ? G711.encodeULaw(input[index]) : G711.encodeALaw(input[index])
            #expect(payload[index] == code)
        }
    }

    @Test func encoderRejectsShortOutput() {
        let encoder = G711Encoder(law: .uLaw)
        let input = [Int16](repeating: 0, count: 160)
        var payload = [UInt8](repeating: 0, count: 100)
        #expect(throws: CodecError.outputTooSmall(needed: 160, available: 100)) {
            try input.withUnsafeBufferPointer { pcm in
                try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
        }
    }

    @Test func bufferTranscodingMatchesScalarTables() {
        let codes = (0...255).map { UInt8($0) }
        var aLaw = [UInt8](repeating: 0, count: 256)
        var back = [UInt8](repeating: 0, count: 256)
        let written = codes.withUnsafeBytes { input in aLaw.withUnsafeMutableBytes { G711.transcodeULawToALaw(input, into: $0) } }
        _ = aLaw.withUnsafeBytes { input in back.withUnsafeMutableBytes { G711.transcodeALawToULaw(input, into: $0) } }
        #expect(written == 256)
        for code in 0..<256 {
            #expect(aLaw[code] == G711.aLaw(fromULaw: UInt8(code)))
            #expect(back[code] == G711.uLaw(fromALaw: aLaw[code]))
        }
        // A µ-law code survives a trip through A-law to within one step of its decoded value ratio.
        for code in 0..<256 {
            let original = Double(G711.decodeULaw(UInt8(code)))
            let tripped = Double(G711.decodeULaw(back[code]))
            #expect(abs(original - tripped) <= max(16, abs(original) * 0.07))
        }
    }
}
