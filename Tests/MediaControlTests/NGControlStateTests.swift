import Testing
import TandemBase
@testable import MediaControl

@Suite struct NGControlStateTests {
    let t0 = Instant(nanoseconds: 1_000_000_000)

    func offer(cookie: String, callID: String = "abc") -> [UInt8] {
        Array((cookie + " d" + bstr("command") + bstr("offer") + bstr("call-id") + bstr(callID)
            + bstr("from-tag") + bstr("f") + bstr("sdp") + bstr(sampleSDP) + "e").utf8)
    }

    @Test func retransmittedCookieIsServedFromCache() {
        var state = NGControlState()
        guard case .request(let cookie, let request) = state.receive(offer(cookie: "k1"), now: t0) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.command == .offer)
        let reply = state.complete(cookie: cookie, reply: .sdp("v=0 rewritten"), now: t0)
        // The retransmission is not executed again: the same bytes come back.
        #expect(state.receive(offer(cookie: "k1"), now: t0.adding(milliseconds: 500)) == .reply(reply))
        #expect(state.counters.requests == 1)
        #expect(state.counters.retransmissions == 1)
        // A new cookie is a new request.
        guard case .request = state.receive(offer(cookie: "k2"), now: t0) else {
            Issue.record("expected a request")
            return
        }
        #expect(state.counters.requests == 2)
    }

    @Test func cacheEntriesExpire() {
        var state = NGControlState(cache: NGReplyCache(capacity: 8, maxAgeMilliseconds: 1000))
        _ = state.receive(offer(cookie: "k1"), now: t0)
        _ = state.complete(cookie: Array("k1".utf8), reply: .sdp("x"), now: t0)
        guard case .request = state.receive(offer(cookie: "k1"), now: t0.adding(milliseconds: 1500)) else {
            Issue.record("an expired cookie must be executed again")
            return
        }
    }

    @Test func cacheIsBounded() {
        var cache = NGReplyCache(capacity: 3)
        for i in 0..<100 { cache.store([UInt8(i)], for: Array("c\(i)".utf8), now: t0) }
        #expect(cache.count == 3)
        #expect(cache.reply(for: Array("c99".utf8), now: t0) == [99])
        #expect(cache.reply(for: Array("c97".utf8), now: t0) == [97])
        #expect(cache.reply(for: Array("c96".utf8), now: t0) == nil)
        // Re-storing a live cookie replaces it without growing.
        cache.store([1], for: Array("c99".utf8), now: t0)
        #expect(cache.count == 3)
        #expect(cache.reply(for: Array("c99".utf8), now: t0) == [1])
    }

    @Test func errorRepliesAreCountedAndCached() {
        var state = NGControlState()
        let garbage = Array("g1 d7:commandXXX".utf8)
        guard case .reply(let first) = state.receive(garbage, now: t0) else {
            Issue.record("expected an error reply")
            return
        }
        #expect(first.text.hasPrefix("g1 d"))
        #expect(state.counters.errorReplies == 1)
        #expect(state.receive(garbage, now: t0) == .reply(first))
        #expect(state.counters.retransmissions == 1)
        #expect(state.receive(Array("nocookie".utf8), now: t0) == .drop(.missingSeparator))
        #expect(state.counters.dropped == 1)
    }

    @Test func pingPong() {
        var state = NGControlState()
        guard case .request(let cookie, let request) = state.receive(Array("5323_1 d7:command4:pinge".utf8), now: t0) else {
            Issue.record("expected a request")
            return
        }
        #expect(request.command == .ping)
        #expect(state.complete(cookie: cookie, reply: .pong, now: t0).text == "5323_1 d6:result4:ponge")
    }
}
