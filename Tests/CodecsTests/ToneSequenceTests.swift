import Codecs
import Testing

@Suite struct ToneSequenceTests {
    @Test func parsesTheExampleDescription() throws {
        let s = try ToneSequence(parsing: " 350+440/1000, 0/500 ,440*0.5/300")
        #expect(s.segments == [
            ToneSegment([350, 440], milliseconds: 1000),
            .silence(milliseconds: 500),
            ToneSegment([440], gains: [0.5], milliseconds: 300),
        ])
        #expect(s.description == "350+440/1000,0/500,440*0.5/300")
        let t = try ToneSequence(parsing: "!350+440/100,!0/100,350.5+440")
        #expect(t.segments[0].playsOnce && t.segments[1].playsOnce && !t.segments[2].playsOnce)
        #expect(t.segments[2].durationMilliseconds == nil && t.segments[2].frequencies == [350.5, 440])
    }

    @Test(arguments: [
        ("", ToneDescriptionError.empty),
        ("   ", .empty),
        ("abc", .unexpectedCharacter(offset: 0)),
        ("350+/100", .unexpectedCharacter(offset: 4)),
        ("350/0", .invalidDuration(offset: 4)),
        ("350/1.5", .invalidDuration(offset: 4)),
        ("350/700000", .invalidDuration(offset: 4)),
        ("350/", .unexpectedCharacter(offset: 4)),
        ("4000/100", .invalidFrequency(offset: 0)),
        ("0.5/100", .invalidFrequency(offset: 0)),
        ("350*2/100", .invalidGain(offset: 4)),
        ("350*0.0001/100", .invalidGain(offset: 4)),
        ("1+2+3+4+5/100", .tooManyFrequencies(offset: 0)),
        ("350,440/100", .continuousSegmentNotLast(offset: 4)),
        ("350/100;", .unexpectedCharacter(offset: 7)),
        ("350/100,", .unexpectedCharacter(offset: 8)),
        ("0+440/100", .unexpectedCharacter(offset: 1)),
        ("350..1/100", .unexpectedCharacter(offset: 4)),
        ("3.5.0/100", .unexpectedCharacter(offset: 3)),
    ])
    func rejectsBadDescriptions(text: String, error: ToneDescriptionError) {
        #expect(throws: error) { try ToneSequence(parsing: text) }
    }

    @Test func rejectsOversizeDescriptions() {
        let many = Array(repeating: "440/10", count: ToneSequence.maximumSegments + 1).joined(separator: ",")
        #expect(throws: ToneDescriptionError.tooManySegments) { try ToneSequence(parsing: many) }
        #expect(throws: ToneDescriptionError.tooLong) { try ToneSequence(parsing: String(repeating: "4", count: 5000)) }
        #expect(throws: ToneDescriptionError.unexpectedCharacter(offset: 25)) { try ToneSequence(parsing: String(repeating: "4", count: 100)) }
    }

    /// Fuzz: 20,000 mutated descriptions never trap, and whatever parses round-trips.
    @Test func fuzzParseWriteParseRoundTrips() throws {
        var rng = DSPTestRandom(seed: 2026)
        let alphabet = Array("0123456789.+*/,! x-é\t")
        let seeds = ["350+440/1000,0/500,440*0.5/300", "!350+440/100,!0/100,425", "480+620/250,0/250",
                     "400+450/400,0/200,400+450/400,0/2000", "1209*0.25+697/40"]
        var parsed = 0
        for _ in 0..<20_000 {
            var chars = Array(seeds[Int(rng.next() % UInt64(seeds.count))])
            for _ in 0..<Int(rng.next() % 4) {
                let op = rng.next() % 3
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                let i = chars.isEmpty ? 0 : Int(rng.next() % UInt64(chars.count))
                switch op {
                case 0: chars.insert(c, at: i)
                case 1: if !chars.isEmpty { chars.remove(at: i) }
                default: if !chars.isEmpty { chars[i] = c }
                }
            }
            guard let s = try? ToneSequence(parsing: String(chars)) else { continue }
            parsed += 1
            let again = try ToneSequence(parsing: s.description)
            #expect(again == s, "\(String(chars)) → \(s.description)")
        }
        // The mutations are mild enough that a good share still parses (so round-trips are tested).
        #expect(parsed > 2000)
    }
}
