import RTP
import Testing

@Suite struct IdentifierTests {
    @Test func payloadTypesAreSevenBits() {
        #expect(PayloadType(rawValue: 127) != nil)
        #expect(PayloadType(rawValue: 128) == nil)
        #expect(PayloadType.pcma.isStatic && !PayloadType(rawValue: 111)!.isStatic)
        #expect(PayloadType(rawValue: 72)!.collidesWithRTCP && !PayloadType(rawValue: 96)!.collidesWithRTCP)
        #expect(SSRC(0xdeadbeef).description == "0xdeadbeef")
    }
}
