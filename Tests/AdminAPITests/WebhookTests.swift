import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Prometheus
import Store
import TandemBase
import Testing
@testable import AdminAPI

/// A webhook receiver on 127.0.0.1 (ephemeral port): answers 503 while `down`, else 200 and records the event;
/// checks every signature.
final class WebhookReceiver: Sendable {
    struct Accepted: Sendable {
        var eventID: String
        var type: String
        var callID: String?
    }

    struct State {
        var down = false
        var attempts = 0
        var refused = 0
        var badSignatures = 0
        var accepted: [Accepted] = []
    }

    let secret = NIOLockedValueBox<String>("")
    let state = NIOLockedValueBox(State())
    private let (changes, changed) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("hook") { [self] request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let data = Data(buffer: body)
            let ts = Int64(request.headers[HTTPField.Name("X-Tandem-Timestamp")!] ?? "") ?? 0
            let expected = WebhookDispatcher.signature(secret: secret.withLockedValue { $0 }, timestamp: ts, body: data)
            let signed = request.headers[HTTPField.Name("X-Tandem-Signature")!] == expected
            let id = request.headers[HTTPField.Name("X-Tandem-Event-Id")!] ?? ""
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            let payload = json["data"] as? [String: Any] ?? [:]
            let callID = payload["call_id"] as? String ?? payload["id"] as? String
            let (status, count): (HTTPResponse.Status, Int) = state.withLockedValue { s in
                s.attempts += 1
                if !signed || json["id"] as? String != id { s.badSignatures += 1; return (.unauthorized, s.accepted.count) }
                if s.down { s.refused += 1; return (.serviceUnavailable, s.accepted.count) }
                s.accepted.append(Accepted(eventID: id, type: json["type"] as? String ?? "", callID: callID))
                return (.ok, s.accepted.count)
            }
            changed.yield(count)
            return Response(status: status)
        }
        return router
    }

    /// Waits until `n` events were accepted (or `seconds` pass); returns the accepted count.
    func waitForAccepted(_ n: Int, seconds: Double = 20) async -> Int {
        if state.withLockedValue({ $0.accepted.count }) >= n { return n }
        return await withTaskGroup(of: Int?.self) { group in
            group.addTask { [changes] in
                for await count in changes where count >= n { return count }
                return nil
            }
            group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? self.state.withLockedValue { $0.accepted.count }
        }
    }

    /// Waits until the receiver refused at least `n` attempts while down.
    func waitForRefused(_ n: Int, seconds: Double = 20) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [changes, state] in
                if state.withLockedValue({ $0.refused }) >= n { return true }
                for await _ in changes where state.withLockedValue({ $0.refused }) >= n { return true }
                return false
            }
            group.addTask { try? await Task.sleep(for: .seconds(seconds)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Runs the receiver for the duration of `body`, passing its URL.
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let (ports, portFound) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in portFound.yield(channel.localAddress?.port ?? 0) },
                              logger: Logger(label: "receiver"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await app.runService(); return nil }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let result = try await body("http://127.0.0.1:\(port)/hook")
            group.cancelAll()
            return result
        }
    }
}

/// Polls `condition` every 20 ms for at most `seconds` (for state that has no event to await).
func eventually(seconds: Double = 10, _ condition: () throws -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if (try? condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? condition()) == true
}

extension Fixture {
    /// Fast retries for tests.
    static func fastWebhooks(_ c: inout AdminAPIService.Configuration) {
        c.webhooks.initialBackoff = 0.05
        c.webhooks.maximumBackoff = 0.2
        c.webhooks.idlePoll = 0.5
        c.webhooks.requestTimeout = 5
    }
}

