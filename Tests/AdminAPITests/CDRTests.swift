import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Store
import Testing
@testable import AdminAPI

func makeRecord(_ id: String, tenant: String, caller: String, callee: String, started: TimeInterval, answered: Bool = true,
                reason: CallDetailRecord.EndReason = .normal) -> CallDetailRecord {
    let start = Date(timeIntervalSince1970: started)
    return CallDetailRecord(id: id, tenantID: tenant, caller: caller, callee: callee, targets: ["sip:\(callee)@192.0.2.9:5060"],
                            startedAt: start, answeredAt: answered ? start.addingTimeInterval(2) : nil,
                            endedAt: start.addingTimeInterval(answered ? 62 : 20), endReason: reason,
                            sipStatus: answered ? nil : 486, hungUpBy: .caller, callerCodec: "PCMU/8000",
                            calleeCodec: answered ? "PCMU/8000" : nil, transcoded: false)
}

@Suite struct CDRTests {
    /// A: 100→101 answered (t0), 101→100 busy (t0+100), 100→101 no answer (t0+200), "=cmd" formula caller (t0+300);
    /// B: 200→201 (t0+50).
    static let t0: TimeInterval = 1_800_000_000

    static func seed(_ f: Fixture) throws {
        let a = f.tenantA.id, b = f.tenantB.id
        try f.service.recordCall(makeRecord("c1", tenant: a, caller: "100", callee: "101", started: t0))
        try f.service.recordCall(makeRecord("b1", tenant: b, caller: "200", callee: "201", started: t0 + 50))
        try f.service.recordCall(makeRecord("c2", tenant: a, caller: "101", callee: "100", started: t0 + 100, answered: false, reason: .busy))
        try f.service.recordCall(makeRecord("c3", tenant: a, caller: "100", callee: "101", started: t0 + 200, answered: false, reason: .noAnswer))
        try f.service.recordCall(makeRecord("c4", tenant: a, caller: "=HYPERLINK(\"x\")", callee: "-2+3", started: t0 + 300))
    }

