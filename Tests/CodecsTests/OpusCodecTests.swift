import Codecs
import Testing

@Suite struct OpusCodecTests {
    /// Encodes `frames` frames of `input` and decodes them at the same rate.
    private func roundTrip(_ input: [Int16], encoder: OpusEncoder, decoder: OpusDecoder, frames: Int) throws -> [Int16] {
        let frameSamples = encoder.frameSamples
        var payload = [UInt8](repeating: 0, count: encoder.maxPayloadSize)
        var frame = [Int16](repeating: 0, count: decoder.sampleRate * 120 / 1000)
        var decoded: [Int16] = []
        for index in 0..<frames {
            let slice = Array(input[index * frameSamples..<(index + 1) * frameSamples])
            let bytes = try slice.withUnsafeBufferPointer { pcm in
                try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
            #expect(bytes > 2 && bytes <= encoder.maxPayloadSize)
            let samples = try payload.withUnsafeBytes { raw in
                try frame.withUnsafeMutableBufferPointer { try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<bytes]), into: $0) }
            }
            #expect(samples == frameSamples)
            decoded += frame[0..<samples]
        }
        return decoded
    }

    @Test(arguments: [48000, 16000])
    func sineSurvivesRoundTrip(sampleRate: Int) throws {
        let configuration = OpusEncoderConfiguration(sampleRate: sampleRate, bitrate: 32000, complexity: 5)
        let encoder = try OpusEncoder(configuration: configuration)
        let decoder = try OpusDecoder(sampleRate: sampleRate)
        let frames = 50
        let input = CodecTestSignal.sine(frequency: 1000, sampleRate: sampleRate, count: encoder.frameSamples * frames)
        let decoded = try roundTrip(input, encoder: encoder, decoder: decoder, frames: frames)

        let start = encoder.frameSamples * 10
        let window = encoder.frameSamples * 20
        let inPower = CodecTestSignal.goertzelPower(input[start..<start + window], frequency: 1000, sampleRate: sampleRate)
        let outPower = CodecTestSignal.goertzelPower(decoded[start..<start + window], frequency: 1000, sampleRate: sampleRate)
        #expect(outPower > inPower * 0.5 && outPower < inPower * 2, "tone power \(outPower) vs \(inPower)")
        // Energy away from the tone stays small.
        let offTone = CodecTestSignal.goertzelPower(decoded[start..<start + window], frequency: 2500, sampleRate: sampleRate)
        #expect(offTone < outPower * 0.01)
        // After aligning for the codec delay (the encoder's lookahead plus decoder delay), the waveform matches.
        let aligned = CodecTestSignal.alignedSNR(reference: input, decoded: decoded, start: start, window: window,
                                                 maxLag: encoder.lookahead * 2 + sampleRate / 100)
        #expect(aligned.snr > 15, "SNR \(aligned.snr) dB at lag \(aligned.lag)")
    }

    @Test(arguments: [8000, 16000, 24000, 48000])
    func decoderOutputsTheConfiguredRate(outputRate: Int) throws {
        let encoder = try OpusEncoder(configuration: OpusEncoderConfiguration(sampleRate: 48000, bitrate: 32000))
        let decoder = try OpusDecoder(sampleRate: outputRate)
        let input = CodecTestSignal.sine(frequency: 1000, sampleRate: 48000, count: 960 * 20)
        var payload = [UInt8](repeating: 0, count: encoder.maxPayloadSize)
        var frame = [Int16](repeating: 0, count: outputRate * 120 / 1000)
        var decoded: [Int16] = []
        for index in 0..<20 {
            let slice = Array(input[index * 960..<(index + 1) * 960])
            let bytes = try slice.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
            let samples = try payload.withUnsafeBytes { raw in
                try frame.withUnsafeMutableBufferPointer { try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<bytes]), into: $0) }
            }
            #expect(samples == outputRate / 50)
            decoded += frame[0..<samples]
        }
        #expect(decoder.frameSamples == outputRate / 50)
        let tail = decoded[(decoded.count / 2)...]
        let tone = CodecTestSignal.goertzelPower(tail, frequency: 1000, sampleRate: outputRate)
        let expected = CodecTestSignal.goertzelPower(input[(input.count / 2)...], frequency: 1000, sampleRate: 48000)
        #expect(tone > expected * 0.5 && tone < expected * 2)
    }

    @Test func inbandFECRecoversALostPacket() throws {
        let sampleRate = 16000
        let configuration = OpusEncoderConfiguration(sampleRate: sampleRate, bitrate: 24000, isInbandFECEnabled: true,
                                                     packetLossPercentage: 20)
        let encoder = try OpusEncoder(configuration: configuration)
        let decoder = try OpusDecoder(sampleRate: sampleRate)
        let frameSamples = encoder.frameSamples
        // A voiced-speech-like signal: 200 Hz fundamental with harmonics.
        let count = frameSamples * 30
        let f0 = CodecTestSignal.sine(frequency: 200, sampleRate: sampleRate, count: count, amplitude: 6000)
        let h2 = CodecTestSignal.sine(frequency: 400, sampleRate: sampleRate, count: count, amplitude: 3000)
        let h3 = CodecTestSignal.sine(frequency: 600, sampleRate: sampleRate, count: count, amplitude: 1500)
        let input = (0..<count).map { f0[$0] &+ h2[$0] &+ h3[$0] }

        var packets: [[UInt8]] = []
        var payload = [UInt8](repeating: 0, count: encoder.maxPayloadSize)
        for index in 0..<30 {
            let slice = Array(input[index * frameSamples..<(index + 1) * frameSamples])
            let bytes = try slice.withUnsafeBufferPointer { pcm in
                try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
            packets.append(Array(payload[0..<bytes]))
        }
        var frame = [Int16](repeating: 0, count: frameSamples)
        for index in 0..<20 {
            _ = try packets[index].withUnsafeBytes { raw in try frame.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        }
        // Packet 20 is lost; packet 21 carries its FEC copy.
        let recovered = try packets[21].withUnsafeBytes { raw in
            try frame.withUnsafeMutableBufferPointer { try decoder.decodeFEC(raw, samples: frameSamples, into: $0) }
        }
        #expect(recovered == frameSamples)
        let original = CodecTestSignal.energy(input[20 * frameSamples..<21 * frameSamples])
        let fecEnergy = CodecTestSignal.energy(frame[...])
        #expect(fecEnergy > original * 0.25, "FEC frame energy \(fecEnergy) vs original \(original)")
        let tone = CodecTestSignal.goertzelPower(frame[...], frequency: 200, sampleRate: sampleRate)
        #expect(tone > 0.1 * 6000 * 6000 / 4)
        // The next packet then decodes normally.
        let next = try packets[21].withUnsafeBytes { raw in try frame.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        #expect(next == frameSamples)
    }

    @Test func concealmentProducesAFrameThatFades() throws {
        let sampleRate = 48000
        let encoder = try OpusEncoder(configuration: OpusEncoderConfiguration(sampleRate: sampleRate, bitrate: 32000))
        let decoder = try OpusDecoder(sampleRate: sampleRate)
        let input = CodecTestSignal.sine(frequency: 300, sampleRate: sampleRate, count: 960 * 10)
        let decoded = try roundTrip(input, encoder: encoder, decoder: decoder, frames: 10)
        var frame = [Int16](repeating: 0, count: 960)
        var first = 0.0
        var last = 0.0
        for index in 0..<15 {
            let samples = frame.withUnsafeMutableBufferPointer { decoder.conceal(into: $0) }
            #expect(samples == 960)
            if index == 0 { first = CodecTestSignal.energy(frame[...]) }
            last = CodecTestSignal.energy(frame[...])
        }
        let before = CodecTestSignal.energy(decoded[(decoded.count - 960)...])
        #expect(first > before * 0.1)
        #expect(last < first * 0.1)
    }

    @Test func stereoEncodesAndDecodesBothChannels() throws {
        let configuration = OpusEncoderConfiguration(sampleRate: 48000, channels: 2, application: .audio, bitrate: 64000)
        let encoder = try OpusEncoder(configuration: configuration)
        let decoder = try OpusDecoder(sampleRate: 48000, channels: 2)
        let left = CodecTestSignal.sine(frequency: 500, sampleRate: 48000, count: 960 * 20)
        var interleaved = [Int16](repeating: 0, count: left.count * 2)
        for index in 0..<left.count { interleaved[index * 2] = left[index] }
        var payload = [UInt8](repeating: 0, count: encoder.maxPayloadSize)
        var frame = [Int16](repeating: 0, count: 960 * 2)
        for index in 0..<20 {
            let slice = Array(interleaved[index * 1920..<(index + 1) * 1920])
            let bytes = try slice.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
            let samples = try payload.withUnsafeBytes { raw in
                try frame.withUnsafeMutableBufferPointer { try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<bytes]), into: $0) }
            }
            #expect(samples == 960)
        }
        let leftOut = stride(from: 0, to: frame.count, by: 2).map { frame[$0] }
        let rightOut = stride(from: 1, to: frame.count, by: 2).map { frame[$0] }
        #expect(CodecTestSignal.energy(leftOut[...]) > 100 * max(1, CodecTestSignal.energy(rightOut[...])))
    }

    @Test func wrongFrameSizeAndBadConfigurationThrow() throws {
        let encoder = try OpusEncoder()
        let short = [Int16](repeating: 0, count: 100)
        var payload = [UInt8](repeating: 0, count: 1500)
        #expect(throws: CodecError.wrongFrameSize(expected: 960, got: 100)) {
            try short.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
        }
        #expect(throws: CodecError.unsupportedConfiguration) { try OpusEncoder(configuration: .init(sampleRate: 44100)) }
        #expect(throws: CodecError.unsupportedConfiguration) { try OpusDecoder(sampleRate: 22050) }
    }

    @Test func garbagePacketsThrowAndNeverCrash() throws {
        let decoder = try OpusDecoder(sampleRate: 48000, channels: 2)
        var random = CodecTestRandom(seed: 0x0BAD_5EED)
        var output = [Int16](repeating: 0, count: 5760 * 2)
        var failures = 0
        for _ in 0..<3000 {
            let length = Int(random.next() % 200)
            let packet = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            do {
                let samples = try packet.withUnsafeBytes { raw in try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
                #expect(samples > 0 && samples <= 5760)
            } catch {
                failures += 1
            }
        }
        #expect(failures > 0)
        let empty: [UInt8] = []
        #expect(throws: CodecError.invalidPayload) {
            try empty.withUnsafeBytes { raw in try output.withUnsafeMutableBufferPointer { try decoder.decode(raw, into: $0) } }
        }
    }

    @Test func packetDurationComesFromTheTOC() throws {
        let encoder = try OpusEncoder(configuration: .init(sampleRate: 16000, frameMilliseconds: 40))
        let input = [Int16](repeating: 0, count: 640)
        var payload = [UInt8](repeating: 0, count: encoder.maxPayloadSize)
        let bytes = try input.withUnsafeBufferPointer { pcm in try payload.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) } }
        let samples = payload.withUnsafeBytes { OpusDecoder.samplesPerChannel(in: UnsafeRawBufferPointer(rebasing: $0[0..<bytes]), sampleRate: 48000) }
        #expect(samples == 1920)
    }
}

/// A fixed-seed xorshift64* generator so fuzz tests are reproducible.
struct CodecTestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
