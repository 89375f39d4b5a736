import Codecs
import Testing

@Suite struct PacketLossConcealerTests {
    /// Decodes `frames` of a 300 Hz voiced-like tone, then conceals `lost` frames; returns the concealed audio.
    private func concealAfterSpeech(law: G711Law, lost: Int) throws -> (received: [Int16], concealed: [Int16]) {
        let encoder = G711Encoder(law: law)
        let decoder = G711Decoder(law: law)
        let speech = CodecTestSignal.sine(frequency: 300, sampleRate: 8000, count: 160 * 10)
        var received: [Int16] = []
        var payload = [UInt8](repeating: 0, count: 160)
        var frame = [Int16](repeating: 0, count: 160)
        for index in 0..<10 {
            let slice = Array(speech[index * 160..<(index + 1) * 160])
            _ = try slice.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
            _ = try payload.withUnsafeBytes { raw in try frame.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
            received += frame
        }
        var concealed: [Int16] = []
        for _ in 0..<lost {
            let count = frame.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
            #expect(count == 160)
            concealed += frame
        }
        return (received, concealed)
    }

    @Test(arguments: [G711Law.uLaw, .aLaw])
    func firstConcealedFrameContinuesTheSignal(law: G711Law) throws {
        let (received, concealed) = try concealAfterSpeech(law: law, lost: 1)
        let before = CodecTestSignal.energy(received[(received.count - 160)...])
        let after = CodecTestSignal.energy(concealed[0..<160])
        #expect(after > before * 0.3, "concealment must not be silence: \(after) vs \(before)")
        // The repeated pitch keeps the 300 Hz tone.
        let tone = CodecTestSignal.goertzelPower(concealed[0..<160], frequency: 300, sampleRate: 8000)
        #expect(tone > 0.2 * 10000 * 10000 / 4)
    }

    @Test func longLossFadesToSilence() throws {
        let (received, concealed) = try concealAfterSpeech(law: .uLaw, lost: 10)
        let before = CodecTestSignal.energy(received[(received.count - 160)...])
        let firstFrame = CodecTestSignal.energy(concealed[0..<160])
        let lastFrame = CodecTestSignal.energy(concealed[(concealed.count - 160)...])
        #expect(lastFrame < firstFrame * 0.01)
        #expect(lastFrame < before * 0.01)
    }

    @Test func concealingWithoutHistoryIsSilent() {
        let concealer = PacketLossConcealer()
        var frame = [Int16](repeating: 1234, count: 160)
        let count = frame.withUnsafeMutableBufferPointer { concealer.conceal(into: $0) }
        #expect(count == 160)
        #expect(frame.allSatisfy { $0 == 0 })
    }

    @Test func g722DecoderConcealsWithEnergy() throws {
        let encoder = try G722Encoder()
        let decoder = try G722Decoder()
        let speech = CodecTestSignal.sine(frequency: 300, sampleRate: 16000, count: 320 * 10)
        var payload = [UInt8](repeating: 0, count: 160)
        var frame = [Int16](repeating: 0, count: 320)
        var last: [Int16] = []
        for index in 0..<10 {
            let slice = Array(speech[index * 320..<(index + 1) * 320])
            _ = try slice.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
            _ = try payload.withUnsafeBytes { raw in try frame.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
            last = frame
        }
        let count = frame.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
        #expect(count == 320)
        #expect(CodecTestSignal.energy(frame[...]) > CodecTestSignal.energy(last[...]) * 0.3)
    }
}
