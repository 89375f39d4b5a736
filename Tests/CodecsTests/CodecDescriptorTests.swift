import Codecs
import Testing

@Suite struct CodecDescriptorTests {
    @Test func g722KeepsTheEightKilohertzRTPClock() {
        // RFC 3551 §4.5.2: 20 ms of G.722 is 320 samples but advances the RTP timestamp by 160.
        #expect(CodecDescriptor.g722.samplesPerFrame(milliseconds: 20) == 320)
        #expect(CodecDescriptor.g722.timestampIncrement(milliseconds: 20) == 160)
        #expect(CodecDescriptor.opus.timestampIncrement(milliseconds: 20) == 960)
        #expect(CodecDescriptor.pcmu.staticPayloadType == 0 && CodecDescriptor.pcma.staticPayloadType == 8)
        #expect(Set(CodecDescriptor.all.map(\.name)).count == CodecDescriptor.all.count)
    }
}
