import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Call actions of the admin API through the real `tandem serve` with SIPp peers. Blind transfer: A (100, SIPp
/// UAC) calls B (200, SIPp UAS); `POST /calls/{id}/transfer {"party":"caller","target":"300"}` calls C (300,
/// SIPp UAS) with B's identity, and when C answers B is re-INVITEd (sendrecv, same leg), A gets BYE, C's RTP
/// reaches B and comes back, C's hang-up reaches B; the CDR names the target and the final parties. Click-to-call:
/// `POST /calls {"caller":"100","callee":"200"}` rings 100 (SIPp UAS) first, then 200 (SIPp UAS); the API's
/// hang-up sends both a BYE. Every media port is back afterwards.
@Suite(.serialized) struct CallActionInteropTests {
    let transfers = B2BUATransferTests()
    var interop: B2BUAInteropTests { transfers.interop }

    func api(_ method: String, _ url: String, token: String, json: [String: Any]? = nil) async throws -> (status: Int, json: [String: Any]) {
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

    func adminToken(_ server: B2BUAInteropTests.Server) async throws -> String {
        let login = try await postJSON("http://127.0.0.1:\(server.http)/api/v1/auth/login",
                                       ["username": "admin", "password": "operator-chosen-1"])
        return try #require(login["access_token"] as? String, "login: \(login)")
    }

    /// Polls (bounded) until an active call in `state` is listed.
    func waitForCall(_ server: B2BUAInteropTests.Server, token: String, state: String) async throws -> [String: Any]? {
        for _ in 0..<150 {
            let items = try await api("GET", "http://127.0.0.1:\(server.http)/api/v1/calls", token: token).json["items"]
                as? [[String: Any]] ?? []
            if let c = items.first(where: { $0["state"] as? String == state }) { return c }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The seeded tenant's id (the system administrator names it; its own tenant is the system tenant).
    func tenantID(_ server: B2BUAInteropTests.Server) throws -> String {
        try #require(try TandemStore(directory: server.data).tenant(domain: "127.0.0.1")).id
    }

    /// Waits (bounded, 10 s) until a SIPp instance has bound UDP `port` on 127.0.0.1: binding it ourselves fails then.
    func waitUntilBound(_ port: Int) async throws {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if !bound { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("UDP port \(port) was never bound")
    }

    /// The CDR of call `id`, once written (off the SIP loop; bounded wait).
    func record(_ server: B2BUAInteropTests.Server, id: String) async throws -> CallDetailRecord? {
        for _ in 0..<50 {
            if let r = try interop.records(server).first(where: { $0.id == id }) { return r }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test(.timeLimit(.minutes(2)))
    func apiBlindTransferConnectsTheKeptPartyToTheTarget() async throws {
        let server = try await transfers.startServer()
        let token = try await adminToken(server)
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await transfers.register(server, "200", from: bPort)
        try await transfers.register(server, "300", from: cPort)
        async let transferee = interop.sipp("transfer-uas-transferee.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-rtp_echo", "-mp", transfers.mediaPort()], timeout: 30)
        async let target = interop.sipp("transfer-uas-target.xml", port: server.udp, local: cPort, service: "300",
                                        extra: ["-mp", transfers.mediaPort()], timeout: 30)
        // A sends no RTP and waits for Tandem's BYE.
        async let transferor = interop.sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                            service: "200", extra: transfers.transferor + ["-mp", transfers.mediaPort()], timeout: 30)
        let listed = try #require(try await waitForCall(server, token: token, state: "answered"),
                                  "no answered call; server: \(server.process.stderr.all.suffix(3000))")
        let id = try #require(listed["id"] as? String)
        let url = "http://127.0.0.1:\(server.http)/api/v1/calls/\(id)/transfer"
        // An unknown target is refused before anything happens; then the real transfer.
        let unknown = try await api("POST", url, token: token, json: ["party": "caller", "target": "555"])
        #expect(unknown.status == 422, "\(unknown.json)")
        let r = try await api("POST", url, token: token, json: ["party": "caller", "target": "300"])
        #expect(r.status == 202 && r.json["id"] as? String == id, "\(r.status) \(r.json)")
        let a = try await transferor, b = try await transferee, c = try await target
        let log = "\nserver: \(server.process.stdout.all.suffix(3000))\(server.process.stderr.all.suffix(2000))"
        #expect(a.status == 0 && a.successful == 1, "transferor: \(a.output.suffix(2500))\(log)")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "target: \(c.output.suffix(2500))")
        let received = try await interop.metric(server, "tandem_media_worker_packets_received")
        #expect(received > 40, "engine packets in \(received)")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try await record(server, id: id))
        #expect(cdr.endReason == .transferred && cdr.transferredTo == "300", "\(cdr)")
        #expect(cdr.finalCaller == "300" && cdr.finalCallee == "200", "\(cdr)")
        await interop.stop(server)
    }

    /// A busy target: 202, then the `call.transfer_failed` event (in the webhook outbox) and the call goes on
    /// unchanged until the API hangs it up (both original parties get BYE; no transfer in the CDR).
    @Test(.timeLimit(.minutes(2)))
    func apiBlindTransferToABusyTargetLeavesTheCall() async throws {
        let server = try await transfers.startServer()
        let token = try await adminToken(server)
        do {
            let store = try TandemStore(directory: server.data)
            try store.insertWebhook(WebhookRecord(id: "xfer-hook", tenantID: try tenantID(server), url: "http://127.0.0.1:9/hook",
                                                  events: ["call.*"], secret: "whsec_xfer", isEnabled: true, createdAt: Date()))
        }
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await transfers.register(server, "200", from: bPort)
        try await transfers.register(server, "300", from: cPort)
        async let kept = interop.sipp("b2bua-uas.xml", port: server.udp, local: bPort, service: "200",
                                      extra: ["-mp", transfers.mediaPort()], timeout: 30)
        async let busy = interop.sipp("transfer-uas-busy.xml", port: server.udp, local: cPort, service: "300", timeout: 30)
        async let caller = interop.sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                        service: "200", extra: transfers.transferor + ["-mp", transfers.mediaPort()], timeout: 30)
        let listed = try #require(try await waitForCall(server, token: token, state: "answered"),
                                  "no answered call; server: \(server.process.stderr.all.suffix(3000))")
        let id = try #require(listed["id"] as? String)
        let base = "http://127.0.0.1:\(server.http)/api/v1/calls/\(id)"
        let r = try await api("POST", base + "/transfer", token: token, json: ["party": "callee", "target": "300"])
        #expect(r.status == 202, "\(r.json)")
        var failed: [String: Any]?
        for _ in 0..<100 where failed == nil {
            let outbox = try TandemStore(directory: server.data).webhookDeliveries(webhookID: "xfer-hook")
            failed = outbox.first { $0.eventType == "call.transfer_failed" }
                .flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
            if failed == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let data = try #require(failed?["data"] as? [String: String], "no call.transfer_failed event")
        #expect(data["call_id"] == id && data["transfer_target"] == "300" && data["sip_status"] == "486", "\(data)")
        // Still the same answered call.
        let still = try await api("GET", base, token: token)
        #expect(still.status == 200 && still.json["state"] as? String == "answered" && still.json["target"] as? String == "200")
        #expect(try await api("DELETE", base, token: token).status == 204)
        let a = try await caller, b = try await kept, c = try await busy
        #expect(a.status == 0 && a.successful == 1, "caller: \(a.output.suffix(2500))")
        #expect(b.status == 0 && b.successful == 1, "kept: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "busy target: \(c.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try await record(server, id: id))
        #expect(cdr.endReason == .admin && cdr.transferredTo == nil && cdr.finalCaller == "100" && cdr.finalCallee == "200", "\(cdr)")
        await interop.stop(server)
    }

    @Test(.timeLimit(.minutes(2)))
    func clickToCallRingsTheCallerFirstThenTheCallee() async throws {
        let server = try await transfers.startServer()
        let token = try await adminToken(server)
        let callerPort = SIPInteropTests.freePort(udp: true)
        let calleePort = SIPInteropTests.freePort(udp: true)
        try await transfers.register(server, "100", from: callerPort)
        try await transfers.register(server, "200", from: calleePort)
        // Both answer (180, 200 PCMA) and wait for a BYE.
        async let callerPhone = interop.sipp("b2bua-uas.xml", port: server.udp, local: callerPort, service: "100",
                                             extra: ["-mp", transfers.mediaPort()], timeout: 30)
        async let calleePhone = interop.sipp("b2bua-uas.xml", port: server.udp, local: calleePort, service: "200",
                                             extra: ["-mp", transfers.mediaPort()], timeout: 30)
        let base = "http://127.0.0.1:\(server.http)/api/v1/calls"
        // The phones' sockets must be bound before Tandem sends them anything.
        try await waitUntilBound(callerPort)
        try await waitUntilBound(calleePort)
        let created = try await api("POST", base, token: token, json: ["caller": "100", "callee": "200", "tenant_id": try tenantID(server)])
        #expect(created.status == 201, "\(created.status) \(created.json)")
        let id = try #require(created.json["id"] as? String)
        #expect(created.json["state"] as? String == "ringing")
        let answered = try #require(try await waitForCall(server, token: token, state: "answered"),
                                    "not answered; server: \(server.process.stderr.all.suffix(3000))")
        #expect(answered["id"] as? String == id && answered["caller"] as? String == "100" && answered["target"] as? String == "200")
        #expect(try await api("DELETE", base + "/" + id, token: token).status == 204)
        let a = try await callerPhone, b = try await calleePhone
        #expect(a.status == 0 && a.successful == 1, "caller phone: \(a.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(b.status == 0 && b.successful == 1, "callee phone: \(b.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try await record(server, id: id))
        #expect(cdr.caller == "100" && cdr.callee == "200" && cdr.endReason == .admin && cdr.answeredAt != nil, "\(cdr)")
        // The caller's contact was rung first, then the callee's.
        #expect(cdr.targets.count == 2 && cdr.targets.first?.hasPrefix("100 ") == true
                && cdr.targets.last?.hasPrefix("200 ") == true, "\(cdr.targets)")
        #expect(cdr.finalCaller == "100" && cdr.finalCallee == "200")
        await interop.stop(server)
    }

    @Test(.timeLimit(.minutes(2)))
    func clickToCallNotAnsweredByTheCallerEndsNoAnswer() async throws {
        let server = try await transfers.startServer()  // ring timeout 10 s (TANDEM_RING_TIMEOUT)
        let token = try await adminToken(server)
        let callerPort = SIPInteropTests.freePort(udp: true)
        try await transfers.register(server, "100", from: callerPort)
        // Rings and never answers; gets CANCEL, answers 487.
        async let callerPhone = interop.sipp("b2bua-uas-ring.xml", port: server.udp, local: callerPort, service: "100",
                                             timeout: 30)
        try await waitUntilBound(callerPort)
        let created = try await api("POST", "http://127.0.0.1:\(server.http)/api/v1/calls", token: token,
                                    json: ["caller": "100", "callee": "200", "tenant_id": try tenantID(server)])
        #expect(created.status == 201, "\(created.json)")
        let id = try #require(created.json["id"] as? String)
        let a = try await callerPhone
        #expect(a.status == 0 && a.successful == 1, "caller phone: \(a.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(2000))")
        let cdr = try #require(try await record(server, id: id))
        #expect(cdr.endReason == .noAnswer && cdr.answeredAt == nil && cdr.sipStatus == 480, "\(cdr)")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        await interop.stop(server)
    }
}
