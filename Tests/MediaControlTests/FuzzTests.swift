import Testing
import TandemBase
@testable import MediaControl

@Suite struct FuzzTests {
    static let seeds: [[UInt8]] = [
        Array(NGRequestTests.docOffer.utf8),
        Array("5323_1 d7:command4:pinge".utf8),
        Array(("a d" + bstr("command") + bstr("answer") + bstr("call-id") + bstr("c") + bstr("from-tag") + bstr("f")
            + bstr("to-tag") + bstr("t") + bstr("sdp") + bstr("v=0") + bstr("codec") + "d" + bstr("strip") + blist(["all"]) + "e"
            + bstr("delete-delay") + "i-5e" + "e").utf8),
        Array(("q d" + bstr("command") + bstr("query") + bstr("call-id") + bstr("c") + bstr("x") + "lli1eed0:0:ee" + "e").utf8),
    ]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let alphabet = Array("0123456789ilde:- -x".utf8)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng) ?? 0
            case 2 where !bytes.isEmpty:
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
            case 3:
                bytes.insert(alphabet.randomElement(using: &rng) ?? 0, at: Int.random(in: 0...bytes.count, using: &rng))
            case 4 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 0...min(bytes.count, 8), using: &rng))
            default:
                // Splice a chunk of the input elsewhere, which produces structurally plausible nesting.
                guard bytes.count > 2 else { break }
                let a = Int.random(in: 0..<bytes.count, using: &rng)
                let b = Int.random(in: a...min(bytes.count, a + 16), using: &rng)
                bytes.insert(contentsOf: bytes[a..<b], at: Int.random(in: 0...bytes.count, using: &rng))
            }
        }
        return bytes
    }

    /// A random value tree of bounded size.
    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> BencodeValue {
        switch Int.random(in: 0..<(depth > 3 ? 2 : 4), using: &rng) {
        case 0: return .integer(Int64.random(in: .min ... .max, using: &rng) >> Int64.random(in: 0...63, using: &rng))
        case 1: return .bytes((0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case 2: return .list((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var d: [[UInt8]: BencodeValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                d[(0..<Int.random(in: 0...3, using: &rng)).map { _ in UInt8.random(in: 97...100, using: &rng) }] = randomValue(&rng, depth: depth + 1)
            }
            return .dictionary(d)
        }
    }

    @Test func mutatedDatagramsNeverCrashAndRoundTrip() throws {
        var rng = SplitMix64(seed: 0x6E67_0001)
        var requests = 0, replies = 0, drops = 0
        for i in 0..<20_000 {
            let input = i % 10 == 0
                ? (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                : Self.mutate(Self.seeds[i % Self.seeds.count], &rng)
            // Bencode body alone: parse → write → parse is stable.
            if let space = input.firstIndex(of: UInt8(ascii: " ")),
               let value = try? BencodeValue(parsing: input[(space + 1)...]) {
                let written = value.encoded
                #expect(written.count == value.serializedSize)
                let again = try BencodeValue(parsing: written)
                #expect(again == value)
                #expect(again.encoded == written)
            }
            switch NGProtocolHandler.decode(input) {
            case .request(let cookie, let request):
                requests += 1
                // A decoded request re-encodes to a dictionary that decodes to the same request.
                #expect(try NGRequest(decoding: request.dictionary) == request)
                #expect(!cookie.isEmpty && !cookie.contains(UInt8(ascii: " ")))
            case .reply(let bytes):
                replies += 1
                let reply = try parseReply(bytes)
                #expect(reply.body["result"] == .string("error"))
            case .drop:
                drops += 1
            }
        }
        // The mutator must exercise all three outcomes, or the test proves little.
        #expect(requests > 500 && replies > 500 && drops > 100)
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SplitMix64(seed: 0x6E67_0002)
        for _ in 0..<5_000 {
            let value = Self.randomValue(&rng, depth: 1)
            let bytes = value.encoded
            #expect(bytes.count == value.serializedSize)
            #expect(try BencodeValue(parsing: bytes) == value)
        }
    }
}
