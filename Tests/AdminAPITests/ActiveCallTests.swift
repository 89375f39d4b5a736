import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import NIOConcurrencyHelpers
import Store
import Testing
@testable import AdminAPI

/// Active calls the test sets; records every hang-up asked for (a hung-up call leaves the list).
final class FakeCalls: CallControlSource {
    let list = NIOLockedValueBox<[ActiveCallInfo]>([])
    let hungUp = NIOLockedValueBox<[String]>([])
    /// Hold replies and media sessions the test sets (CallHoldAPITests.swift).
    let holdState = NIOLockedValueBox(FakeHoldState())
    func activeCalls() async -> [ActiveCallInfo] { list.withLockedValue { $0 } }
    func hangUp(callID: String) async -> Bool {
        list.withLockedValue { calls in
            guard let i = calls.firstIndex(where: { $0.id == callID }) else { return false }
            calls.remove(at: i)
            hungUp.withLockedValue { $0.append(callID) }
            return true
        }
    }
}

func activeCall(_ id: String, tenant: String, caller: String, callee: String, answered: Bool = true) -> ActiveCallInfo {
    ActiveCallInfo(id: id, tenantID: tenant, caller: caller, callee: callee, state: answered ? .answered : .ringing,
                   startedAt: Date(timeIntervalSince1970: 1_800_000_000), answeredAt: answered ? Date(timeIntervalSince1970: 1_800_000_002) : nil,
                   target: callee)
}

