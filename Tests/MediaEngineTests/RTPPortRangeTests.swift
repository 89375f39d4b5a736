import MediaEngine
import Testing

@Suite struct RTPPortRangeTests {
    @Test func trimsToWholeEvenOddPairs() throws {
        let r = try RTPPortRange(parsing: "20001-20010")
        #expect(r.lowerBound == 20002 && r.upperBound == 20009)
        #expect(r.pairCount == 4)
        #expect(RTPPortRange.default.description == "20000-39999")
        #expect(RTPPortRange.default.pairCount == 10000)
    }

    @Test(arguments: ["", "20000", "a-b", "30000-20000", "80-90", "20000-70000", "20000-20000", "20001-20002"])
    func rejectsUnusableRanges(text: String) {
        #expect(throws: MediaEngineError.self) { try RTPPortRange(parsing: text) }
    }

    @Test func slicesAreDisjointAndCoverTheRange() throws {
        let r = try RTPPortRange(20000, 20999)
        let slices = r.slices(3)
        #expect(slices.count == 3)
        #expect(slices.first?.lowerBound == 20000 && slices.last?.upperBound == 20999)
        for (a, b) in zip(slices, slices.dropFirst()) { #expect(a.upperBound + 1 == b.lowerBound) }
        #expect(slices.map(\.pairCount).reduce(0, +) == r.pairCount)
        #expect(HostCPU.availableCount >= 1)
    }
}
