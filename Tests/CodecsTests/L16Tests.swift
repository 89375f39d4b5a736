import Codecs
import Testing

@Suite struct L16Tests {
    @Test func samplesGoOutBigEndian() throws {
        let encoder = try L16Encoder(sampleRate: 16000, channels: 2, frameSamples: 2)
        let input: [Int16] = [0x0102, -2, 0x7FFF, -0x8000]
        var payload = [UInt8](repeating: 0, count: 8)
        let bytes = try input.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
        #expect(bytes == 8)
        #expect(payload == [0x01, 0x02, 0xFF, 0xFE, 0x7F, 0xFF, 0x80, 0x00])

        let decoder = try L16Decoder(sampleRate: 16000, channels: 2, frameSamples: 2)
        var output = [Int16](repeating: 0, count: 4)
        let frames = try payload.withUnsafeBytes { raw in try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        #expect(frames == 2)
        #expect(output == input)
    }

    @Test func raggedStereoPayloadIsRejected() throws {
        let decoder = try L16Decoder(sampleRate: 8000, channels: 2, frameSamples: 160)
        let payload: [UInt8] = [1, 2, 3, 4, 5, 6]
        var output = [Int16](repeating: 0, count: 16)
        #expect(throws: CodecError.invalidPayload) {
            try payload.withUnsafeBytes { raw in try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        }
    }

    @Test func descriptorUsesStaticTypesOnlyAt44100() {
        #expect(L16.descriptor(sampleRate: 44100, channels: 2).staticPayloadType == 10)
        #expect(L16.descriptor(sampleRate: 44100, channels: 1).staticPayloadType == 11)
        #expect(L16.descriptor(sampleRate: 16000, channels: 1).staticPayloadType == nil)
        #expect(L16.descriptor(sampleRate: 16000, channels: 1) == CodecDescriptor.l16Mono16k)
    }

    @Test func concealmentRampsFromTheLastSampleToZero() throws {
        let decoder = try L16Decoder(sampleRate: 8000, channels: 1, frameSamples: 4)
        let payload: [UInt8] = [0x10, 0x00]
        var output = [Int16](repeating: 0, count: 4)
        _ = try payload.withUnsafeBytes { raw in try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        let count = output.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
        #expect(count == 4)
        #expect(output == [0x0C00, 0x0800, 0x0400, 0])
    }
}
