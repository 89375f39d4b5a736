import CSRTP
import SRTP

/// A small fixed-seed PRNG (xorshift64*) so that every run sees the same inputs.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 32) }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8).filter { $0 != UInt8(ascii: " ") }
    func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    return stride(from: 0, to: digits.count, by: 2).map { v(digits[$0]) << 4 | v(digits[$0 + 1]) }
}

extension SRTPSuite {
    /// libsrtp2 suite number for `tdm_srtp_policy_for_suite`.
    var oracleNumber: Int32 {
        switch self {
        case .aesCM128HMACSHA1_80: 1
        case .aesCM128HMACSHA1_32: 2
        case .aeadAES128GCM: 3
        case .aeadAES256GCM: 4
        }
    }
}

/// libsrtp2 session: the reference implementation the tests compare against.
final class Oracle {
    var session: srtp_t?
    var keyStorage: [UInt8]

    init(suite: SRTPSuite, key: [UInt8], salt: [UInt8], inbound: Bool) {
        precondition(tdm_srtp_init_once() == 0)
        keyStorage = key + salt + [UInt8](repeating: 0, count: 16)
        var policy = srtp_policy_t()
        let status = keyStorage.withUnsafeMutableBufferPointer { k in
            precondition(tdm_srtp_policy_for_suite(&policy, suite.oracleNumber, inbound ? 1 : 0, k.baseAddress) == 0)
            return srtp_create(&session, &policy)
        }
        precondition(status == srtp_err_status_ok)
    }

    deinit { srtp_dealloc(session) }

    /// Runs one libsrtp call over `packet`, which is padded with room for the trailer; returns nil on failure.
    private func run(_ packet: [UInt8], _ call: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>) -> srtp_err_status_t) -> [UInt8]? {
        var buffer = packet + [UInt8](repeating: 0, count: 64)
        var length = Int32(packet.count)
        let status = buffer.withUnsafeMutableBytes { call(session, $0.baseAddress, &length) }
        guard status == srtp_err_status_ok else { return nil }
        return Array(buffer[0..<Int(length)])
    }

    func protect(_ p: [UInt8]) -> [UInt8]? { run(p) { srtp_protect($0, $1, $2) } }
    func unprotect(_ p: [UInt8]) -> [UInt8]? { run(p) { srtp_unprotect($0, $1, $2) } }
    func protectRTCP(_ p: [UInt8]) -> [UInt8]? { run(p) { srtp_protect_rtcp($0, $1, $2) } }
    func unprotectRTCP(_ p: [UInt8]) -> [UInt8]? { run(p) { srtp_unprotect_rtcp($0, $1, $2) } }
}

extension SRTPContext {
    /// Array conveniences for tests (allocate).
    func protect(_ p: [UInt8]) throws(SRTPError) -> [UInt8] { try run(p) { (b, n) throws(SRTPError) in try protect(b, length: n) } }
    func unprotect(_ p: [UInt8]) throws(SRTPError) -> [UInt8] { try run(p) { (b, n) throws(SRTPError) in try unprotect(b, length: n) } }
    func protectRTCP(_ p: [UInt8]) throws(SRTPError) -> [UInt8] { try run(p) { (b, n) throws(SRTPError) in try protectRTCP(b, length: n) } }
    func unprotectRTCP(_ p: [UInt8]) throws(SRTPError) -> [UInt8] { try run(p) { (b, n) throws(SRTPError) in try unprotectRTCP(b, length: n) } }

    private func run(
        _ packet: [UInt8], _ call: (UnsafeMutableRawBufferPointer, Int) throws(SRTPError) -> Int
    ) throws(SRTPError) -> [UInt8] {
        var buffer = packet + [UInt8](repeating: 0, count: 64)
        var result: Result<Int, SRTPError> = .failure(.cryptoFailure)
        buffer.withUnsafeMutableBytes { b in result = Result { () throws(SRTPError) in try call(b, packet.count) } }
        let length = try result.get()
        return Array(buffer[0..<length])
    }
}

/// An RTP packet: optional CSRCs and a one-byte-profile header extension, deterministic payload.
func makeRTP(sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payloadLength: Int, csrcs: Int = 0, extensionWords: Int = 0, fill: UInt8 = 0) -> [UInt8] {
    var p: [UInt8] = [0x80 | UInt8(csrcs) | (extensionWords > 0 ? 0x10 : 0), 0x00]
    p += [UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
    p += withUnsafeBytes(of: timestamp.bigEndian, Array.init)
    p += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    for i in 0..<csrcs { p += [0, 0, 0, UInt8(i + 1)] }
    if extensionWords > 0 {
        p += [0xBE, 0xDE, 0, UInt8(extensionWords)]
        for i in 0..<extensionWords * 4 { p.append(UInt8(i)) }
    }
    for i in 0..<payloadLength { p.append(UInt8(truncatingIfNeeded: i &+ Int(sequence)) ^ fill) }
    return p
}

/// An RTCP receiver report with one report block plus an SDES CNAME chunk.
func makeRTCP(ssrc: UInt32, salt: UInt8) -> [UInt8] {
    var p: [UInt8] = [0x81, 201, 0, 7]
    p += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    for i in 0..<24 { p.append(UInt8(i) ^ salt) }
    // SDES: one chunk, CNAME "tandem", END, padded to 32 bits.
    p += [0x81, 202, 0, 4]
    p += withUnsafeBytes(of: ssrc.bigEndian, Array.init)
    p += [1, 6] + Array("tandem".utf8) + [0, 0, 0, 0]
    return p
}
