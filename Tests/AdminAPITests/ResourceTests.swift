import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Store
import Testing
@testable import AdminAPI

@Suite struct ResourceTests {
    @Test func validationProblemsNameEveryBadField() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let bad = try await c.call(.post, "/api/v1/extensions", token: a,
                                       json: ["number": "bad number!", "sip_password": 5, "enabled": 1, "colour": "red"])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.headers[.contentType] == "application/problem+json")
            #expect(bad.json["type"] as? String == "/problems/validation")
            #expect(bad.json["status"] as? Int == 422)
            #expect(Set(bad.fieldErrors) == ["number", "sip_password", "enabled", "colour"])

            let missing = try await c.call(.post, "/api/v1/extensions", token: a, json: [:] as [String: Any])
            #expect(Set(missing.fieldErrors) == ["number", "sip_password"])
            let notJSON = try await c.call(.post, "/api/v1/extensions", token: a, raw: "{\"number\": ")
            #expect(notJSON.status == .badRequest)
            let array = try await c.call(.post, "/api/v1/extensions", token: a, raw: "[1]")
            #expect(array.status == .badRequest)
            let huge = try await c.call(.post, "/api/v1/extensions", token: a, raw: String(repeating: "x", count: (1 << 20) + 1))
            #expect(huge.status == .contentTooLarge)
            #expect(huge.headers[.contentType] == "application/problem+json")
            let sqlish = try await c.call(.post, "/api/v1/extension-groups", token: a, json: ["name": "x'); DROP TABLE extensions;--"])
            #expect(sqlish.status == .created)
            #expect(try f.store.extensions(tenantID: f.tenantA.id).count == 2)
            let dup = try await c.call(.post, "/api/v1/extensions", token: a, json: ["number": "100", "sip_password": "x"])
            #expect(dup.status == .conflict)
            #expect(dup.fieldErrors == ["number"])
            let noRoute = try await c.call(.get, "/api/v1/nothing", token: a)
            #expect(noRoute.status == .notFound)
            #expect(noRoute.headers[.contentType] == "application/problem+json")
            let badLimit = try await c.call(.get, "/api/v1/extensions?limit=0", token: a)
            #expect(badLimit.status == .badRequest)
            #expect(badLimit.fieldErrors == ["limit"])
        }
    }

    @Test func extensionsNeverShowPasswordsAndPasswordsAreSetSeparately() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let created = try await c.call(.post, "/api/v1/extensions", token: a,
                                           json: ["number": "102", "sip_password": "sip-secret", "web_password": "web-secret-102",
                                                  "display_name": "Two", "email": "two@a.example", "record_calls": true])
            #expect(created.status == .created)
            #expect(created.json["has_web_password"] as? Bool == true)
            #expect(created.json["record_calls"] as? Bool == true)
            #expect(created.json["created_at"] as? String != nil)
            #expect(try #require(created.json["created_at"] as? String).hasSuffix("Z"))
            for key in created.json.keys { #expect(!key.contains("password_hash") && !key.contains("ha1"), "\(key)") }
            #expect(!created.text.contains("sip-secret"))
            let id = try #require(created.json["id"] as? String)
            // The web password works for logging in; then it is removed.
            _ = try await c.token("102@a.example", "web-secret-102")
            let before = try #require(try f.store.extensionRecord(id: id)).sipHA1MD5
            let patched = try await c.call(.patch, "/api/v1/extensions/\(id)", token: a,
                                           json: ["web_password": NSNull(), "sip_password": "new-sip", "email": NSNull()])
            #expect(patched.status == .ok)
            #expect(patched.json["has_web_password"] as? Bool == false)
            #expect(patched.json["email"] is NSNull)
            #expect(patched.json["display_name"] as? String == "Two")
            #expect(try #require(try f.store.extensionRecord(id: id)).sipHA1MD5 != before)
            #expect(try await c.call(.post, "/api/v1/auth/login", json: ["username": "102@a.example", "password": "web-secret-102"]).status == .unauthorized)
        }
    }

    @Test func groupsAndMembers() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let g = f.groupA.id
            #expect(try await c.call(.put, "/api/v1/extension-groups/\(g)/members/\(f.ext100.id)", token: a).status == .noContent)
            #expect(try await c.call(.put, "/api/v1/extension-groups/\(g)/members/\(f.ext101.id)", token: a).status == .noContent)
            let members = try await c.call(.get, "/api/v1/extension-groups/\(g)/members", token: a)
            #expect(members.items.compactMap { $0["number"] as? String } == ["100", "101"])
            #expect(try await c.call(.delete, "/api/v1/extension-groups/\(g)/members/\(f.ext100.id)", token: a).status == .noContent)
            #expect(try await c.call(.get, "/api/v1/extension-groups/\(g)/members", token: a).items.count == 1)
            let renamed = try await c.call(.patch, "/api/v1/extension-groups/\(g)", token: a, json: ["name": "Field Sales"])
            #expect(renamed.json["name"] as? String == "Field Sales")
            let clash = try await c.call(.post, "/api/v1/extension-groups", token: a, json: ["name": "field sales"])
            #expect(clash.status == .conflict)
        }
    }

    @Test func cursorPaginationVisitsEveryItemOnce() async throws {
        let f = try Fixture()
        for n in 0..<5 { try f.store.createExtension(tenantID: f.tenantA.id, number: "9\(n)", sipPassword: "x") }
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let r = try await c.call(.get, "/api/v1/extensions?limit=3" + (cursor.map { "&cursor=" + $0 } ?? ""), token: a)
                #expect(r.status == .ok)
                seen += r.items.compactMap { $0["number"] as? String }
                cursor = r.json["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ["100", "101", "90", "91", "92", "93", "94"])
            #expect(try await c.call(.get, "/api/v1/extensions?cursor=!!", token: a).status == .badRequest)
        }
    }

    @Test func csvImportExportRoundTripAndBadRowsImportNothing() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let good = [
                "number,display_name,email,sip_password,web_password,record_calls,outbound_caller_id",
                #"200,"Smith, Jane",jane@a.example,pw200,web-pass-200,true,+4930123"#,
                #"201,"Say ""hi""",,pw201,,false,"#,
                "202,Plain,,pw202,,,",
                "",
            ].joined(separator: "\r\n")
            let imported = try await c.call(.post, "/api/v1/extensions/import", token: a, raw: good)
            #expect(imported.status == .created, "\(imported.text)")
            #expect(imported.json["created"] as? Int == 3)
            _ = try await c.token("200@a.example", "web-pass-200")

            let export = try await c.call(.get, "/api/v1/extensions/export", token: a)
            #expect(export.status == .ok)
            #expect(export.headers[.contentType] == "text/csv; charset=utf-8")
            let records = try #require(ExtensionCSV.records(export.text))
            #expect(records.first?.fields == ExtensionCSV.columns)
            let byNumber = Dictionary(uniqueKeysWithValues: records.dropFirst().map { ($0.fields[0], $0.fields) })
            #expect(byNumber["200"] == ["200", "Smith, Jane", "jane@a.example", "+4930123", "true", "true", "false", "", ""])
            #expect(byNumber["201"]?[1] == "Say \"hi\"")
            #expect(byNumber["202"] == ["202", "Plain", "", "", "true", "false", "false", "", ""])
            #expect(byNumber.count == 5)
            #expect(!export.text.contains("pw200"))

            let count = try f.store.extensions(tenantID: f.tenantA.id).count
            let bad = """
                number,sip_password,enabled
                300,pw,true
                bad number,pw,true
                301,,maybe
                100,pw,
                300,pw,
                """
            let rejected = try await c.call(.post, "/api/v1/extensions/import", token: a, raw: bad)
            #expect(rejected.status == .unprocessableContent)
            #expect(Set(rejected.fieldErrors) == ["rows[3].number", "rows[4].sip_password", "rows[4].enabled", "rows[6].number"])
            #expect(try f.store.extensions(tenantID: f.tenantA.id).count == count)
            // A number that exists already is found in the store's transaction and reported by line; nothing is written.
            let existing = try await c.call(.post, "/api/v1/extensions/import", token: a, raw: "number,sip_password\n400,pw\n100,pw\n")
            #expect(existing.status == .unprocessableContent)
            #expect(existing.fieldErrors == ["rows[3].number"])
            #expect(try f.store.extensionRecord(tenantID: f.tenantA.id, number: "400") == nil)
            let unknownColumn = try await c.call(.post, "/api/v1/extensions/import", token: a, raw: "number,sip_password,pin\n1,2,3\n")
            #expect(unknownColumn.fieldErrors == ["header"])
        }
    }

    /// swift-metrics has one global factory per process: this is the only test that installs one.
    static let globalMetrics: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    @Test func metricsAreLabelledByRouteTemplate() async throws {
        let f = try Fixture(metrics: Self.globalMetrics)
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            // The metrics system is process-wide and other tests run concurrently: compare before and after.
            func count() async throws -> (Int, String) {
                let text = try await c.call(.get, "/metrics").text
                let line = text.split(separator: "\n").first {
                    $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/api/v1/extensions/{id}""#)
                        && $0.contains(#"http_request_method="GET""#) && $0.contains(#"http_response_status_code="200""#)
                }
                return (line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0, text)
            }
            let (before, _) = try await count()
            _ = try await c.call(.get, "/api/v1/extensions/\(f.ext100.id)", token: a)
            _ = try await c.call(.get, "/api/v1/extensions/\(f.ext101.id)", token: a)
            let (after, text) = try await count()
            #expect(after - before >= 2, "\(text)")
            #expect(!text.contains(f.ext100.id))
        }
    }
}
