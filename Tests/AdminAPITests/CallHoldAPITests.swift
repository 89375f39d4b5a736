import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Store
import Testing
@testable import AdminAPI

/// What the fake call source answers to hold requests and which media sessions it lists.
struct FakeHoldState {
    /// Parties held per call id.
    var held: [String: Set<String>] = [:]
    /// When set, the next hold or unhold answers this instead.
    var nextReply: CallHoldResult?
    /// Every request: (call, party, hold).
    var requests: [(String, HoldParty, Bool)] = []
    var sessions: [MediaSessionInfo] = []
}

extension FakeCalls: MediaSessionSource {
    func setHold(callID: String, party: HoldParty, hold: Bool) async -> CallHoldResult {
        guard let call = list.withLockedValue({ $0.first { $0.id == callID } }) else { return .notFound }
        return holdState.withLockedValue { state in
            state.requests.append((callID, party, hold))
            if let reply = state.nextReply { state.nextReply = nil; return reply }
            guard call.state == .answered else { return .notAnswered }
            let parties: Set<String> = party == .both ? ["caller", "callee"] : [party.rawValue]
            var held = state.held[callID] ?? []
            if hold, !held.isDisjoint(with: parties) { return .conflict("already on hold") }
            if !hold, !parties.isSubset(of: held) { return .conflict("not on hold") }
            if hold { held.formUnion(parties) } else { held.subtract(parties) }
            state.held[callID] = held
            return .done(held: held.sorted())
        }
    }

    func mediaSessions() async -> [MediaSessionInfo] { holdState.withLockedValue { $0.sessions } }
}

func mediaSession(_ id: String, tenant: String, packets: UInt64 = 10) -> MediaSessionInfo {
    let leg = { (i: Int) in
        MediaStreamInfo(index: i, localAddress: "127.0.0.1", localRTPPort: 30000 + 2 * i, localRTCPPort: 30001 + 2 * i,
                        remoteAddress: "127.0.0.1:\(16000 + i)", codec: "PCMA/8000", packetsIn: packets, bytesIn: packets * 172,
                        packetsOut: packets, bytesOut: packets * 172, packetsDropped: 0, packetsLost: 1, lossFraction: 0.1,
                        jitterMilliseconds: 1.5, roundTripMilliseconds: nil, meanOpinionScore: 4.2)
    }
    return MediaSessionInfo(id: id, callID: id, tenantID: tenant, held: [], streams: [leg(0), leg(1)])
}

