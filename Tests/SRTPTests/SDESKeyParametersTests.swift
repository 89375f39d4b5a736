import Testing
@testable import SRTP

@Suite struct SDESKeyParametersTests {
    @Test func parsesRFC4568Example() throws {
        // RFC 4568 §7.1.1 offer: 30 bytes of key||salt, lifetime 2^20, MKI 1 of length 4.
        let text = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4"
        let parameters = try SDESKeyParameters(parsing: text, suite: .aesCM128HMACSHA1_80)
        #expect(parameters.masterKey.count == 16)
        #expect(parameters.masterSalt.count == 14)
        #expect(parameters.lifetime == 1 << 20)
        #expect(parameters.mki?.value == 1)
        #expect(parameters.mki?.length == 4)
        #expect(parameters.serialized == text)
    }

    @Test func base64RoundTripsEveryLength() {
        var random = TestRandom(seed: 3)
        for n in 0..<70 {
            let bytes = random.bytes(n)
            let encoded = Base64.encode(bytes)
            #expect(encoded.count == (n + 2) / 3 * 4)
            #expect(Base64.decode(encoded[...]) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("Zm9v!mFy") == nil)
        #expect(Base64.decode("Zm9vY") == nil)
        #expect(Base64.decode("Zm=9") == nil)
    }

    @Test(arguments: SRTPSuite.allCases)
    func randomKeysRoundTripAndDriveAContext(suite: SRTPSuite) throws {
        let parameters = SDESKeyParameters.random(for: suite)
        let parsed = try SDESKeyParameters(parsing: parameters.serialized, suite: suite)
        #expect(parsed == parameters)
        let sender = try SRTPContext(suite: suite, keyParameters: parameters)
        let receiver = try SRTPContext(suite: suite, keyParameters: parsed)
        let packet = makeRTP(sequence: 1, timestamp: 2, ssrc: 3, payloadLength: 160)
        #expect(try receiver.unprotect(try sender.protect(packet)) == packet)
    }

    @Test func rejectsBadParameters() {
        let good = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
        #expect(throws: SDESParseError.unsupportedKeyMethod) { try SDESKeyParameters(parsing: "uri:" + good, suite: .aesCM128HMACSHA1_80) }
        #expect(throws: SDESParseError.wrongKeyLength) { try SDESKeyParameters(parsing: "inline:" + good, suite: .aeadAES128GCM) }
        #expect(throws: SDESParseError.badBase64) { try SDESKeyParameters(parsing: "inline:PS1u*CVe", suite: .aesCM128HMACSHA1_80) }
        #expect(throws: SDESParseError.badParameter) { try SDESKeyParameters(parsing: "inline:\(good)|2^x", suite: .aesCM128HMACSHA1_80) }
        #expect(throws: SDESParseError.badParameter) { try SDESKeyParameters(parsing: "inline:\(good)|1:0", suite: .aesCM128HMACSHA1_80) }
        #expect(throws: SDESParseError.badParameter) { try SDESKeyParameters(parsing: "inline:\(good)|1|2|3", suite: .aesCM128HMACSHA1_80) }
    }

    @Test func fuzzedKeyParametersNeverCrashAndRoundTrip() throws {
        var random = TestRandom(seed: 77)
        let alphabet = Array("inline:ABCabc0129+/=|^:2 ".utf8)
        let seedText = Array("inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4".utf8)
        var parsedCount = 0
        for i in 0..<20_000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = seedText
                for _ in 0..<random.int(1..<4) {
                    let position = random.int(0..<bytes.count)
                    switch random.int(0..<3) {
                    case 0: bytes[position] = alphabet[random.int(0..<alphabet.count)]
                    case 1: bytes.remove(at: position)
                    default: bytes.insert(alphabet[random.int(0..<alphabet.count)], at: position)
                    }
                    if bytes.isEmpty { break }
                }
            } else {
                bytes = (0..<random.int(0..<60)).map { _ in alphabet[random.int(0..<alphabet.count)] }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let parsed = try? SDESKeyParameters(parsing: text, suite: .aesCM128HMACSHA1_80) {
                parsedCount += 1
                #expect(try SDESKeyParameters(parsing: parsed.serialized, suite: .aesCM128HMACSHA1_80) == parsed)
            }
        }
        #expect(parsedCount > 0)
    }
}
