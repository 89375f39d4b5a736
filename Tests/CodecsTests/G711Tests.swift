import CSpanDSP
import Codecs
import Testing

@Suite struct G711Tests {
    @Test func everySixteenBitSampleEncodesLikeSpanDSP() {
        var uMismatches = 0
        var aMismatches = 0
        for bits in 0...0xFFFF {
            let sample = Int16(truncatingIfNeeded: bits)
            if G711.encodeULaw(sample) != linear_to_ulaw(Int32(sample)) { uMismatches += 1 }
            if G711.encodeALaw(sample) != linear_to_alaw(Int32(sample)) { aMismatches += 1 }
            if G711.encodeULawComputed(sample) != linear_to_ulaw(Int32(sample)) { uMismatches += 1 }
            if G711.encodeALawComputed(sample) != linear_to_alaw(Int32(sample)) { aMismatches += 1 }
        }
        #expect(uMismatches == 0)
        #expect(aMismatches == 0)
    }

    @Test func everyCodeDecodesLikeSpanDSP() {
        for code in UInt8.min...UInt8.max {
            #expect(G711.decodeULaw(code) == ulaw_to_linear(code))
            #expect(G711.decodeALaw(code) == alaw_to_linear(code))
        }
    }

    @Test func directTranscodingMatchesG711TablesThreeAndFour() {
        for code in UInt8.min...UInt8.max {
            #expect(G711.aLaw(fromULaw: code) == ulaw_to_alaw(code), "µ-law code \(code)")
            #expect(G711.uLaw(fromALaw: code) == alaw_to_ulaw(code), "A-law code \(code)")
        }
    }
}