    @Test func listFiltersPagesAndGets() async throws {
        let f = try Fixture()
        try Self.seed(f)
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let all = try await c.call(.get, "/api/v1/cdrs", token: alice)
            #expect(all.status == .ok)
            #expect(all.items.compactMap { $0["id"] as? String } == ["c4", "c3", "c2", "c1"])
            #expect(all.items.last?["end_reason"] as? String == "normal")
            #expect((all.items.last?["duration_seconds"] as? NSNumber)?.doubleValue == 60)
            #expect(all.items.last?["started_at"] as? String == "2027-01-15T08:00:00Z")

            // Pages of 3 then 1.
            let p1 = try await c.call(.get, "/api/v1/cdrs?limit=3", token: alice)
            #expect(p1.items.count == 3)
            let cursor = try #require(p1.json["next_cursor"] as? String)
            let p2 = try await c.call(.get, "/api/v1/cdrs?limit=3&cursor=\(cursor)", token: alice)
            #expect(p2.items.compactMap { $0["id"] as? String } == ["c1"])
            #expect(p2.json["next_cursor"] is NSNull)

            func ids(_ query: String) async throws -> [String] {
                let r = try await c.call(.get, "/api/v1/cdrs?" + query, token: alice)
                #expect(r.status == .ok, "\(query): \(r.text)")
                return r.items.compactMap { $0["id"] as? String }
            }
            #expect(try await ids("from=2027-01-15T08:01:00Z") == ["c4", "c3", "c2"])
            #expect(try await ids("from=2027-01-15T08:01:00Z&to=2027-01-15T08:03:20.000Z") == ["c2"])
            #expect(try await ids("extension=101&direction=inbound") == ["c3", "c1"])
            #expect(try await ids("extension=101&direction=outbound") == ["c2"])
            #expect(try await ids("extension=100") == ["c3", "c2", "c1"])
            #expect(try await ids("result=unanswered") == ["c3", "c2"])
            #expect(try await ids("result=answered") == ["c4", "c1"])
            #expect(try await ids("end_reason=busy,no_answer") == ["c3", "c2"])

            let one = try await c.call(.get, "/api/v1/cdrs/c2", token: alice)
            #expect(one.json["sip_status"] as? Int == 486)
            #expect(one.json["tenant_id"] as? String == f.tenantA.id)
        }
    }

    @Test func badQueriesAnd401() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let bad: [(String, String)] = [
                ("from=yesterday", "from"), ("to=2027-13-01", "to"), ("direction=sideways", "direction"),
                ("direction=inbound", "direction"), ("result=maybe", "result"), ("end_reason=normal,bogus", "end_reason"),
                ("extension=1%27%20OR%201=1", "extension"), ("cursor=zzz", "cursor"), ("limit=0", "limit"),
                ("from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z", "to"),
            ]
            for (query, field) in bad {
                let r = try await c.call(.get, "/api/v1/cdrs?" + query, token: alice)
                #expect(r.status == .badRequest, "\(query) → \(r.status)")
                #expect(r.fieldErrors.contains(field), "\(query): \(r.text)")
                #expect(r.headers[.contentType] == "application/problem+json")
            }
            #expect(try await c.call(.get, "/api/v1/cdrs").status == .unauthorized)
            #expect(try await c.call(.get, "/api/v1/cdrs.csv").status == .unauthorized)
            #expect(try await c.call(.get, "/api/v1/cdrs/c1", token: "forged.token.here").status == .unauthorized)
            #expect(try await c.call(.get, "/api/v1/cdrs/doesnotexist", token: alice).status == .notFound)
        }
    }

    @Test func extensionUserSeesOnlyItsOwnCalls() async throws {
        let f = try Fixture()
        try Self.seed(f)
        // A call between 101 and someone else: 100 must not see it.
        try f.service.recordCall(makeRecord("c5", tenant: f.tenantA.id, caller: "101", callee: "102", started: Self.t0 + 400))
        try await f.withClient { c in
            let me = try await c.token("100@a.example", "web-100-pass")
            let mine = try await c.call(.get, "/api/v1/cdrs", token: me)
            #expect(mine.items.compactMap { $0["id"] as? String } == ["c3", "c2", "c1"])
            #expect(try await c.call(.get, "/api/v1/cdrs?extension=101", token: me).items.isEmpty)
            #expect(try await c.call(.get, "/api/v1/cdrs?direction=outbound", token: me).items.compactMap { $0["id"] as? String } == ["c3", "c1"])
            #expect(try await c.call(.get, "/api/v1/cdrs/c5", token: me).status == .notFound)
            #expect(try await c.call(.get, "/api/v1/cdrs/b1", token: me).status == .notFound)
            #expect(try await c.call(.get, "/api/v1/cdrs/c1", token: me).status == .ok)
            let csv = try await c.call(.get, "/api/v1/cdrs.csv", token: me)
            #expect(csv.text.split(separator: "\r\n").count == 4)
            // Row ids, not a substring search: tenant ids are random and may contain "c5".
            #expect(!csv.text.split(separator: "\r\n").contains { $0.hasPrefix("c5,") })
        }
    }

    @Test func csvExportEscapesFormulas() async throws {
        let f = try Fixture()
        try Self.seed(f)
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let csv = try await c.call(.get, "/api/v1/cdrs.csv", token: alice)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = csv.text.split(separator: "\r\n").map(String.init)
            #expect(lines.first == CDRCSV.columns.joined(separator: ","))
            #expect(lines.count == 5)
            #expect(lines[1].hasPrefix("c4,\(f.tenantA.id),\"'=HYPERLINK(\"\"x\"\")\",'-2+3,"))
            #expect(!lines.contains { $0.hasPrefix("b1,") })  // row ids: tenant ids are random and may contain "b1"
            // The same through content negotiation, with filters.
            var accept = HTTPFields()
            accept[.accept] = "text/csv"
            let negotiated = try await c.call(.get, "/api/v1/cdrs?result=unanswered", token: alice, headers: accept)
            #expect(negotiated.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(negotiated.text.split(separator: "\r\n").count == 3)
        }
    }

    @Test func cdrTenantIsolation() async throws {
        let f = try Fixture()
        try Self.seed(f)
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let B = f.tenantB.id
            for path in ["/api/v1/cdrs/b1", "/api/v1/cdrs?tenant_id=\(B)", "/api/v1/cdrs.csv?tenant_id=\(B)"] {
                let r = try await c.call(.get, path, token: alice)
                #expect(r.status == .notFound, "\(path) → \(r.status)")
                #expect(!r.text.contains("200"), "\(path) leaks: \(r.text)")
            }
            #expect(try await c.call(.get, "/api/v1/cdrs/b1", token: alice).text
                    == (try await c.call(.get, "/api/v1/cdrs/nope", token: alice)).text)
            let admin = try await c.token("admin", "system-secret")
            #expect(try await c.call(.get, "/api/v1/cdrs", token: admin).items.count == 5)
            #expect(try await c.call(.get, "/api/v1/cdrs?tenant_id=\(B)", token: admin).items.compactMap { $0["id"] as? String } == ["b1"])
        }
    }

    @Test func recordCallPublishesACDREvent() async throws {
        let f = try Fixture()
        let (_, stream) = f.service.events.subscribe { $0.topic == "cdr" }
        try f.service.recordCall(makeRecord("c9", tenant: f.tenantA.id, caller: "100", callee: "101", started: Self.t0))
        var iterator = stream.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.type == "written")
        #expect(event.tenantID == f.tenantA.id)
        #expect(event.data["call_id"] == "c9")
        #expect(event.data["callee"] == "101")
        #expect(try f.store.callRecord(id: "c9")?.caller == "100")
    }
}