@Suite struct WebhookTests {
    @Test func crudValidationAndSecretShownOnce() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let created = try await c.call(.post, "/api/v1/webhooks", token: alice,
                                           json: ["url": "https://hooks.example/tandem", "events": ["cdr", "call.*", "cdr"]])
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(created.json["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && secret.count > 40)
            #expect(created.json["events"] as? [String] == ["cdr", "call.*"])
            #expect(created.json["enabled"] as? Bool == true)
            #expect(created.json["tenant_id"] as? String == f.tenantA.id)
            let id = try #require(created.json["id"] as? String)
            let got = try await c.call(.get, "/api/v1/webhooks/\(id)", token: alice)
            #expect(got.status == .ok)
            #expect(got.json["secret"] == nil && !got.text.contains(secret))
            #expect(!(try await c.call(.get, "/api/v1/webhooks", token: alice)).text.contains(secret))
            let patched = try await c.call(.patch, "/api/v1/webhooks/\(id)", token: alice, json: ["enabled": false, "events": ["extension.registered"]])
            #expect(patched.json["enabled"] as? Bool == false)
            #expect(patched.json["events"] as? [String] == ["extension.registered"])
            #expect(try await c.call(.get, "/api/v1/webhooks/\(id)/deliveries", token: alice).status == .ok)

            let bad: [([String: Any], [String])] = [
                (["url": "ftp://x.example/", "events": ["cdr"]], ["url"]),
                (["url": "not a url", "events": ["cdr"]], ["url"]),
                (["url": "https://user:pw@x.example/", "events": ["cdr"]], ["url"]),
                (["url": "https://x.example/", "events": []], ["events"]),
                (["url": "https://x.example/", "events": ["bogus.event", 3]], ["events[0]", "events[1]"]),
                (["url": "https://x.example/", "events": "cdr"], ["events"]),
                (["url": "https://x.example/"], ["events"]),
                (["url": "https://x.example/", "events": ["cdr"], "secret": "mine"], ["secret"]),
                (["url": "https://x.example/", "events": ["cdr"], "enabled": "yes"], ["enabled"]),
            ]
            for (body, fields) in bad {
                let r = try await c.call(.post, "/api/v1/webhooks", token: alice, json: body)
                #expect(r.status == .unprocessableContent, "\(body) → \(r.status)")
                #expect(r.fieldErrors == fields, "\(body): \(r.text)")
            }
            #expect(try await c.call(.post, "/api/v1/webhooks", token: alice, raw: "{not json").status == .badRequest)
            #expect(try await c.call(.patch, "/api/v1/webhooks/\(id)", token: alice, json: ["url": NSNull()]).status == .unprocessableContent)
            #expect(try f.store.webhooks(tenantID: f.tenantA.id).count == 1)

            // Auth failures: none, and an extension user (403).
            #expect(try await c.call(.get, "/api/v1/webhooks").status == .unauthorized)
            let me = try await c.token("100@a.example", "web-100-pass")
            #expect(try await c.call(.get, "/api/v1/webhooks", token: me).status == .forbidden)
            #expect(try await c.call(.post, "/api/v1/webhooks", token: me, json: ["url": "https://x.example/", "events": ["cdr"]]).status == .forbidden)

            #expect(try await c.call(.delete, "/api/v1/webhooks/\(id)", token: alice).status == .noContent)
            #expect(try await c.call(.get, "/api/v1/webhooks/\(id)", token: alice).status == .notFound)
        }
    }

