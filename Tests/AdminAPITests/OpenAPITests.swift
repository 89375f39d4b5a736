import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AdminAPI

@Suite struct OpenAPITests {
    /// Hummingbird writes parameters as `{id}` in route descriptions already; normalise `:id` just in case.
    static func openAPIPath(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{" + $0.dropFirst() + "}" : String($0) }.joined(separator: "/")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() throws {
        let f = try Fixture()
        let router = AdminHTTPServer.makeRouter(f.dependencies)
        let routed = Set(router.routes.map { "\($0.method.rawValue.uppercased()) \(Self.openAPIPath($0.path.description))" })
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect(doc["openapi"] as? String == "3.1.0")
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in item.keys where ["get", "put", "post", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(routed.count > 25)
        #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")
        #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
    }

    @Test func theDocumentIsServed() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let r = try await c.call(.get, "/api/v1/openapi.json")
            #expect(r.status == .ok)
            #expect(r.json["openapi"] as? String == "3.1.0")
        }
    }
}