@Suite struct ActiveCallTests {
    /// Connects with `token` to topic `calls`, reports readiness once subscribed, then returns the first event.
    static func firstCallEvent(_ client: some TestClientProtocol, token: String, ready: @escaping @Sendable () -> Void) async throws -> [String: Any]? {
        let received = NIOLockedValueBox<String?>(nil)
        try await client.ws("/api/v1/events?topics=calls&access_token=\(token)") { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 16) {
                guard case .text(let text) = message else { continue }
                if text.contains(#""type":"subscribed""#) { ready(); continue }
                received.withLockedValue { $0 = text }
                try await outbound.close(.normalClosure, reason: nil)
                return
            }
        }
        return received.withLockedValue { $0 }.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// A call event of tenant A reaches A's administrator and the extension it rings, not B's administrator
    /// (whose first event is B's, published after A's), and lands in A's matching webhook's outbox, keyed by call.
    @Test(.timeLimit(.minutes(1)))
    func callEventReachesItsTenantOnlyAndTheWebhookOutbox() async throws {
        let f = try Fixture()
        try f.store.insertWebhook(WebhookRecord(id: "wa", tenantID: f.tenantA.id, url: "http://127.0.0.1:9/hook", events: ["call.*"],
                                                secret: "whsec_a", isEnabled: true, createdAt: Date()))
        try f.store.insertWebhook(WebhookRecord(id: "wa2", tenantID: f.tenantA.id, url: "http://127.0.0.1:9/hook2", events: ["call.ended"],
                                                secret: "whsec_a2", isEnabled: true, createdAt: Date()))
        try f.store.insertWebhook(WebhookRecord(id: "wb", tenantID: f.tenantB.id, url: "http://127.0.0.1:9/hookb", events: ["*"],
                                                secret: "whsec_b", isEnabled: true, createdAt: Date()))
        try await f.application().test(.live) { client in
            let alice = try await client.token("alice@a.example", "alice-secret")
            let bob = try await client.token("bob@b.example", "bob-secret")
            let hundred = try await client.token("100@a.example", "web-100-pass")  // the callee of A's call
            let (readyStream, readyContinuation) = AsyncStream.makeStream(of: Void.self)
            let ready: @Sendable () -> Void = { readyContinuation.yield() }
            async let aliceEvent = Self.firstCallEvent(client, token: alice, ready: ready)
            async let bobEvent = Self.firstCallEvent(client, token: bob, ready: ready)
            async let hundredEvent = Self.firstCallEvent(client, token: hundred, ready: ready)
            var count = 0
            for await _ in readyStream { count += 1; if count == 3 { break } }
            f.service.events.publish(.call("ringing", callID: "ca", tenantID: f.tenantA.id, caller: "101", callee: "100",
                                           occurredAt: Date(timeIntervalSince1970: 1_800_000_001)))
            f.service.events.publish(.call("answered", callID: "cb", tenantID: f.tenantB.id, caller: "200", callee: "201",
                                           occurredAt: Date(timeIntervalSince1970: 1_800_000_002)))
            let a = try await aliceEvent, b = try await bobEvent, h = try await hundredEvent
            #expect(a?["topic"] as? String == "calls")
            #expect(a?["type"] as? String == "ringing")
            #expect(a?["tenant_id"] as? String == f.tenantA.id)
            #expect(a?["occurred_at"] as? String == "2027-01-15T08:00:01Z")
            let data = a?["data"] as? [String: String]
            #expect(data?["call_id"] == "ca")
            #expect(data?["caller"] == "101")
            #expect(data?["callee"] == "100")
            #expect(b?["tenant_id"] as? String == f.tenantB.id)
            #expect((b?["data"] as? [String: String])?["call_id"] == "cb")
            #expect((h?["data"] as? [String: String])?["call_id"] == "ca")
        }
        // The webhook tap ran inside `publish`: A's call.* hook holds A's event only, keyed by its call.
        let wa = try f.store.webhookDeliveries(webhookID: "wa")
        #expect(wa.map(\.eventType) == ["call.ringing"])
        #expect(wa.first?.orderingKey == "ca")
        let body = wa.first.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
        #expect(body?["type"] as? String == "call.ringing")
        #expect((body?["data"] as? [String: String])?["callee"] == "100")
        #expect(try f.store.webhookDeliveries(webhookID: "wa2").isEmpty)  // subscribed to call.ended only
        #expect(try f.store.webhookDeliveries(webhookID: "wb").map(\.eventType) == ["call.answered"])
    }

    /// Administrators list their tenant's calls, the system administrator every tenant's, an extension user only
    /// the calls it takes part in; another tenant's call is 404 for reading and hanging up (and stays up).
    @Test func listingGettingAndHangingUpAreScoped() async throws {
        let f = try Fixture()
        f.calls.list.withLockedValue {
            $0 = [activeCall("a1", tenant: f.tenantA.id, caller: "100", callee: "101"),
                  activeCall("a2", tenant: f.tenantA.id, caller: "101", callee: "102", answered: false),
                  activeCall("b1", tenant: f.tenantB.id, caller: "200", callee: "201")]
        }
        try await f.withClient { client in
            let alice = try await client.token("alice@a.example", "alice-secret")
            let bob = try await client.token("bob@b.example", "bob-secret")
            let admin = try await client.token("admin", "system-secret")
            let hundred = try await client.token("100@a.example", "web-100-pass")

            var r = try await client.call(.get, "/api/v1/calls", token: alice)
            #expect(r.status == .ok)
            #expect(Set(r.items.compactMap { $0["id"] as? String }) == ["a1", "a2"])
            let a2 = r.items.first { $0["id"] as? String == "a2" }
            #expect(a2?["state"] as? String == "ringing")
            #expect(a2?["target"] as? String == "102")
            #expect(a2?["answered_at"] is NSNull)
            #expect(a2?["started_at"] as? String == "2027-01-15T08:00:00Z")
            r = try await client.call(.get, "/api/v1/calls", token: bob)
            #expect(r.items.compactMap { $0["id"] as? String } == ["b1"])
            r = try await client.call(.get, "/api/v1/calls", token: admin)
            #expect(r.items.count == 3)
            r = try await client.call(.get, "/api/v1/calls?tenant_id=\(f.tenantB.id)", token: admin)
            #expect(r.items.compactMap { $0["id"] as? String } == ["b1"])
            r = try await client.call(.get, "/api/v1/calls?tenant_id=\(f.tenantB.id)", token: alice)
            #expect(r.status == .notFound)
            r = try await client.call(.get, "/api/v1/calls", token: hundred)
            #expect(r.items.compactMap { $0["id"] as? String } == ["a1"])
            r = try await client.call(.get, "/api/v1/calls?limit=0", token: alice)
            #expect(r.status == .badRequest)

            r = try await client.call(.get, "/api/v1/calls/a1", token: alice)
            #expect(r.status == .ok)
            #expect(r.json["state"] as? String == "answered")
            #expect(r.json["answered_at"] as? String == "2027-01-15T08:00:02Z")
            #expect(r.json["caller"] as? String == "100")
            #expect(try await client.call(.get, "/api/v1/calls/b1", token: alice).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/calls/a2", token: hundred).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/calls/nope", token: admin).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/calls").status == .unauthorized)

            // The system status counts the scope's active and answered calls; media load is the system's only.
            var status = try await client.call(.get, "/api/v1/system/status", token: alice)
            #expect(status.json["active_calls"] as? Int == 2)
            #expect(status.json["answered_calls"] as? Int == 1)
            #expect((status.json["media_workers"] as? [Any])?.isEmpty == true)
            status = try await client.call(.get, "/api/v1/system/status", token: admin)
            #expect(status.json["active_calls"] as? Int == 3)

            #expect(try await client.call(.delete, "/api/v1/calls/b1", token: alice).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/calls/a2", token: hundred).status == .notFound)
            #expect(f.calls.hungUp.withLockedValue { $0 }.isEmpty)
            #expect(try await client.call(.delete, "/api/v1/calls/a1", token: alice).status == .noContent)
            #expect(f.calls.hungUp.withLockedValue { $0 } == ["a1"])
            // Gone: a second hang-up is 404.
            #expect(try await client.call(.delete, "/api/v1/calls/a1", token: alice).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/calls/b1", token: bob).status == .noContent)
            #expect(f.calls.hungUp.withLockedValue { $0 } == ["a1", "b1"])
        }
    }
}
