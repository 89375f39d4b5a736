import CBatchIO
import MediaEngine
import RTP
import SRTP
import Testing

/// A fake RTP endpoint on loopback: one plain UDP socket, with epoll-bounded receives (no sleeps).
final class RelayEndpoint {
    let fd: Int32
    let address: tdm_addr
    let host: String
    private let epollFD: Int32
    private let batch: OpaquePointer
    private var pending: [(bytes: [UInt8], from: tdm_addr)] = []

    init(host: String) throws {
        var a = tdm_addr()
        try #require(tdm_addr_parse(host, 0, &a) == 0)
        var options = tdm_udp_options()
        fd = tdm_udp_open(&a, &options)
        try #require(fd >= 0)
        var bound = tdm_addr()
        _ = tdm_socket_local_addr(fd, &bound)
        address = bound
        self.host = host
        epollFD = tdm_epoll_create()
        _ = tdm_epoll_add(epollFD, fd, UInt32(TDM_EPOLLIN), 0)
        batch = tdm_batch_create(32, 2048)!
    }

    deinit {
        _ = tdm_close(fd)
        _ = tdm_close(epollFD)
        tdm_batch_destroy(batch)
    }

    var port: Int { Int(address.port) }
    var mediaAddress: MediaAddress { MediaAddress(host: host, port: port) }

    func send(_ bytes: [UInt8], to port: Int) {
        var peer = tdm_addr()
        _ = tdm_addr_parse(host, UInt16(port), &peer)
        let n = bytes.withUnsafeBufferPointer { tdm_send_to(fd, $0.baseAddress, $0.count, &peer) }
        #expect(n == bytes.count)
    }

    /// The next datagram, waiting at most `timeoutMS` for it.
    func receive(timeoutMS: Int32 = 3000) -> (bytes: [UInt8], from: tdm_addr)? {
        if pending.isEmpty {
            var event = tdm_event()
            var n = tdm_recv_batch(fd, batch)
            if n == 0, tdm_epoll_wait(epollFD, &event, 1, timeoutMS) > 0 { n = tdm_recv_batch(fd, batch) }
            for i in 0..<UInt32(max(0, n)) {
                let len = Int(tdm_batch_length(batch, i))
                let buf = tdm_batch_buffer(batch, i)!
                pending.append((Array(UnsafeBufferPointer(start: buf, count: len)), tdm_batch_peer(batch, i).pointee))
            }
        }
        return pending.isEmpty ? nil : pending.removeFirst()
    }
}

/// Builds a version-2 RTP packet (RFC 3550 §5.1).
func makeRTP(sequence: UInt16, timestamp: UInt32 = 0, ssrc: UInt32, payloadType: UInt8 = 0, payload: [UInt8]) -> [UInt8] {
    var p: [UInt8] = [0x80, payloadType & 0x7F, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
    for shift in stride(from: 24, through: 0, by: -8) { p.append(UInt8(truncatingIfNeeded: timestamp >> UInt32(shift))) }
    for shift in stride(from: 24, through: 0, by: -8) { p.append(UInt8(truncatingIfNeeded: ssrc >> UInt32(shift))) }
    return p + payload
}

/// Builds an RTCP receiver report with no blocks (RFC 3550 §6.4.2).
func makeRTCP(ssrc: UInt32) -> [UInt8] {
    [0x80, 201, 0, 1, UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
}

func payload(_ seed: Int, count: Int = 160) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ seed &* 13) }
}

func sequence(of rtp: [UInt8]) -> UInt16 { UInt16(rtp[2]) << 8 | UInt16(rtp[3]) }
func ssrc(of rtp: [UInt8]) -> UInt32 { rtp[8..<12].reduce(0) { $0 << 8 | UInt32($1) } }

