import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A blocking UDP client for ng requests, with a receive time-out (no sleeps).
final class NGClient {
    let fd: Int32
    private var destination = sockaddr_in()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = UInt16(port).bigEndian
        destination.sin_addr.s_addr = inet_addr("127.0.0.1")
    }

    deinit { close(fd) }

    /// Sends `datagram` and returns the reply, or nil after the time-out.
    func exchange(_ datagram: String) -> String? {
        let bytes = Array(datagram.utf8)
        var d = destination
        let sent = withUnsafePointer(to: &d) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

/// Encodes a bencode byte string.
func bencoded(_ s: String) -> String { "\(s.utf8.count):\(s)" }

/// `tandem media` as a call manager's operator runs it.
@Suite(.serialized) struct MediaCommandTests {
    static let listening = "NG listening on udp "

    /// Starts a media node on an ephemeral ng port; returns it and the port.
    static func start(_ extra: [String] = []) async throws -> (TandemProcess, Int) {
        let node = try TandemProcess(arguments: [
            "media", "--ng", "127.0.0.1:0", "--interface", "127.0.0.1!203.0.113.7", "--rtp-ports", "43000-43099",
            "--recording-dir", NSTemporaryDirectory() + "tandem-media-recordings",
            "--workers", "1", "--no-pin",
        ] + extra)
        let line = await node.stdout.line(where: { $0.contains(listening) }, within: 60)
        let found = try #require(line, "media node did not report listening; stderr: \(node.stderr.all)")
        let port = try #require(found.split(separator: ":").last.flatMap { Int($0) })
        return (node, port)
    }

    @Test func answersNGAndStopsCleanlyOnSIGTERM() async throws {
        let (node, port) = try await Self.start(["--http", "127.0.0.1:0"])
        let httpLine = await node.stdout.line(where: { $0.contains("HTTP listening on http://") }, within: 30)
        let found = try #require(httpLine)
        let base = String(found[found.range(of: "http://")!.lowerBound...])
        let client = try NGClient(port: port)
        #expect(client.exchange("k1 d7:command4:pinge") == "k1 d6:result4:ponge")

        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
        let offer = "k2 d7:call-id\(bencoded("media-cmd-1"))7:command5:offer8:from-tag1:A3:sdp\(bencoded(sdp))e"
        let reply = try #require(client.exchange(offer))
        #expect(reply.contains("6:result2:ok"))
        // The advertised address (after '!') is what the SDP carries.
        #expect(reply.contains("c=IN IP4 203.0.113.7"))
        #expect(reply.contains("m=audio 430"))

        // The offer opened two legs on the one worker; /metrics shows them and the ng counters.
        let (status, metrics, _) = try await httpGet(base + "/metrics")
        #expect(status == 200)
        #expect(metrics.contains("tandem_media_worker_legs{worker=\"0\"} 2"))
        #expect(metrics.contains("tandem_ng_requests 2"))
        #expect(metrics.contains("tandem_media_worker_busy_ratio{worker=\"0\"}"))
        let (healthStatus, _, _) = try await httpGet(base + "/health")
        #expect(healthStatus == 200)

        let list = try #require(client.exchange("k3 d7:command4:liste"))
        #expect(list.contains("media-cmd-1"))
        #expect(client.exchange("k4 d7:command7:unknowne")?.contains("Unrecognized command") == true)
        #expect(client.exchange("k5 not bencode")?.contains("error-reason") == true)

        node.signal(SIGTERM)
        #expect(await node.waitForExit() == 0)
        #expect(node.stderr.all.contains("media node stopped cleanly"))
    }

    @Test(arguments: [
        (["--interface", "not-an-address"], "--interface 'not-an-address'"),
        (["--rtp-ports", "5-4"], "invalid RTP port range"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--ng", "127.0.0.1:99999"], "--ng"),
    ])
    func badFlagsAreOneLineAndANonZeroExit(flags: [String], message: String) async throws {
        let (status, _, err) = try await runTandem(["media", "--ng", "127.0.0.1:0", "--no-pin",
                                                      "--recording-dir", NSTemporaryDirectory() + "tandem-media-recordings"] + flags)
        #expect(status != 0)
        #expect(err.contains(message))
    }

    @Test func aBusyNGPortIsReported() async throws {
        let (first, port) = try await Self.start()
        defer { first.signal(SIGKILL) }
        let (status, _, err) = try await runTandem([
            "media", "--ng", "127.0.0.1:\(port)", "--rtp-ports", "43100-43199", "--workers", "1", "--no-pin",
            "--recording-dir", NSTemporaryDirectory() + "tandem-media-recordings",
        ])
        #expect(status == 1)
        #expect(err.contains("cannot start the media node"))
    }
}
