import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A minimal RFC 6455 client for the event feed: connects over a plain TCP socket, upgrades, and collects the
/// server's text messages on a reader thread (server frames are unmasked; the client only reads). Bounded:
/// reads time out every 200 ms so `close()` stops the thread.
final class EventFeedClient: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var texts: [String] = []
    private var closed = false
    private var buffer: [UInt8] = []

    init(port: Int, path: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            Glibc.close(fd)
            throw POSIXError(.EIO)
        }
        // The response head, within 5 s.
        let deadline = Date().addingTimeInterval(5)
        var head: [UInt8] = []
        while Date() < deadline {
            if let end = Self.headEnd(buffer) {
                head = Array(buffer[..<end])
                buffer.removeFirst(end + 4)
                break
            }
            _ = fill()
        }
        guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            Glibc.close(fd)
            throw POSIXError(.EPROTO)
        }
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    private static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }

    /// Reads what is there into `buffer`; false on end of stream or error (not on a timeout).
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { buffer.append(contentsOf: chunk[..<n]); return true }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    }

    private var isClosed: Bool { lock.withLock { closed } }

    private func take(_ count: Int) -> [UInt8]? {
        while buffer.count < count {
            if isClosed || !fill() { return nil }
        }
        let out = Array(buffer[..<count])
        buffer.removeFirst(count)
        return out
    }

    private func readLoop() {
        var partial: [UInt8] = []
        while !isClosed {
            guard let h = take(2) else { break }
            let opcode = h[0] & 0x0F, fin = h[0] & 0x80 != 0
            var length = Int(h[1] & 0x7F)
            if length == 126 {
                guard let l = take(2) else { break }
                length = Int(l[0]) << 8 | Int(l[1])
            } else if length == 127 {
                guard let l = take(8) else { break }
                length = l.reduce(0) { $0 << 8 | Int($1) }
            }
            let mask = h[1] & 0x80 != 0 ? take(4) : nil
            guard length < 1 << 20, var payload = take(length) else { break }
            if let mask { for i in payload.indices { payload[i] ^= mask[i % 4] } }
            switch opcode {
            case 0x1, 0x0:
                partial += payload
                if fin {
                    let text = String(decoding: partial, as: UTF8.self)
                    partial = []
                    lock.withLock { texts.append(text) }
                }
            case 0x8:
                lock.withLock { closed = true }
            default:
                break  // ping, pong, binary: not used by the feed
            }
        }
    }

    /// Every text message received so far, decoded as JSON objects.
    var messages: [[String: Any]] {
        lock.withLock { texts }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Waits (bounded, checking every 50 ms) until `condition` holds for the messages; returns whether it did.
    func wait(seconds: Double, until condition: ([[String: Any]]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(messages) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(messages)
    }

    private var fdClosed = false

    /// Closes the connection (idempotent): the server's graceful shutdown waits for open websockets.
    func close() {
        let first = lock.withLock { () -> Bool in
            closed = true
            defer { fdClosed = true }
            return !fdClosed
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}

/// A real call between two SIPp instances through `tandem serve`, driven over the admin API: the event websocket
/// of the call's tenant administrator sees the call's events in order (another tenant's sees none); both parties
/// are held and resumed (each SIPp checks its re-INVITEs' a=sendonly and a=sendrecv; the held caller's RTP is
/// dropped, not relayed); `GET /media/sessions` shows the call's
/// session with counters that grow while the caller's SIPp plays RTP; after the hang-up no session remains.
@Suite(.serialized) struct CallHoldInteropTests {
    let base = B2BUAInteropTests()

    func api(_ method: String, _ url: String, token: String, json: [String: Any]? = nil) async throws
        -> (status: Int, json: [String: Any])
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    /// The call's session as `GET /media/sessions` lists it (nil when absent).
    func session(_ url: String, token: String, call id: String) async throws -> [String: Any]? {
        let items = try await api("GET", url + "/api/v1/media/sessions", token: token).json["items"] as? [[String: Any]] ?? []
        return items.first { $0["call_id"] as? String == id }
    }

    static func packetsIn(_ session: [String: Any]?, leg: Int) -> Int {
        ((session?["streams"] as? [[String: Any]]) ?? []).first { $0["index"] as? Int == leg }?["packets_in"] as? Int ?? -1
    }

    @Test(.timeLimit(.minutes(2)))
    func heldAndResumedOverTheAPIWithEventsAndMediaSessions() async throws {
        let server = try await base.startServer()
        let url = "http://127.0.0.1:\(server.http)"
        // A tenant administrator of the call's tenant, and one of another tenant.
        do {
            let store = try TandemStore(directory: server.data)
            let tenant = try #require(try store.tenant(domain: "127.0.0.1"))
            try store.createAccount(tenantID: tenant.id, username: "ops", password: "ops-password-1", role: .tenantAdministrator,
                                    iterations: 1000)
            let other = try store.createTenant(name: "Other", domain: "other.example")
            try store.createAccount(tenantID: other.id, username: "eve", password: "eve-password-1", role: .tenantAdministrator,
                                    iterations: 1000)
        }
        let opsLogin = try await postJSON(url + "/api/v1/auth/login", ["username": "ops@127.0.0.1", "password": "ops-password-1"])
        let ops = try #require(opsLogin["access_token"] as? String, "login: \(opsLogin)")
        let eveLogin = try await postJSON(url + "/api/v1/auth/login", ["username": "eve@other.example", "password": "eve-password-1"])
        let eve = try #require(eveLogin["access_token"] as? String, "login: \(eveLogin)")

        let feed = try EventFeedClient(port: server.http, path: "/api/v1/events?topics=calls&access_token=\(ops)")
        defer { feed.close() }
        let otherFeed = try EventFeedClient(port: server.http, path: "/api/v1/events?topics=calls&access_token=\(eve)")
        defer { otherFeed.close() }
        for f in [feed, otherFeed] {
            let subscribed = await f.wait(seconds: 10) { $0.contains { $0["type"] as? String == "subscribed" } }
            try #require(subscribed, "no subscription acknowledgement: \(f.messages)")
        }

        let calleePort = SIPInteropTests.freePort(udp: true)
        try await base.registerCallee(server, local: calleePort)
        let callerMedia = SIPInteropTests.freePort(udp: true) & ~1, calleeMedia = SIPInteropTests.freePort(udp: true) & ~1
        async let uas = base.sipp("b2bua-uas-hold.xml", port: server.udp, local: calleePort, service: "200",
                                  extra: ["-mp", String(calleeMedia)], timeout: 40)
        async let uac = base.sipp("b2bua-uac-rtp-hold.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                  service: "200", extra: base.caller + ["-mp", String(callerMedia)], timeout: 40)

        // The call answered (polled, bounded), as the tenant administrator sees it.
        var callID: String?
        for _ in 0..<100 {
            let items = try await api("GET", url + "/api/v1/calls", token: ops).json["items"] as? [[String: Any]] ?? []
            if let c = items.first, c["state"] as? String == "answered" { callID = c["id"] as? String; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let id = try #require(callID, "no answered call; server: \(server.process.stderr.all.suffix(3000))")

        // Its media session, with the caller's RTP arriving: the caller leg's packets_in grows.
        var first = -1, later = -1
        for _ in 0..<50 {
            first = Self.packetsIn(try await session(url, token: ops, call: id), leg: 0)
            if first > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(first > 0, "no RTP counted on the caller's leg")
        for _ in 0..<50 {
            later = Self.packetsIn(try await session(url, token: ops, call: id), leg: 0)
            if later > first { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(later > first, "packets_in did not grow: \(first) → \(later)")
        let listed = try #require(try await session(url, token: ops, call: id))
        let streams = listed["streams"] as? [[String: Any]] ?? []
        #expect(streams.count == 2)
        #expect(streams.allSatisfy { $0["local_address"] as? String == "127.0.0.1" && ($0["local_rtp_port"] as? Int ?? 0) >= 30000 })
        #expect(streams.allSatisfy { $0["codec"] as? String == "PCMA/8000" }, "\(streams)")
        #expect(streams.allSatisfy { $0["mos"] is Double && $0["jitter_ms"] is Double && $0["loss_fraction"] is Double })
        // The other tenant's administrator sees neither the session nor the call.
        #expect(try await api("GET", url + "/api/v1/media/sessions/" + id, token: eve).status == 404)
        #expect(try await api("POST", url + "/api/v1/calls/\(id)/hold", token: eve).status == 404)
        #expect((try await api("GET", url + "/api/v1/media/sessions", token: eve).json["items"] as? [Any])?.isEmpty == true)

        // Hold both (no body): each SIPp checks its re-INVITE's a=sendonly and answers a=recvonly.
        let held = try await api("POST", url + "/api/v1/calls/\(id)/hold", token: ops)
        #expect(held.status == 200 && held.json["held"] as? [String] == ["callee", "caller"], "hold: \(held); \(server.process.stderr.all.suffix(2000))")
        #expect(try await api("POST", url + "/api/v1/calls/\(id)/hold", token: ops, json: ["party": "callee"]).status == 409)
        // Held: the caller's RTP (still playing) is no longer relayed, it is dropped on its leg.
        var whileHeld: [String: Any]?
        for _ in 0..<50 {
            whileHeld = try await session(url, token: ops, call: id)
            let callerLeg = (whileHeld?["streams"] as? [[String: Any]])?.first { $0["index"] as? Int == 0 }
            if (callerLeg?["packets_dropped"] as? Int ?? 0) > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(whileHeld?["held"] as? [String] == ["callee", "caller"])
        let droppedWhileHeld = (whileHeld?["streams"] as? [[String: Any]])?.first { $0["index"] as? Int == 0 }?["packets_dropped"] as? Int ?? 0
        #expect(droppedWhileHeld > 0, "the held caller's RTP was not dropped: \(whileHeld ?? [:])")
        // Resume the callee, then the caller: a=sendrecv, checked by SIPp.
        var resumed = try await api("POST", url + "/api/v1/calls/\(id)/unhold", token: ops, json: ["party": "callee"])
        #expect(resumed.status == 200 && resumed.json["held"] as? [String] == ["caller"], "unhold: \(resumed)")
        resumed = try await api("POST", url + "/api/v1/calls/\(id)/unhold", token: ops, json: ["party": "caller"])
        #expect(resumed.status == 200 && resumed.json["held"] as? [String] == [], "unhold: \(resumed)")
        #expect(try await api("POST", url + "/api/v1/calls/\(id)/unhold", token: ops).status == 409)

        #expect(try await api("DELETE", url + "/api/v1/calls/" + id, token: ops).status == 204)
        let caller = try await uac, callee = try await uas
        #expect(caller.status == 0 && caller.successful == 1, "caller: \(caller.output.suffix(2500))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")

        // The tenant's feed: this call's events in order; the other tenant's feed: no call event at all.
        let ended = await feed.wait(seconds: 10) { ms in
            ms.contains { $0["type"] as? String == "ended" && ($0["data"] as? [String: Any])?["call_id"] as? String == id }
        }
        #expect(ended, "no ended event: \(feed.messages)")
        let types = feed.messages.filter { ($0["data"] as? [String: Any])?["call_id"] as? String == id }.compactMap { $0["type"] as? String }
        var collapsed: [String] = []
        for t in types where collapsed.last != t { collapsed.append(t) }  // 180 may be relayed more than once
        #expect(collapsed == ["started", "ringing", "answered", "held", "resumed", "ended"], "\(types)")
        let parties = feed.messages.filter { ["held", "resumed"].contains($0["type"] as? String ?? "") }
            .compactMap { ($0["data"] as? [String: Any])?["party"] as? String }
        #expect(parties == ["both", "callee", "caller"], "\(parties)")
        #expect(feed.messages.allSatisfy { $0["topic"] as? String != "calls" || ($0["data"] as? [String: Any])?["call_id"] as? String == id })
        #expect(otherFeed.messages.allSatisfy { $0["type"] as? String == "subscribed" }, "\(otherFeed.messages)")

        // After the call: no media session, every port back.
        var remaining: [Any]?
        for _ in 0..<50 {
            remaining = try await api("GET", url + "/api/v1/media/sessions", token: ops).json["items"] as? [Any]
            if remaining?.isEmpty == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(remaining?.isEmpty == true, "\(remaining ?? [])")
        #expect(try await base.openLegsAfterSettling(server) == 0)
        feed.close()
        otherFeed.close()
        await base.stop(server)
    }
}