/// In-place SRTP helpers for the endpoint side of a test.
extension SRTPContext {
    func protected(_ packet: [UInt8], rtcp: Bool = false) throws -> [UInt8] {
        var buffer = packet + [UInt8](repeating: 0, count: 64)
        let n = try buffer.withUnsafeMutableBytes { b throws(SRTPError) in
            rtcp ? try protectRTCP(b, length: packet.count) : try protect(b, length: packet.count)
        }
        return Array(buffer[0..<n])
    }

    func unprotected(_ packet: [UInt8], rtcp: Bool = false) throws -> [UInt8] {
        var buffer = packet
        let n = try buffer.withUnsafeMutableBytes { b throws(SRTPError) in
            rtcp ? try unprotectRTCP(b, length: packet.count) : try unprotect(b, length: packet.count)
        }
        return Array(buffer[0..<n])
    }
}

/// A running engine on loopback with a small port range, stopped by `close()`.
func makeEngine(workers: Int = 1, ports: ClosedRange<Int> = 41000...41099, mediaTimeout: Duration = .seconds(120),
                relatchThreshold: Int = 5, loadWindow: Duration = .seconds(1)) throws -> MediaEngine {
    let engine = try MediaEngine(configuration: MediaEngineConfiguration(
        workerCount: workers, portRange: try RTPPortRange(ports.lowerBound, ports.upperBound),
        bindAddress: "127.0.0.1", advertisedAddress: "192.0.2.10", bindAddressIPv6: "::1",
        mediaTimeout: mediaTimeout, pinsWorkers: false, relatchThreshold: relatchThreshold, loadWindow: loadWindow))
    try engine.start()
    return engine
}

/// The first event matching `predicate` within `timeout`, or nil.
func nextEvent(_ engine: MediaEngine, timeout: Duration = .seconds(3),
               where predicate: @escaping @Sendable (MediaEvent) -> Bool) async -> MediaEvent? {
    await withTaskGroup(of: MediaEvent?.self) { group in
        group.addTask {
            for await e in engine.events where predicate(e) { return e }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)  // an upper bound, not synchronisation
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Two legs of one session, linked, with each endpoint's address signalled.
struct LinkedPair {
    let session: MediaSessionHandle
    let a: LegInfo
    let b: LegInfo
}

func makeLinkedPair(_ engine: MediaEngine, id: String, a: RelayEndpoint, b: RelayEndpoint,
                    options: LegOptions = LegOptions(), signal: Bool = true) async throws -> LinkedPair {
    let session = try await engine.createSession(id: id)
    let legA = try await engine.addLeg(to: session, options: options)
    let legB = try await engine.addLeg(to: session, options: options)
    try await engine.link(legA.leg, legB.leg)
    if signal {
        try await engine.updateLeg(legA.leg, LegUpdate(remoteRTP: a.mediaAddress))
        try await engine.updateLeg(legB.leg, LegUpdate(remoteRTP: b.mediaAddress))
    }
    return LinkedPair(session: session, a: legA, b: legB)
}

func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
}

func word(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
}

func timestamp(of rtp: [UInt8]) -> UInt32 { word(rtp, at: 4) }

/// Builds an RTCP sender report with no report blocks (RFC 3550 §6.4.1), 28 bytes.
func makeSR(ssrc: UInt32, ntpSeconds: UInt32, ntpFraction: UInt32, rtpTimestamp: UInt32) -> [UInt8] {
    [0x80, 200, 0, 6] + bigEndian(ssrc) + bigEndian(ntpSeconds) + bigEndian(ntpFraction) + bigEndian(rtpTimestamp)
        + bigEndian(10) + bigEndian(1600)
}

/// Builds an RTCP receiver report with one report block carrying `lsr` and `dlsr` (RFC 3550 §6.4.2), 32 bytes.
func makeRR(ssrc: UInt32, about source: UInt32, lsr: UInt32, dlsr: UInt32) -> [UInt8] {
    [0x81, 201, 0, 7] + bigEndian(ssrc) + bigEndian(source) + bigEndian(0) + bigEndian(100) + bigEndian(0)
        + bigEndian(lsr) + bigEndian(dlsr)
}
