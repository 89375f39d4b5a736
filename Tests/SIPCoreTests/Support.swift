@testable import SIPCore

/// Turns a readable message (LF line ends) into wire bytes with CRLF. `{LEN}` is replaced by the body length,
/// the body being everything after the first empty line.
func wire(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    for b in text.utf8 {
        if b == 0x0a { bytes.append(0x0d) }
        bytes.append(b)
    }
    let marker = Array("{LEN}".utf8)
    guard let m = find(marker, in: bytes) else { return bytes }
    let sep: [UInt8] = [13, 10, 13, 10]
    guard let headerEnd = find(sep, in: bytes) else { return bytes }
    let bodyCount = bytes.count - (headerEnd + 4)
    let digits = Array(String(bodyCount).utf8)
    bytes.replaceSubrange(m..<(m + marker.count), with: digits)
    return bytes
}

func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
    guard hay.count >= needle.count else { return nil }
    for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { return i }
    return nil
}

/// Parses and validates; nil on any error.
func acceptable(_ bytes: [UInt8]) -> SIPMessage? {
    guard let m = try? SIPMessage(parsing: bytes) else { return nil }
    do { try m.validate() } catch { return nil }
    return m
}

/// A fixed-seed xorshift64* generator for reproducible fuzzing.
struct XorShift: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

let sdpText = """
v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC

"""

/// An empty line followed by the SDP body, to append after a header block.
let sdpBody = "\n" + sdpText

/// Parses and validates, throwing the first error (so a failing test names it).
func parsedValid(_ bytes: [UInt8]) throws -> SIPMessage {
    let m = try SIPMessage(parsing: bytes)
    try m.validate()
    return m
}
