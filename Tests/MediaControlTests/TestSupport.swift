import MediaControl

/// A small deterministic PRNG (SplitMix64) so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bencode byte string of `s`, for writing wire examples by hand in document key order.
func bstr(_ s: String) -> String { "\(s.utf8.count):\(s)" }

/// A bencoded list of strings.
func blist(_ items: [String]) -> String { "l" + items.map(bstr).joined() + "e" }

extension Array where Element == UInt8 {
    /// The bytes as text, for readable expectations.
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Parses a reply datagram back into cookie and dictionary.
func parseReply(_ bytes: [UInt8]) throws -> NGDatagram {
    try bytes.withUnsafeBytes { try NGDatagram(parsing: $0) }
}

let sampleSDP = "v=0\r\no=- 1545997027 1 IN IP4 198.51.100.1\r\ns=tester\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 2000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