    @Test func webhookTenantIsolation() async throws {
        let f = try Fixture()
        let hook = WebhookRecord(id: "bhook", tenantID: f.tenantB.id, url: "https://b.example/hook", events: ["cdr"],
                                 secret: "whsec_b", isEnabled: true, createdAt: Date())
        try f.store.insertWebhook(hook)
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let B = f.tenantB.id
            let probes: [(HTTPRequest.Method, String, Any?)] = [
                (.get, "/api/v1/webhooks/bhook", nil),
                (.patch, "/api/v1/webhooks/bhook", ["url": "https://evil.example/"]),
                (.delete, "/api/v1/webhooks/bhook", nil),
                (.get, "/api/v1/webhooks/bhook/deliveries", nil),
                (.get, "/api/v1/webhooks?tenant_id=\(B)", nil),
                (.post, "/api/v1/webhooks", ["tenant_id": B, "url": "https://evil.example/", "events": ["cdr"]]),
            ]
            for (method, path, body) in probes {
                let r = try await c.call(method, path, token: alice, json: body)
                #expect(r.status == .notFound, "\(method) \(path) → \(r.status)")
                #expect(!r.text.contains("b.example") && !r.text.contains("whsec_b"))
            }
            #expect(try await c.call(.get, "/api/v1/webhooks", token: alice).items.isEmpty)
            let admin = try await c.token("admin", "system-secret")
            #expect(try await c.call(.get, "/api/v1/webhooks", token: admin).items.count == 1)
        }
        #expect(try f.store.webhook(id: "bhook")?.url == hook.url)
        #expect(try f.store.webhook(id: "bhook")?.isEnabled == true)
    }

    /// Events of three calls, with the receiver down for the first part: every event arrives exactly once, each
    /// call's in order, each signed.
    @Test(.timeLimit(.minutes(1)))
    func deliveryIsExactlyOnceAndOrderedPerCallAcrossAnOutage() async throws {
        let f = try Fixture(configure: Fixture.fastWebhooks)
        let receiver = WebhookReceiver()
        try await receiver.serve { url in
            let hook = WebhookRecord(id: "h1", tenantID: f.tenantA.id, url: url, events: ["call.*", "cdr"], secret: "whsec_test",
                                     isEnabled: true, createdAt: Date())
            receiver.secret.withLockedValue { $0 = hook.secret }
            try f.store.insertWebhook(hook)
            // Another tenant's event and an unsubscribed event: never delivered.
            f.service.events.publish(APIEvent(topic: "calls", type: "ringing", tenantID: f.tenantB.id, extension: "200",
                                              occurredAt: Date(), data: ["call_id": "other"]))
            f.service.events.publish(.registration("registered", snapshot(f.tenantA.id, "100", "a.example")))
            receiver.state.withLockedValue { $0.down = true }
            let dispatcher = Task { await f.service.webhooks.run() }
            var expected: [String: [String]] = [:]
            for round in 0..<3 {
                for call in ["k1", "k2", "k3"] {
                    let type = ["ringing", "answered", "held"][round]
                    f.service.events.publish(APIEvent(topic: "calls", type: type, tenantID: f.tenantA.id, extension: "100",
                                                      occurredAt: Date(), data: ["call_id": call]))
                    expected[call, default: []].append("call." + type)
                }
                if round == 0 { #expect(await receiver.waitForRefused(3)) }
            }
            for call in ["k1", "k2", "k3"] {
                try f.service.recordCall(makeRecord(call, tenant: f.tenantA.id, caller: "100", callee: "101", started: 1_800_000_000))
                expected[call, default: []].append("cdr")
            }
            #expect(await receiver.waitForRefused(6))
            receiver.state.withLockedValue { $0.down = false }
            #expect(await receiver.waitForAccepted(12) == 12)
            // The receiver answered; the dispatcher deletes each delivery right after.
            #expect(await eventually { try f.store.webhookDeliveries(webhookID: "h1").isEmpty })
            dispatcher.cancel()
            await dispatcher.value
            let s = receiver.state.withLockedValue { $0 }
            #expect(s.badSignatures == 0)
            #expect(s.accepted.count == 12)
            #expect(Set(s.accepted.map(\.eventID)).count == 12)
            for (call, types) in expected {
                #expect(s.accepted.filter { $0.callID == call }.map(\.type) == types, "call \(call)")
            }
            #expect(try f.store.webhookDeliveries(webhookID: "h1").isEmpty)
        }
    }

    /// The receiver is down while the first dispatcher runs; it is stopped, a new store and dispatcher are opened on
    /// the same directory, the receiver returns: every event arrives exactly once, with its original id.
    @Test(.timeLimit(.minutes(1)))
    func outboxSurvivesARestartOfTheDeliveryService() async throws {
        let f = try Fixture(configure: Fixture.fastWebhooks)
        let receiver = WebhookReceiver()
        try await receiver.serve { url in
            let hook = WebhookRecord(id: "h2", tenantID: f.tenantA.id, url: url, events: ["*"], secret: "whsec_restart",
                                     isEnabled: true, createdAt: Date())
            receiver.secret.withLockedValue { $0 = hook.secret }
            try f.store.insertWebhook(hook)
            receiver.state.withLockedValue { $0.down = true }
            let first = Task { await f.service.webhooks.run() }
            for i in 0..<5 {
                try f.service.recordCall(makeRecord("r\(i)", tenant: f.tenantA.id, caller: "100", callee: "101", started: 1_800_000_000))
            }
            f.service.events.publish(.registration("registered", snapshot(f.tenantA.id, "100", "a.example")))
            #expect(await receiver.waitForRefused(6))
            first.cancel()
            await first.value
            let queued = try f.store.webhookDeliveries(webhookID: "h2")
            #expect(queued.count == 6)
            #expect(queued.allSatisfy { $0.state == "pending" })
            #expect(queued.contains { $0.attempts > 0 })

            let reopened = try TandemStore(directory: f.directory)
            var configuration = AdminAPIService.Configuration()
            Fixture.fastWebhooks(&configuration)
            let second = WebhookDispatcher(store: reopened, metrics: PrometheusCollectorRegistry(), configuration: configuration.webhooks)
            receiver.state.withLockedValue { $0.down = false }
            let run = Task { await second.run() }
            #expect(await receiver.waitForAccepted(6) == 6)
            #expect(await eventually { try reopened.webhookDeliveries(webhookID: "h2").isEmpty })
            run.cancel()
            await run.value
            let s = receiver.state.withLockedValue { $0 }
            #expect(Set(s.accepted.map(\.eventID)) == Set(queued.map(\.eventID)))
            #expect(s.accepted.count == 6)
            // Different calls: any order, each once.
            #expect(s.accepted.filter { $0.type == "cdr" }.compactMap(\.callID).sorted() == ["r0", "r1", "r2", "r3", "r4"])
            #expect(s.accepted.contains { $0.type == "extension.registered" })
            #expect(try reopened.webhookDeliveries(webhookID: "h2").isEmpty)
        }
        try? FileManager.default.removeItem(atPath: f.directory)
    }

    @Test func backoffGrowsAndIsBounded() throws {
        var c = WebhookDispatcher.Configuration()
        c.initialBackoff = 5
        c.maximumBackoff = 3600
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-wh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = WebhookDispatcher(store: try TandemStore(directory: dir), metrics: PrometheusCollectorRegistry(), configuration: c)
        #expect(d.backoff(afterAttempts: 1) == 5)
        #expect(d.backoff(afterAttempts: 2) == 10)
        #expect(d.backoff(afterAttempts: 5) == 80)
        #expect(d.backoff(afterAttempts: 40) == 3600)
        // The signature is HMAC-SHA256 of "timestamp.body" (RFC 4231-style check against a known value).
        let sig = WebhookDispatcher.signature(secret: "key", timestamp: 1, body: Data("x".utf8))
        #expect(sig == "sha256=" + Digest.sha256.hmac(key: Array("key".utf8), data: Array("1.x".utf8)).hexString)
        #expect(sig.count == 7 + 64)
    }
}
