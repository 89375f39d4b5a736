import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import AdminAPI

@Suite struct AuthTests {
    @Test func loginWithGoodAndBadPasswordsAndFailuresAreCounted() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let ok = try await c.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": "system-secret"])
            #expect(ok.status == .ok)
            #expect(ok.json["token_type"] as? String == "Bearer")
            #expect(ok.json["expires_in"] as? Int == 900)
            #expect((ok.json["refresh_token"] as? String)?.hasPrefix("rt_") == true)
            let me = try await c.call(.get, "/api/v1/auth/me", token: ok.json["access_token"] as? String)
            #expect(me.json["role"] as? String == "system_admin")

            let alice = try await c.call(.get, "/api/v1/auth/me", token: try await c.token("alice@a.example", "alice-secret"))
            #expect(alice.json["role"] as? String == "tenant_admin")
            #expect(alice.json["tenant_id"] as? String == f.tenantA.id)

            let wrong = try await c.call(.post, "/api/v1/auth/login", json: ["username": "admin", "password": "nope"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.contentType] == "application/problem+json")
            let unknown = try await c.call(.post, "/api/v1/auth/login", json: ["username": "ghost@a.example", "password": "nope"])
            #expect(unknown.status == .unauthorized)
            // The same answer for an unknown user and a wrong password.
            #expect(unknown.json["detail"] as? String == wrong.json["detail"] as? String)

            let metrics = try await c.call(.get, "/metrics")
            #expect(metrics.text.contains("tandem_api_failed_logins_total 2"))
        }
    }

    @Test func tooManyFailuresForAUserNameAreRefusedUntilTheWindowPasses() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            for _ in 0..<5 {
                let r = try await c.call(.post, "/api/v1/auth/login", json: ["username": "alice@a.example", "password": "wrong"])
                #expect(r.status == .unauthorized)
            }
            // Now even the right password is refused unchecked.
            let limited = try await c.call(.post, "/api/v1/auth/login", json: ["username": "alice@a.example", "password": "alice-secret"])
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            let metrics = try await c.call(.get, "/metrics")
            #expect(metrics.text.contains("tandem_api_rate_limited_logins_total 1"))
            f.clock.advance(61)
            let later = try await c.call(.post, "/api/v1/auth/login", json: ["username": "alice@a.example", "password": "alice-secret"])
            #expect(later.status == .ok)
        }
    }

    @Test func accessTokensExpireAndRefreshTokensRotate() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let login = try await c.call(.post, "/api/v1/auth/login", json: ["username": "alice@a.example", "password": "alice-secret"])
            let access = login.json["access_token"] as? String
            let refresh = try #require(login.json["refresh_token"] as? String)
            #expect(try await c.call(.get, "/api/v1/auth/me", token: access).status == .ok)
            f.clock.advance(14 * 60)
            #expect(try await c.call(.get, "/api/v1/auth/me", token: access).status == .ok)
            f.clock.advance(61)
            let expired = try await c.call(.get, "/api/v1/auth/me", token: access)
            #expect(expired.status == .unauthorized)
            #expect(expired.json["detail"] as? String == "the access token has expired")

            let renewed = try await c.call(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh])
            #expect(renewed.status == .ok)
            let access2 = renewed.json["access_token"] as? String
            #expect(try await c.call(.get, "/api/v1/auth/me", token: access2).status == .ok)
            // Spent: a refresh token works once.
            #expect(try await c.call(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh]).status == .unauthorized)
            // Logout revokes the new one.
            let refresh2 = try #require(renewed.json["refresh_token"] as? String)
            #expect(try await c.call(.post, "/api/v1/auth/logout", json: ["refresh_token": refresh2]).status == .noContent)
            #expect(try await c.call(.post, "/api/v1/auth/refresh", json: ["refresh_token": refresh2]).status == .unauthorized)
            // Refresh tokens lapse after 30 days.
            let login3 = try await c.call(.post, "/api/v1/auth/login", json: ["username": "alice@a.example", "password": "alice-secret"])
            f.clock.advance(30 * 24 * 3600 + 1)
            #expect(try await c.call(.post, "/api/v1/auth/refresh",
                                     json: ["refresh_token": login3.json["refresh_token"] as? String ?? ""]).status == .unauthorized)
        }
    }

    @Test func forgedTokensAreRejected() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let token = try await c.token("alice@a.example", "alice-secret")
            let parts = token.split(separator: ".").map(String.init)
            // Claims rewritten to the system administrator, signature kept.
            var claims = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as! [String: Any]
            claims["role"] = "system_admin"
            let forged = parts[0] + "." + Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims))) + "." + parts[2]
            #expect(try await c.call(.get, "/api/v1/tenants", token: forged).status == .unauthorized)
            // alg none with no signature.
            let none = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + parts[1] + "."
            #expect(try await c.call(.get, "/api/v1/tenants", token: none).status == .unauthorized)
            // Signed with another key.
            let other = JWTSigner(key: Array(repeating: 7, count: 32)).sign(
                .init(sub: "x", kind: "account", tid: f.tenantA.id, role: "system_admin", name: "x", iat: 0, exp: Int64.max, jti: "j"))
            #expect(try await c.call(.get, "/api/v1/tenants", token: other).status == .unauthorized)
            #expect(try await c.call(.get, "/api/v1/tenants", token: "garbage").status == .unauthorized)
            #expect(try await c.call(.get, "/api/v1/tenants").status == .unauthorized)
        }
    }

    @Test func apiKeysAuthenticateUntilDeletedAndAreNeverShownAgain() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let alice = try await c.token("alice@a.example", "alice-secret")
            let bob = try await c.token("bob@b.example", "bob-secret")
            let created = try await c.call(.post, "/api/v1/api-keys", token: alice, json: ["name": "crm"])
            #expect(created.status == .created)
            let key = try #require(created.json["key"] as? String)
            #expect(key.hasPrefix("tk_"))
            let id = try #require(created.json["id"] as? String)

            let viaBearer = try await c.call(.get, "/api/v1/auth/me", token: key)
            #expect(viaBearer.json["role"] as? String == "tenant_admin")
            #expect(viaBearer.json["tenant_id"] as? String == f.tenantA.id)
            var headers = HTTPFields()
            headers[HTTPField.Name("X-API-Key")!] = key
            let viaHeader = try await c.call(.get, "/api/v1/extensions", headers: headers)
            #expect(viaHeader.status == .ok)
            #expect(viaHeader.items.count == 2)

            let list = try await c.call(.get, "/api/v1/api-keys", token: alice)
            #expect(list.items.count == 1)
            #expect(list.items.first?["key"] == nil)
            #expect(!list.text.contains(key))
            // Another tenant's administrator neither sees nor deletes it.
            #expect(try await c.call(.get, "/api/v1/api-keys", token: bob).items.isEmpty)
            #expect(try await c.call(.delete, "/api/v1/api-keys/\(id)", token: bob).status == .notFound)
            #expect(try await c.call(.post, "/api/v1/api-keys", token: bob, json: ["name": "x", "tenant_id": f.tenantA.id]).status == .notFound)

            #expect(try await c.call(.delete, "/api/v1/api-keys/\(id)", token: alice).status == .noContent)
            #expect(try await c.call(.get, "/api/v1/auth/me", token: key).status == .unauthorized)
            // Extension users cannot make keys.
            let user = try await c.token("100@a.example", "web-100-pass")
            #expect(try await c.call(.post, "/api/v1/api-keys", token: user, json: ["name": "x"]).status == .forbidden)
        }
    }
}
