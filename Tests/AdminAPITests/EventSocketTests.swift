import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOConcurrencyHelpers
import Testing
import HummingbirdWSClient
@testable import AdminAPI

@Suite struct EventSocketTests {
    /// Connects with `token`, waits for the subscription acknowledgement, reports readiness, then returns the first
    /// event it receives.
    static func firstEvent(_ client: some TestClientProtocol, token: String, ready: @escaping @Sendable () -> Void) async throws -> [String: Any]? {
        let received = NIOLockedValueBox<String?>(nil)
        try await client.ws("/api/v1/events?topics=extensions&access_token=\(token)") { inbound, outbound, _ in
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

    @Test(.timeLimit(.minutes(1)))
    func registrationEventReachesOnlyItsTenantsAdministrator() async throws {
        let f = try Fixture()
        let app = f.application()
        try await app.test(.live) { client in
            let alice = try await client.token("alice@a.example", "alice-secret")
            let bob = try await client.token("bob@b.example", "bob-secret")
            let sysAdmin = try await client.token("admin", "system-secret")  // the system administrator sees both tenants
            let (readyStream, readyContinuation) = AsyncStream.makeStream(of: Void.self)
            let ready: @Sendable () -> Void = { readyContinuation.yield() }
            async let aliceEvent = Self.firstEvent(client, token: alice, ready: ready)
            async let bobEvent = Self.firstEvent(client, token: bob, ready: ready)
            async let adminEvent = Self.firstEvent(client, token: sysAdmin, ready: ready)
            var count = 0
            for await _ in readyStream { count += 1; if count == 3 { break } }
            #expect(f.service.events.subscriberCount == 3)
            // A's event first: Bob must not get it, so the first event Bob sees is B's, published after it.
            f.service.events.publish(.registration("registered", snapshot(f.tenantA.id, "100", "a.example")))
            f.service.events.publish(.registration("registered", snapshot(f.tenantB.id, "200", "b.example")))
            let a = try await aliceEvent, b = try await bobEvent, s = try await adminEvent
            #expect(a?["tenant_id"] as? String == f.tenantA.id)
            #expect(a?["extension"] as? String == "100")
            #expect(a?["type"] as? String == "registered")
            #expect(a?["topic"] as? String == "extensions")
            #expect((a?["data"] as? [String: String])?["contact"] == "sip:100@192.0.2.1:5060")
            #expect(b?["tenant_id"] as? String == f.tenantB.id)
            #expect(s?["tenant_id"] as? String == f.tenantA.id)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func upgradeWithoutAValidTokenIsRefused() async throws {
        let f = try Fixture()
        try await f.application().test(.live) { client in
            await #expect(throws: (any Error).self) {
                try await client.ws("/api/v1/events?topics=extensions&access_token=forged") { _, _, _ in }
            }
            let plain = try await client.call(.get, "/api/v1/events", token: try await client.token("admin", "system-secret"))
            #expect(plain.status == .upgradeRequired)
            #expect(try await client.call(.get, "/api/v1/events?access_token=forged").status == .unauthorized)
        }
    }
}