@Suite struct CallHoldAPITests {
    @Test func holdAndUnholdMapEveryOutcomeToItsStatus() async throws {
        let f = try Fixture()
        f.calls.list.withLockedValue {
            $0 = [activeCall("alive", tenant: f.tenantA.id, caller: "100", callee: "101"),
                  activeCall("aring", tenant: f.tenantA.id, caller: "100", callee: "101", answered: false),
                  activeCall("blive", tenant: f.tenantB.id, caller: "200", callee: "201")]
        }
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            // No body: both parties.
            var r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["call_id"] as? String == "alive")
            #expect(r.json["held"] as? [String] == ["callee", "caller"])
            r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a, json: ["party": "caller"])
            #expect(r.status == .conflict)
            r = try await c.call(.post, "/api/v1/calls/alive/unhold", token: a, json: ["party": "callee"])
            #expect(r.status == .ok && r.json["held"] as? [String] == ["caller"], "\(r.text)")
            r = try await c.call(.post, "/api/v1/calls/alive/unhold", token: a, json: ["party": "callee"])
            #expect(r.status == .conflict)
            // Bad bodies: a party that does not exist, an unknown field, not JSON.
            r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a, json: ["party": "everyone"])
            #expect(r.status == .unprocessableContent && r.fieldErrors == ["party"], "\(r.text)")
            r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a, json: ["party": "caller", "music": "x"])
            #expect(r.status == .unprocessableContent && r.fieldErrors == ["music"])
            r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a, raw: "{nope")
            #expect(r.status == .badRequest)
            // Not answered: 409; unknown and foreign calls: 404, and the source is never asked.
            #expect(try await c.call(.post, "/api/v1/calls/aring/hold", token: a).status == .conflict)
            let before = f.calls.holdState.withLockedValue { $0.requests.count }
            #expect(try await c.call(.post, "/api/v1/calls/nope/hold", token: a).status == .notFound)
            #expect(try await c.call(.post, "/api/v1/calls/blive/hold", token: a).status == .notFound)
            #expect(try await c.call(.post, "/api/v1/calls/blive/unhold", token: a).status == .notFound)
            #expect(f.calls.holdState.withLockedValue { $0.requests.count } == before)
            // The phone refuses: 502 naming the status; no answer: 504; busy: 409.
            f.calls.holdState.withLockedValue { $0.nextReply = .rejected(party: "callee", status: 488) }
            r = try await c.call(.post, "/api/v1/calls/alive/hold", token: a, json: ["party": "callee"])
            #expect(r.status == .badGateway && r.json["detail"] as? String == "the callee's phone answered the re-INVITE with 488", "\(r.text)")
            #expect(r.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            f.calls.holdState.withLockedValue { $0.nextReply = .timedOut(party: "caller") }
            #expect(try await c.call(.post, "/api/v1/calls/alive/hold", token: a).status == .gatewayTimeout)
            f.calls.holdState.withLockedValue { $0.nextReply = .busy }
            #expect(try await c.call(.post, "/api/v1/calls/alive/hold", token: a).status == .conflict)
            let requests = f.calls.holdState.withLockedValue { $0.requests }
            #expect(requests.first.map { $0.0 == "alive" && $0.1 == .both && $0.2 } == true)
        }
    }

    @Test func aServerWithoutCallsAnswers503() async throws {
        struct NoHold: CallControlSource {
            func activeCalls() async -> [ActiveCallInfo] {
                [activeCall("x", tenant: "t", caller: "1", callee: "2")]
            }
            func hangUp(callID: String) async -> Bool { false }
        }
        #expect(await NoHold().setHold(callID: "x", party: .both, hold: true) == .unsupported)
        #expect(throws: Problem.self) { try CallHoldResult.unsupported.response(callID: "x") }
        do {
            _ = try CallHoldResult.unsupported.response(callID: "x")
        } catch let p as Problem {
            #expect(p.status == .serviceUnavailable)
        }
    }

    @Test func mediaSessionsAreScopedToTheTenantAndHiddenFromExtensionUsers() async throws {
        let f = try Fixture()
        f.calls.holdState.withLockedValue {
            $0.sessions = [mediaSession("sa", tenant: f.tenantA.id, packets: 50), mediaSession("sb", tenant: f.tenantB.id)]
        }
        try await f.withClient { c in
            let admin = try await c.token("admin", "system-secret")
            let a = try await c.token("alice@a.example", "alice-secret")
            let ext = try await c.token("100@a.example", "web-100-pass")
            var r = try await c.call(.get, "/api/v1/media/sessions", token: admin)
            #expect(r.status == .ok && r.items.compactMap { $0["id"] as? String } == ["sa", "sb"], "\(r.text)")
            r = try await c.call(.get, "/api/v1/media/sessions?tenant_id=\(f.tenantB.id)", token: admin)
            #expect(r.items.compactMap { $0["id"] as? String } == ["sb"])
            r = try await c.call(.get, "/api/v1/media/sessions", token: a)
            #expect(r.items.compactMap { $0["id"] as? String } == ["sa"])
            r = try await c.call(.get, "/api/v1/media/sessions/sa", token: a)
            #expect(r.status == .ok)
            #expect(r.json["call_id"] as? String == "sa" && r.json["tenant_id"] as? String == f.tenantA.id)
            let streams = r.json["streams"] as? [[String: Any]] ?? []
            #expect(streams.count == 2)
            let s0 = streams.first ?? [:]
            #expect(s0["packets_in"] as? Int == 50 && s0["bytes_out"] as? Int == 50 * 172)
            #expect(s0["local_address"] as? String == "127.0.0.1" && s0["local_rtp_port"] as? Int == 30000)
            #expect(s0["remote_address"] as? String == "127.0.0.1:16000" && s0["codec"] as? String == "PCMA/8000")
            #expect(s0["packets_lost"] as? Int == 1 && s0["loss_fraction"] as? Double == 0.1)
            #expect(s0["jitter_ms"] as? Double == 1.5 && s0["mos"] as? Double == 4.2 && s0["rtt_ms"] is NSNull)
            // Another tenant's session and an unknown one: the same 404.
            let foreign = try await c.call(.get, "/api/v1/media/sessions/sb", token: a)
            let missing = try await c.call(.get, "/api/v1/media/sessions/none", token: a)
            #expect(foreign.status == .notFound && missing.status == .notFound && foreign.text == missing.text)
            #expect(try await c.call(.get, "/api/v1/media/sessions?tenant_id=\(f.tenantB.id)", token: a).status == .notFound)
            // Extension users: 403, list and item alike.
            #expect(try await c.call(.get, "/api/v1/media/sessions", token: ext).status == .forbidden)
            #expect(try await c.call(.get, "/api/v1/media/sessions/sa", token: ext).status == .forbidden)
            #expect(try await c.call(.get, "/api/v1/media/sessions").status == .unauthorized)
        }
    }
}
