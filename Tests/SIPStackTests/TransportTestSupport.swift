import NIOCore
import SIPCore

/// An OPTIONS request as wire text, with a given Via sent-by and branch.
func transportTestOptions(viaTransport: String = "UDP", sentBy: String = "192.0.2.10:5060", branch: String = "z9hG4bK-t1",
                          rport: Bool = false, body: String = "") -> [UInt8] {
    let via = "SIP/2.0/" + viaTransport + " " + sentBy + ";branch=" + branch + (rport ? ";rport" : "")
    let text = "OPTIONS sip:tandem@example.com SIP/2.0\r\n"
        + "Via: " + via + "\r\n"
        + "Max-Forwards: 70\r\n"
        + "From: <sip:alice@example.com>;tag=a1\r\n"
        + "To: <sip:tandem@example.com>\r\n"
        + "Call-ID: call-\(branch)\r\n"
        + "CSeq: 1 OPTIONS\r\n"
        + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    return Array(text.utf8)
}

func transportTestBuffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// A small deterministic PRNG (xorshift64*) so garbage inputs are reproducible.
struct TransportTestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 56) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
