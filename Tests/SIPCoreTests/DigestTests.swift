import Testing
import TandemBase
@testable import SIPCore

struct FixedStore: DigestCredentialStore {
    var users: [String: String]
    var useHA1 = false
    func secret(username: String, realm: String, algorithm: DigestAlgorithm) -> DigestSecret? {
        guard let p = users[username] else { return nil }
        if useHA1 { return .ha1(DigestComputation.ha1(username: username, realm: realm, password: p, algorithm: algorithm)) }
        return .password(p)
    }
}

@Suite struct DigestTests {
    /// RFC 2617 §3.5 worked example.
    @Test func rfc2617Example() {
        let ha1 = DigestComputation.ha1(username: "Mufasa", realm: "testrealm@host.com", password: "Circle Of Life", algorithm: .md5)
        let r = DigestComputation.response(ha1: ha1, algorithm: .md5, method: "GET", uri: "/dir/index.html",
                                           nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop: "auth", nonceCount: 1, cnonce: "0a4f113b")
        #expect(r == "6629fae49393a05397450978507c4ef1")
    }

    /// RFC 7616 §3.9.1: the same request answered with SHA-256 and MD5.
    @Test(arguments: [(DigestAlgorithm.sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
                      (DigestAlgorithm.md5, "8ca523f5e9506fed4657c9700eebdbec")])
    func rfc7616Example(_ algorithm: DigestAlgorithm, _ expected: String) throws {
        let challenge = DigestChallenge(realm: "http-auth@example.org", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                        opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", algorithm: algorithm, qop: ["auth", "auth-int"])
        let parsed = try DigestChallenge(parsing: challenge.description)
        #expect(parsed == challenge)
        let creds = try DigestClient.credentials(answering: parsed, method: "GET", uri: "/dir/index.html", username: "Mufasa",
                                                 password: "Circle of Life", cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
        #expect(creds.response == expected)
        #expect(creds.nonceCount == 1 && creds.qop == "auth" && creds.opaque == challenge.opaque)
        #expect(try DigestCredentials(parsing: creds.description) == creds)
    }

    @Test func legacyNoQop() throws {
        // RFC 2069 form: response = H(HA1:nonce:HA2).
        let ha1 = DigestComputation.ha1(username: "u", realm: "r", password: "p", algorithm: .md5)
        let ha2 = TandemBase.Digest.md5.hash("REGISTER:sip:r").hexString
        let expected = TandemBase.Digest.md5.hash(ha1 + ":n:" + ha2).hexString
        let c = try DigestClient.credentials(answering: DigestChallenge(realm: "r", nonce: "n", qop: []), method: "REGISTER",
                                             uri: "sip:r", username: "u", password: "p", cnonce: "ignored")
        #expect(c.response == expected)
        #expect(c.qop == nil && c.cnonce == nil && c.nonceCount == nil)
    }

    @Test func parsesRealHeaders() throws {
        let ch = try DigestChallenge(parsing: #"Digest realm="asterisk",nonce="1a2b3c", algorithm=MD5, qop="auth,auth-int", stale=true"#)
        #expect(ch.realm == "asterisk" && ch.nonce == "1a2b3c" && ch.qop == ["auth", "auth-int"] && ch.isStale)
        let cr = try DigestCredentials(parsing: #"Digest username="100",realm="asterisk",nonce="1a2b3c",uri="sip:10.0.0.1",response="abc",algorithm=MD5,cnonce="xyz",qop=auth,nc=0000000a"#)
        #expect(cr.username == "100" && cr.nonceCount == 10 && cr.qop == "auth")
        #expect(throws: DigestError.malformed) { try DigestChallenge(parsing: "Basic realm=\"x\"") }
        #expect(throws: DigestError.unsupportedAlgorithm("SHA-1")) { try DigestChallenge(parsing: "Digest realm=\"x\", nonce=\"y\", algorithm=SHA-1") }
        #expect(throws: DigestError.missingParameter("nonce")) { try DigestChallenge(parsing: "Digest realm=\"x\"") }
        #expect(throws: DigestError.malformed) { try DigestCredentials(parsing: "Digest username=\"unterminated") }
        #expect(throws: DigestError.unsupportedQop) {
            try DigestClient.credentials(answering: DigestChallenge(realm: "r", nonce: "n", qop: ["auth-int"]), method: "INVITE",
                                         uri: "sip:x", username: "u", password: "p", cnonce: "c")
        }
        #expect(DigestClient.preferred([DigestChallenge(realm: "r", nonce: "a"), DigestChallenge(realm: "r", nonce: "b", algorithm: .sha256)])?.nonce == "b")
    }

    func answer(_ ch: DigestChallenge, password: String = "secret", nc: UInt32 = 1, method: String = "REGISTER") throws -> DigestCredentials {
        try DigestClient.credentials(answering: ch, method: method, uri: "sip:example.com", username: "alice",
                                     password: password, cnonce: "cn", nonceCount: nc)
    }

    @Test(arguments: [DigestAlgorithm.md5, .sha256, .md5Session, .sha256Session], [false, true])
    func challengerAcceptsValid(_ algorithm: DigestAlgorithm, _ useHA1: Bool) throws {
        let server = DigestChallenger(realm: "example.com", secret: Array(repeating: 7, count: 32))
        let store = FixedStore(users: ["alice": "secret"], useHA1: useHA1)
        let t0 = Instant(nanoseconds: 1_000_000_000_000)
        let ch = server.challenge(algorithm: algorithm, now: t0)
        let parsed = try DigestChallenge(parsing: ch.description)
        let creds = try DigestCredentials(parsing: try answer(parsed).description)
        #expect(server.verify(creds, method: "REGISTER", store: store, now: t0.adding(milliseconds: 10)) == .authenticated(username: "alice"))
        // Wrong password, wrong method, unknown user.
        #expect(server.verify(try answer(parsed, password: "nope", nc: 2), method: "REGISTER", store: store, now: t0) == .rejected(.wrongResponse))
        #expect(server.verify(try answer(parsed, nc: 3), method: "INVITE", store: store, now: t0) == .rejected(.wrongResponse))
        #expect(server.verify(creds, method: "REGISTER", store: FixedStore(users: [:]), now: t0) == .rejected(.unknownUser))
    }

    @Test func staleNonce() throws {
        let server = DigestChallenger(realm: "example.com", secret: Array(repeating: 1, count: 32), nonceLifetimeMilliseconds: 30_000)
        let store = FixedStore(users: ["alice": "secret"])
        let t0 = Instant(nanoseconds: 5_000_000_000)
        let creds = try answer(server.challenge(now: t0))
        #expect(server.verify(creds, method: "REGISTER", store: store, now: t0.adding(milliseconds: 29_999)) == .authenticated(username: "alice"))
        let late = try answer(server.challenge(now: t0))
        #expect(server.verify(late, method: "REGISTER", store: store, now: t0.adding(milliseconds: 30_001)) == .stale)
        // A stale nonce with a wrong password is not "stale": the client must not retry silently.
        let lateWrong = try answer(server.challenge(now: t0), password: "bad")
        #expect(server.verify(lateWrong, method: "REGISTER", store: store, now: t0.adding(milliseconds: 60_000)) == .rejected(.wrongResponse))
        #expect(server.challenge(isStale: true, now: t0).description.contains("stale=TRUE"))
    }

    @Test func nonceCountReplayRejected() throws {
        let server = DigestChallenger(realm: "example.com", secret: Array(repeating: 2, count: 32))
        let store = FixedStore(users: ["alice": "secret"])
        let t0 = Instant(nanoseconds: 9_000_000_000)
        let ch = server.challenge(now: t0)
        let first = try answer(ch, nc: 1)
        #expect(server.verify(first, method: "REGISTER", store: store, now: t0) == .authenticated(username: "alice"))
        #expect(server.verify(first, method: "REGISTER", store: store, now: t0) == .rejected(.replayedNonceCount))
        #expect(server.verify(try answer(ch, nc: 2), method: "REGISTER", store: store, now: t0) == .authenticated(username: "alice"))
        #expect(server.verify(try answer(ch, nc: 2), method: "REGISTER", store: store, now: t0) == .rejected(.replayedNonceCount))
        #expect(server.verify(try answer(ch, nc: 5), method: "REGISTER", store: store, now: t0) == .authenticated(username: "alice"))
        #expect(server.verify(try answer(ch, nc: 4), method: "REGISTER", store: store, now: t0) == .rejected(.replayedNonceCount))
    }

    @Test func forgedAndForeignNonces() throws {
        let server = DigestChallenger(realm: "example.com", secret: Array(repeating: 3, count: 32))
        let other = DigestChallenger(realm: "example.com", secret: Array(repeating: 4, count: 32))
        let store = FixedStore(users: ["alice": "secret"])
        let t0 = Instant(nanoseconds: 9_000_000_000)
        #expect(server.verify(try answer(other.challenge(now: t0)), method: "REGISTER", store: store, now: t0) == .rejected(.forgedNonce))
        #expect(server.verify(try answer(DigestChallenge(realm: "example.com", nonce: "garbage")), method: "REGISTER", store: store, now: t0)
            == .rejected(.malformedNonce))
        #expect(server.verify(try answer(DigestChallenge(realm: "elsewhere", nonce: "x")), method: "REGISTER", store: store, now: t0)
            == .rejected(.realmMismatch))
        // Nonce issued in the future (clock rewind or forged timestamp).
        #expect(server.verify(try answer(server.challenge(now: t0.adding(milliseconds: 1000))), method: "REGISTER", store: store, now: t0)
            == .rejected(.forgedNonce))
        // Legacy (no qop) refused by default.
        var legacy = try answer(server.challenge(now: t0))
        legacy.qop = nil
        #expect(server.verify(legacy, method: "REGISTER", store: store, now: t0) == .rejected(.qopRequired))
    }

    @Test func boundedTrackingForcesStaleForEvictedNonces() throws {
        let server = DigestChallenger(realm: "example.com", secret: Array(repeating: 5, count: 32), maximumTrackedNonces: 4)
        let store = FixedStore(users: ["alice": "secret"])
        var challenges: [DigestChallenge] = []
        for i in 0..<10 {
            let t = Instant(nanoseconds: UInt64(10 + i) * 1_000_000_000)
            let ch = server.challenge(now: t)
            challenges.append(ch)
            #expect(server.verify(try answer(ch), method: "REGISTER", store: store, now: t) == .authenticated(username: "alice"))
        }
        #expect(server.trackedNonceCount <= 4)
        let now = Instant(nanoseconds: 20_000_000_000)
        // The oldest nonce was forgotten: replaying it must not authenticate.
        #expect(server.verify(try answer(challenges[0]), method: "REGISTER", store: store, now: now) == .stale)
        // The newest is still tracked: replay rejected, next nc accepted.
        #expect(server.verify(try answer(challenges[9]), method: "REGISTER", store: store, now: now) == .rejected(.replayedNonceCount))
        #expect(server.verify(try answer(challenges[9], nc: 2), method: "REGISTER", store: store, now: now) == .authenticated(username: "alice"))
    }
}
