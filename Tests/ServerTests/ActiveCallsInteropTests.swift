import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real call between two SIPp instances through `tandem serve` appears in `GET /api/v1/calls`, and
/// `DELETE /api/v1/calls/{id}` ends it: both SIPp sides get a BYE, and the CDR says `admin`, hung up by the system.
@Suite(.serialized) struct ActiveCallsInteropTests {
    let base = B2BUAInteropTests()

    /// One API request with a bearer token; returns the status and the decoded JSON body (if any).
    func api(_ method: String, _ url: String, token: String) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    @Test(.timeLimit(.minutes(2)))
    func answeredCallIsListedAndHungUpThroughTheAPI() async throws {
        let server = try await base.startServer()
        let url = "http://127.0.0.1:\(server.http)"
        let login = try await postJSON(url + "/api/v1/auth/login", ["username": "admin", "password": "operator-chosen-1"])
        let token = try #require(login["access_token"] as? String, "login: \(login)")
        #expect(try await api("GET", url + "/api/v1/calls", token: token).json["items"] as? [Any] != nil)

        // A webhook for every call event of the tenant, pointing at a closed port: what the call publishes stays
        // in its outbox, in order.
        do {
            let store = try TandemStore(directory: server.data)
            let tenant = try #require(try store.tenant(domain: "127.0.0.1"))
            try store.insertWebhook(WebhookRecord(id: "calls-hook", tenantID: tenant.id, url: "http://127.0.0.1:9/hook",
                                                  events: ["call.*"], secret: "whsec_calls", isEnabled: true, createdAt: Date()))
        }

        let calleePort = SIPInteropTests.freePort(udp: true)
        try await base.registerCallee(server, local: calleePort)
        // Neither side hangs up by itself: each waits for a BYE (15 s at most).
        async let uas = base.sipp("b2bua-uas.xml", port: server.udp, local: calleePort, service: "200")
        async let uac = base.sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                  service: "200", extra: base.caller)

        // The call shows up answered (polled, bounded: SIP and HTTP are separate processes' events).
        var call: [String: Any]?
        for _ in 0..<100 {
            let items = try await api("GET", url + "/api/v1/calls", token: token).json["items"] as? [[String: Any]] ?? []
            if let c = items.first, c["state"] as? String == "answered" { call = c; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let listed = try #require(call, "no answered call listed; server: \(server.process.stderr.all.suffix(3000))")
        #expect(listed["caller"] as? String == "100")
        #expect(listed["callee"] as? String == "200")
        #expect(listed["target"] as? String == "200")
        #expect(listed["answered_at"] as? String != nil)
        let id = try #require(listed["id"] as? String)
        let one = try await api("GET", url + "/api/v1/calls/" + id, token: token)
        #expect(one.status == 200 && one.json["id"] as? String == id)

        // The system status counts it, and the one media worker holds its two legs.
        let status = try await api("GET", url + "/api/v1/system/status", token: token).json
        #expect(status["active_calls"] as? Int == 1 && status["answered_calls"] as? Int == 1, "\(status)")
        let workers = status["media_workers"] as? [[String: Any]] ?? []
        #expect(workers.count == 1 && workers.first?["legs"] as? Int == 2, "\(workers)")

        let hangUp = try await api("DELETE", url + "/api/v1/calls/" + id, token: token)
        #expect(hangUp.status == 204)
        let caller = try await uac, callee = try await uas
        #expect(caller.status == 0 && caller.successful == 1, "caller: \(caller.output.suffix(2500))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        #expect(try await api("DELETE", url + "/api/v1/calls/" + id, token: token).status == 404)
        #expect((try await api("GET", url + "/api/v1/calls", token: token).json["items"] as? [Any])?.isEmpty == true)
        #expect(try await base.openLegsAfterSettling(server) == 0)

        // The CDR is written off the SIP loop: wait (bounded) for it.
        var record: CallDetailRecord?
        for _ in 0..<50 {
            if let r = try base.records(server).first(where: { $0.id == id }) { record = r; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let cdr = try #require(record)
        #expect(cdr.endReason == .admin && cdr.hungUpBy == .system && cdr.answeredAt != nil, "\(cdr)")
        // The call's live events reached the webhook outbox, in order, keyed by the call.
        let outbox = try TandemStore(directory: server.data).webhookDeliveries(webhookID: "calls-hook")
        #expect(outbox.allSatisfy { $0.orderingKey == id })
        let types = outbox.map(\.eventType).filter { $0 != "call.ringing" }  // 180 may come more than once
        #expect(types == ["call.started", "call.answered", "call.ended"], "\(outbox.map(\.eventType))")
        #expect(outbox.contains { $0.eventType == "call.ringing" })
        let ended = outbox.last.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
        let endedData = ended?["data"] as? [String: String]
        #expect(endedData?["end_reason"] == "admin" && endedData?["hung_up_by"] == "system", "\(ended ?? [:])")
        await base.stop(server)
    }

    /// A call still ringing is hung up through the API: the callee's branch gets CANCEL (and answers 487), the
    /// caller gets 480; the CDR says `admin`, unanswered.
    @Test(.timeLimit(.minutes(2)))
    func ringingCallHungUpThroughTheAPIIsCancelled() async throws {
        let server = try await base.startServer()
        let url = "http://127.0.0.1:\(server.http)"
        let login = try await postJSON(url + "/api/v1/auth/login", ["username": "admin", "password": "operator-chosen-1"])
        let token = try #require(login["access_token"] as? String, "login: \(login)")
        let calleePort = SIPInteropTests.freePort(udp: true)
        try await base.registerCallee(server, local: calleePort)
        async let uas = base.sipp("b2bua-uas-ring.xml", port: server.udp, local: calleePort, service: "200")
        async let uac = base.sipp("b2bua-uac-480.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                  service: "200", extra: base.caller)
        var call: [String: Any]?
        for _ in 0..<100 {
            let items = try await api("GET", url + "/api/v1/calls", token: token).json["items"] as? [[String: Any]] ?? []
            if let c = items.first, c["state"] as? String == "ringing" { call = c; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let listed = try #require(call, "no ringing call listed; server: \(server.process.stderr.all.suffix(3000))")
        #expect(listed["answered_at"] is NSNull)
        let id = try #require(listed["id"] as? String)
        // Through the admin CLI this time: log in, list, hang up.
        let config = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let env = ["XDG_CONFIG_HOME": config]
        var (status, out, err) = try await runTandem(["admin", "login", "--server", url, "--username", "admin"],
                                                     environment: env.merging(["TANDEM_PASSWORD": "operator-chosen-1"]) { _, b in b })
        #expect(status == 0, "login: \(err)")
        (status, out, err) = try await runTandem(["admin", "calls", "list"], environment: env)
        #expect(status == 0 && out.contains(id) && out.contains("ringing"), "calls list: \(out) \(err)")
        (status, out, err) = try await runTandem(["admin", "calls", "hangup", id], environment: env)
        #expect(status == 0 && out.contains("hung up call " + id), "calls hangup: \(out) \(err)")
        let caller = try await uac, callee = try await uas
        #expect(caller.status == 0 && caller.successful == 1, "caller: \(caller.output.suffix(2500))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        #expect(try await base.openLegsAfterSettling(server) == 0)
        var record: CallDetailRecord?
        for _ in 0..<50 {
            if let r = try base.records(server).first(where: { $0.id == id }) { record = r; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let cdr = try #require(record)
        #expect(cdr.endReason == .admin && cdr.hungUpBy == .system && cdr.answeredAt == nil && cdr.sipStatus == 480, "\(cdr)")
        await base.stop(server)
    }
}
