import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Store
import Testing
@testable import AdminAPI

/// What the call actions of the fake call source were asked, per FakeCalls instance.
private let requestedActions = NIOLockedValueBox<[ObjectIdentifier: [String]]>([:])

/// Call actions on the fake calls: a transfer of an answered call is accepted (unless the target is "9999"), of a
/// ringing one refused; attended needs a shared caller or callee; click-to-call returns a ringing call "c2c".
extension FakeCalls {
    var actions: [String] { requestedActions.withLockedValue { $0[ObjectIdentifier(self)] ?? [] } }
    private func note(_ s: String) { requestedActions.withLockedValue { $0[ObjectIdentifier(self), default: []].append(s) } }

    func transfer(callID: String, party: String, target: String) async -> CallActionOutcome {
        guard let call = list.withLockedValue({ $0.first { $0.id == callID } }) else { return .notFound }
        guard call.state == .answered else { return .conflict("the call is not answered") }
        if target == "9999" { return .invalidField(field: "target", message: "disabled") }
        note("transfer \(callID) \(party) \(target)")
        return .accepted(call)
    }

    func attendedTransfer(callID: String, party: String?, replacingCallID: String) async -> CallActionOutcome {
        let all = list.withLockedValue { $0 }
        guard let a = all.first(where: { $0.id == callID }), let b = all.first(where: { $0.id == replacingCallID }) else { return .notFound }
        guard Set([a.caller, a.callee]).isDisjoint(with: [b.caller, b.callee]) == false else {
            return .conflict("the two calls do not share an answered party")
        }
        note("attended \(callID) \(party ?? "-") \(replacingCallID)")
        return .accepted(a)
    }

    func clickToCall(tenantID: String, tenantDomain: String, caller: String, callee: String) async -> CallActionOutcome {
        note("click \(tenantDomain) \(caller) \(callee)")
        return .accepted(ActiveCallInfo(id: "c2c", tenantID: tenantID, caller: caller, callee: callee, state: .ringing,
                                        startedAt: Date(timeIntervalSince1970: 1_800_000_000), answeredAt: nil, target: caller))
    }
}

@Suite struct CallActionTests {
    func fixture() throws -> Fixture {
        let f = try Fixture()
        f.calls.list.withLockedValue {
            $0 = [activeCall("a1", tenant: f.tenantA.id, caller: "100", callee: "101"),
                  activeCall("a2", tenant: f.tenantA.id, caller: "101", callee: "102", answered: false),
                  activeCall("a3", tenant: f.tenantA.id, caller: "100", callee: "103"),
                  activeCall("a4", tenant: f.tenantA.id, caller: "104", callee: "105"),
                  activeCall("b1", tenant: f.tenantB.id, caller: "200", callee: "201")]
        }
        return f
    }

