import Codecs
import Testing

@Suite struct G722CodecTests {
    @Test func sineRoundTripKeepsQualityAfterCodecDelay() throws {
        let encoder = try G722Encoder()
        let decoder = try G722Decoder()
        let input = CodecTestSignal.sine(frequency: 1000, sampleRate: 16000, count: 320 * 25)
        var decoded: [Int16] = []
        var payload = [UInt8](repeating: 0, count: 160)
        var frame = [Int16](repeating: 0, count: 320)
        for index in 0..<25 {
            let slice = Array(input[index * 320..<(index + 1) * 320])
            let bytes = try slice.withUnsafeBufferPointer { pcm in
                try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
            #expect(bytes == 160)
            let samples = try payload.withUnsafeBytes { raw in
                try frame.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) }
            }
            #expect(samples == 320)
            decoded += frame
        }
        // The QMF filter pair delays the signal by 22 samples at 16 kHz; search around it.
        let result = CodecTestSignal.alignedSNR(reference: input, decoded: decoded, start: 1600, window: 3200, maxLag: 64)
        #expect(result.snr > 30, "SNR \(result.snr) dB at lag \(result.lag)")
        let inPower = CodecTestSignal.goertzelPower(input[1600..<4800], frequency: 1000, sampleRate: 16000)
        let outPower = CodecTestSignal.goertzelPower(decoded[1600..<4800], frequency: 1000, sampleRate: 16000)
        #expect(outPower > inPower * 0.8 && outPower < inPower * 1.25)
    }

    @Test func oddSampleCountIsRejected() throws {
        let encoder = try G722Encoder()
        let input = [Int16](repeating: 0, count: 319)
        var payload = [UInt8](repeating: 0, count: 160)
        #expect(throws: CodecError.self) {
            try input.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
        }
    }
}
