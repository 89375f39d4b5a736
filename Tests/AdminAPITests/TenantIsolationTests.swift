import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Store
import Testing
@testable import AdminAPI

/// A tenant administrator of A gets 404 for every object of B (as for ids that do not exist) and cannot create
/// anything in B; nothing of B changes.
@Suite struct TenantIsolationTests {
    @Test func tenantAdministratorOfACannotSeeOrChangeTenantB() async throws {
        let f = try Fixture()
        f.registrations.list.withLockedValue {
            $0 = [snapshot(f.tenantA.id, "100", "a.example"), snapshot(f.tenantB.id, "200", "b.example")]
        }
        f.calls.list.withLockedValue {
            $0 = [activeCall("alive", tenant: f.tenantA.id, caller: "100", callee: "101"),
                  activeCall("blive", tenant: f.tenantB.id, caller: "200", callee: "201")]
        }
        f.calls.holdState.withLockedValue { $0.sessions = [mediaSession("blive", tenant: f.tenantB.id)] }
        let bKey = APIKeyRecord(id: "bkey", tenantID: f.tenantB.id, name: "b", keyHash: "x", prefix: "tk_x", role: .tenantAdministrator,
                                createdBy: "b", createdAt: Date())
        try f.store.insertAPIKey(bKey)
        try f.service.recordCall(makeRecord("bcall", tenant: f.tenantB.id, caller: "200", callee: "201", started: 1_800_000_000))
        try f.store.insertWebhook(WebhookRecord(id: "bhook", tenantID: f.tenantB.id, url: "https://hooks.b.example/", events: ["cdr"],
                                                secret: "whsec_b", isEnabled: true, createdAt: Date()))
        // A finished recording of B's call (RecordingRoutes.swift), and a recorder so that recording routes run.
        f.calls.enableRecording(store: f.store, directory: f.directory + "/recordings")
        try f.store.insertRecording(CallRecording(id: "brec", tenantID: f.tenantB.id, callID: "blive", caller: "200", callee: "201",
                                                  path: "\(f.tenantB.id)/2027-01-15/brec.wav", startedAt: Date(), endedAt: Date()))
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let B = f.tenantB.id, e200 = f.ext200.id, gB = f.groupB.id
            // Every route with an id of B, with a body where the route takes one.
            let probes: [(HTTPRequest.Method, String, Any?)] = [
                (.get, "/api/v1/tenants/\(B)", nil),
                (.patch, "/api/v1/tenants/\(B)", ["name": "pwned"]),
                (.delete, "/api/v1/tenants/\(B)", nil),
                (.get, "/api/v1/extensions/\(e200)", nil),
                (.patch, "/api/v1/extensions/\(e200)", ["display_name": "pwned"]),
                (.delete, "/api/v1/extensions/\(e200)", nil),
                (.get, "/api/v1/extensions/\(e200)/registrations", nil),
                (.get, "/api/v1/extensions?tenant_id=\(B)", nil),
                (.post, "/api/v1/extensions", ["tenant_id": B, "number": "300", "sip_password": "x"]),
                (.get, "/api/v1/extensions/export?tenant_id=\(B)", nil),
                (.get, "/api/v1/extension-groups/\(gB)", nil),
                (.patch, "/api/v1/extension-groups/\(gB)", ["name": "pwned"]),
                (.delete, "/api/v1/extension-groups/\(gB)", nil),
                (.get, "/api/v1/extension-groups/\(gB)/members", nil),
                (.put, "/api/v1/extension-groups/\(gB)/members/\(f.ext100.id)", nil),
                (.delete, "/api/v1/extension-groups/\(gB)/members/\(e200)", nil),
                (.put, "/api/v1/extension-groups/\(f.groupA.id)/members/\(e200)", nil),
                (.get, "/api/v1/extension-groups?tenant_id=\(B)", nil),
                (.post, "/api/v1/extension-groups", ["tenant_id": B, "name": "Evil"]),
                (.get, "/api/v1/registrations?tenant_id=\(B)", nil),
                (.get, "/api/v1/api-keys?tenant_id=\(B)", nil),
                (.delete, "/api/v1/api-keys/\(bKey.id)", nil),
                (.post, "/api/v1/api-keys", ["name": "x", "tenant_id": B]),
                (.get, "/api/v1/cdrs/bcall", nil),
                (.get, "/api/v1/cdrs?tenant_id=\(B)", nil),
                (.get, "/api/v1/cdrs.csv?tenant_id=\(B)", nil),
                (.get, "/api/v1/calls/blive", nil),
                (.delete, "/api/v1/calls/blive", nil),
                (.get, "/api/v1/calls?tenant_id=\(B)", nil),
                (.post, "/api/v1/calls/blive/recording", nil),
                (.delete, "/api/v1/calls/blive/recording", nil),
                (.get, "/api/v1/recordings/brec", nil),
                (.get, "/api/v1/recordings/brec/audio", nil),
                (.delete, "/api/v1/recordings/brec", nil),
                (.get, "/api/v1/recordings?tenant_id=\(B)", nil),
                (.post, "/api/v1/calls/blive/hold", nil),
                (.post, "/api/v1/calls/blive/unhold", ["party": "callee"]),
                (.get, "/api/v1/media/sessions/blive", nil),
                (.get, "/api/v1/media/sessions?tenant_id=\(B)", nil),
                (.post, "/api/v1/calls/blive/transfer", ["party": "caller", "target": "200"]),
                (.post, "/api/v1/calls/alive/transfer", ["replaces_call_id": "blive"]),
                (.post, "/api/v1/calls", ["tenant_id": B, "caller": "200", "callee": "201"]),
                (.get, "/api/v1/webhooks/bhook", nil),
                (.patch, "/api/v1/webhooks/bhook", ["enabled": false]),
                (.delete, "/api/v1/webhooks/bhook", nil),
                (.get, "/api/v1/webhooks/bhook/deliveries", nil),
                (.get, "/api/v1/webhooks?tenant_id=\(B)", nil),
                (.post, "/api/v1/webhooks", ["tenant_id": B, "url": "https://x.example/", "events": ["cdr"]]),
            ]
            for (method, path, body) in probes {
                let r = try await c.call(method, path, token: a, json: body)
                #expect(r.status == .notFound, "\(method) \(path) → \(r.status) \(r.text)")
                #expect(!r.text.contains("b.example"), "\(method) \(path) leaks: \(r.text)")
            }
            let importInto = try await c.call(.post, "/api/v1/extensions/import?tenant_id=\(B)", token: a,
                                              raw: "number,sip_password\n300,x\n")
            #expect(importInto.status == .notFound)
            // An id that does not exist anywhere gets the very same answer.
            let missing = try await c.call(.get, "/api/v1/extensions/doesnotexist", token: a)
            let foreign = try await c.call(.get, "/api/v1/extensions/\(e200)", token: a)
            #expect(missing.text == foreign.text)

            // Lists hold only A.
            let tenants = try await c.call(.get, "/api/v1/tenants", token: a)
            #expect(tenants.items.map { $0["id"] as? String } == [f.tenantA.id])
            let exts = try await c.call(.get, "/api/v1/extensions", token: a)
            #expect(Set(exts.items.compactMap { $0["number"] as? String }) == ["100", "101"])
            let groups = try await c.call(.get, "/api/v1/extension-groups", token: a)
            #expect(groups.items.compactMap { $0["name"] as? String } == ["Sales"])
            let regs = try await c.call(.get, "/api/v1/registrations", token: a)
            #expect(regs.items.compactMap { $0["extension"] as? String } == ["100"])
            #expect(regs.items.first?["extension_id"] as? String == f.ext100.id)
            let calls = try await c.call(.get, "/api/v1/calls", token: a)
            #expect(calls.items.compactMap { $0["id"] as? String } == ["alive"])
            let keys = try await c.call(.get, "/api/v1/api-keys", token: a)
            #expect(keys.items.isEmpty)
            let status = try await c.call(.get, "/api/v1/system/status", token: a)
            #expect(status.json["registrations"] as? Int == 1)
            #expect(status.json["extensions"] as? Int == 2)
            // Creating a tenant is for the system administrator (403: no object of anyone's is involved).
            #expect(try await c.call(.post, "/api/v1/tenants", token: a, json: ["name": "C", "domain": "c.example"]).status == .forbidden)
        }
        // Nothing of B changed.
        #expect(try f.store.tenant(id: f.tenantB.id)?.name == "B")
        #expect(try f.store.extensions(tenantID: f.tenantB.id).map(\.number) == ["200"])
        #expect(try f.store.extensionRecord(id: f.ext200.id)?.displayName == "")
        #expect(try f.store.groups(tenantID: f.tenantB.id).map(\.name) == ["Support"])
        #expect(try f.store.members(ofGroup: f.groupB.id).map(\.number) == ["200"])
        #expect(try f.store.apiKey(id: "bkey") != nil)
        #expect(try f.store.webhook(id: "bhook")?.isEnabled == true)
        #expect(try f.store.callRecord(id: "bcall") != nil)
        #expect(try f.store.recording(id: "brec") != nil)
        #expect(f.calls.hungUp.withLockedValue { $0 }.isEmpty)
        #expect(f.calls.holdState.withLockedValue { $0.requests }.isEmpty)
    }

    @Test func systemAdministratorWorksAcrossTenants() async throws {
        let f = try Fixture()
        f.registrations.list.withLockedValue {
            $0 = [snapshot(f.tenantA.id, "100", "a.example"), snapshot(f.tenantB.id, "200", "b.example")]
        }
        try await f.withClient { c in
            let admin = try await c.token("admin", "system-secret")
            #expect(try await c.call(.get, "/api/v1/tenants", token: admin).items.count == 3)
            #expect(try await c.call(.get, "/api/v1/extensions", token: admin).items.count == 3)
            #expect(try await c.call(.get, "/api/v1/registrations", token: admin).items.count == 2)
            let created = try await c.call(.post, "/api/v1/extensions", token: admin,
                                           json: ["tenant_id": f.tenantB.id, "number": "201", "sip_password": "pw"])
            #expect(created.status == .created)
            #expect(created.json["tenant_id"] as? String == f.tenantB.id)
            let tenant = try await c.call(.post, "/api/v1/tenants", token: admin,
                                          json: ["name": "C", "domain": "C.Example", "admin_username": "carol", "admin_password": "carol-secret"])
            #expect(tenant.status == .created)
            #expect(tenant.json["domain"] as? String == "c.example")
            let carol = try await c.token("carol@c.example", "carol-secret")
            #expect(try await c.call(.get, "/api/v1/tenants", token: carol).items.count == 1)
            let dup = try await c.call(.post, "/api/v1/tenants", token: admin, json: ["name": "D", "domain": "a.example"])
            #expect(dup.status == .conflict)
            #expect(dup.fieldErrors == ["domain"])
            let id = try #require(tenant.json["id"] as? String)
            #expect(try await c.call(.patch, "/api/v1/tenants/\(id)", token: admin, json: ["max_extensions": 5]).json["max_extensions"] as? Int == 5)
            #expect(try await c.call(.delete, "/api/v1/tenants/\(id)", token: admin).status == .noContent)
            #expect(try await c.call(.get, "/api/v1/tenants/\(id)", token: admin).status == .notFound)
        }
    }

    @Test func extensionUserSeesOnlyItself() async throws {
        let f = try Fixture()
        f.registrations.list.withLockedValue {
            $0 = [snapshot(f.tenantA.id, "100", "a.example"), snapshot(f.tenantA.id, "101", "a.example")]
        }
        try await f.withClient { c in
            let me = try await c.token("100@a.example", "web-100-pass")
            let who = try await c.call(.get, "/api/v1/auth/me", token: me)
            #expect(who.json["role"] as? String == "extension_user")
            let list = try await c.call(.get, "/api/v1/extensions", token: me)
            #expect(list.items.compactMap { $0["id"] as? String } == [f.ext100.id])
            #expect(try await c.call(.get, "/api/v1/extensions/\(f.ext100.id)", token: me).status == .ok)
            #expect(try await c.call(.get, "/api/v1/extensions/\(f.ext101.id)", token: me).status == .notFound)
            #expect(try await c.call(.get, "/api/v1/extensions/\(f.ext200.id)", token: me).status == .notFound)
            #expect(try await c.call(.patch, "/api/v1/extensions/\(f.ext100.id)", token: me, json: ["record_calls": true]).status == .forbidden)
            #expect(try await c.call(.post, "/api/v1/extensions", token: me, json: ["number": "1", "sip_password": "x"]).status == .forbidden)
            #expect(try await c.call(.get, "/api/v1/extension-groups", token: me).status == .forbidden)
            #expect(try await c.call(.get, "/api/v1/registrations", token: me).items.compactMap { $0["extension"] as? String } == ["100"])
            // An extension without a web password, a disabled one, or a wrong password cannot log in.
            #expect(try await c.call(.post, "/api/v1/auth/login", json: ["username": "101@a.example", "password": ""]).status == .unprocessableContent)
            #expect(try await c.call(.post, "/api/v1/auth/login", json: ["username": "101@a.example", "password": "x"]).status == .unauthorized)
            var s = f.ext100.settings
            s.isEnabled = false
            try f.store.updateExtension(id: f.ext100.id, settings: s)
            #expect(try await c.call(.post, "/api/v1/auth/login", json: ["username": "100@a.example", "password": "web-100-pass"]).status == .unauthorized)
        }
    }
}

func snapshot(_ tenantID: String, _ number: String, _ domain: String) -> RegistrationSnapshot {
    RegistrationSnapshot(tenantID: tenantID, number: number, aor: "sip:\(number)@\(domain)", contact: "sip:\(number)@192.0.2.1:5060",
                         transport: "udp", source: "192.0.2.1:5060", registeredAt: Date(timeIntervalSince1970: 1_800_000_000),
                         expiresAt: Date(timeIntervalSince1970: 1_800_003_600), userAgent: "test-phone")
}