    /// Blind transfer: 202 with the call; 404 for unknown and other tenants' calls; 409 when not answered; 422 for
    /// an unknown target (with the field), a bad party, and bodies naming neither or both kinds of transfer.
    @Test func blindTransferAnswersAndValidates() async throws {
        let f = try fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let hundred = try await c.token("100@a.example", "web-100-pass")
            var r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["party": "caller", "target": "101"])
            #expect(r.status == .accepted, "\(r.text)")
            #expect(r.json["id"] as? String == "a1")
            #expect(r.json["state"] as? String == "answered")
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["party": "caller", "target": "555"])
            #expect(r.status == .unprocessableContent)
            #expect(r.fieldErrors == ["target"])
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["party": "nobody", "target": "101"])
            #expect(r.status == .unprocessableContent)
            #expect(r.fieldErrors == ["party"])
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["target": "101"])
            #expect(r.fieldErrors == ["party"])
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["party": "callee"])
            #expect(r.status == .unprocessableContent)
            #expect(r.fieldErrors == ["target"])
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice,
                                 json: ["party": "callee", "target": "101", "replaces_call_id": "a3"])
            #expect(r.fieldErrors == ["replaces_call_id"])
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["party": "callee", "target": "101", "x": 1])
            #expect(r.fieldErrors == ["x"])
            #expect(try await c.call(.post, "/api/v1/calls/a2/transfer", token: alice, json: ["party": "caller", "target": "100"])
                .status == .conflict)
            #expect(try await c.call(.post, "/api/v1/calls/b1/transfer", token: alice, json: ["party": "caller", "target": "100"])
                .status == .notFound)
            #expect(try await c.call(.post, "/api/v1/calls/zz/transfer", token: alice, json: ["party": "caller", "target": "100"])
                .status == .notFound)
            #expect(try await c.call(.post, "/api/v1/calls/a1/transfer", json: ["party": "caller", "target": "100"])
                .status == .unauthorized)
            // An extension user transfers calls it takes part in only.
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: hundred, json: ["party": "callee", "target": "100"])
            #expect(r.status == .accepted)
            #expect(try await c.call(.post, "/api/v1/calls/a4/transfer", token: hundred, json: ["party": "caller", "target": "100"])
                .status == .notFound)
        }
        #expect(f.calls.actions == ["transfer a1 caller 101", "transfer a1 callee 100"])
    }

    /// Attended transfer: 202 when the calls share a party, 409 when they do not, 404 for another tenant's call.
    @Test func attendedTransferNeedsASharedParty() async throws {
        let f = try fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            var r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["replaces_call_id": "a3", "party": "caller"])
            #expect(r.status == .accepted, "\(r.text)")
            r = try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["replaces_call_id": "a4"])
            #expect(r.status == .conflict)
            #expect(try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["replaces_call_id": "b1"])
                .status == .notFound)
            #expect(try await c.call(.post, "/api/v1/calls/a1/transfer", token: alice, json: ["replaces_call_id": "nope"])
                .status == .notFound)
        }
        #expect(f.calls.actions == ["attended a1 caller a3"])
    }

    /// Click-to-call: 201 with the call for a tenant administrator (any extension of its tenant) and an extension
    /// user as itself; 403 for an extension user naming another caller; 422 for an unknown caller or a missing
    /// callee; another tenant's extension is unknown (422) and another tenant named is 404.
    @Test func clickToCallIsScoped() async throws {
        let f = try fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let hundred = try await c.token("100@a.example", "web-100-pass")
            let admin = try await c.token("admin", "system-secret")
            var r = try await c.call(.post, "/api/v1/calls", token: alice, json: ["caller": "101", "callee": "100"])
            #expect(r.status == .created, "\(r.text)")
            #expect(r.json["id"] as? String == "c2c")
            #expect(r.json["state"] as? String == "ringing")
            r = try await c.call(.post, "/api/v1/calls", token: hundred, json: ["caller": "100", "callee": "101"])
            #expect(r.status == .created)
            #expect(try await c.call(.post, "/api/v1/calls", token: hundred, json: ["caller": "101", "callee": "100"]).status == .forbidden)
            r = try await c.call(.post, "/api/v1/calls", token: alice, json: ["caller": "555", "callee": "100"])
            #expect(r.status == .unprocessableContent)
            #expect(r.fieldErrors == ["caller"])
            r = try await c.call(.post, "/api/v1/calls", token: alice, json: ["caller": "200", "callee": "100"])
            #expect(r.fieldErrors == ["caller"])
            r = try await c.call(.post, "/api/v1/calls", token: alice, json: ["caller": "100"])
            #expect(r.fieldErrors == ["callee"])
            r = try await c.call(.post, "/api/v1/calls", token: alice, json: ["tenant_id": f.tenantB.id, "caller": "200", "callee": "201"])
            #expect(r.status == .notFound)
            r = try await c.call(.post, "/api/v1/calls", token: admin, json: ["tenant_id": f.tenantB.id, "caller": "200", "callee": "201"])
            #expect(r.status == .created)
        }
        #expect(f.calls.actions == ["click a.example 101 100", "click a.example 100 101", "click b.example 200 201"])
    }

    /// A server without SIP answers call actions 503 (NoCalls keeps the protocol's defaults).
    @Test func noSIPServiceAnswers503() async throws {
        let outcome = await NoCalls().transfer(callID: "x", party: "caller", target: "100")
        #expect(outcome == .unavailable("call transfer is not available on this server"))
        let response = try AdminAPIRoutes.callActionResponseStatus(outcome)
        #expect(response == .serviceUnavailable)
    }
}

extension AdminAPIRoutes {
    /// The status `callActionResponse` answers `outcome` with (thrown problems included).
    static func callActionResponseStatus(_ outcome: CallActionOutcome) throws -> HTTPResponse.Status {
        do {
            return try callActionResponse(outcome, what: "call", success: .accepted).status
        } catch let problem as Problem {
            return problem.status
        }
    }
}
