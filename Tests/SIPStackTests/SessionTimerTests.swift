import SIPCore
@testable import SIPStack
import Testing

@Suite struct SessionTimerTests {
    @Test func tooSmallIntervalGets422WithMinSE90() throws {
        let inv = try inviteAtBob(extra: ["Session-Expires: 60", "Supported: timer"])
        #expect(SessionTimer.negotiateAsUAS(inv, policy: SessionTimerPolicy()) == .reject422(minimumSE: 90))
        // The UAC retries with the larger of its own value and the 422's Min-SE.
        let r422 = try sip([
            "SIP/2.0 422 Session Interval Too Small", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1",
            "From: <sip:alice@example.com>;tag=alicetag", "To: <sip:bob@example.com>;tag=b", "Call-ID: c", "CSeq: 1 INVITE",
            "Min-SE: 300",
        ])
        #expect(SessionTimer.intervalAfter422(r422, policy: SessionTimerPolicy()) == 300)
    }

    @Test func uasNegotiationAndHeaders() throws {
        guard case .accept(let t) = SessionTimer.negotiateAsUAS(
            try inviteAtBob(extra: ["Session-Expires: 1800;refresher=uas", "Supported: timer"]), policy: SessionTimerPolicy())
        else { Issue.record("rejected"); return }
        #expect(t.interval == 120)  // shortened to ours, above both Min-SE
        #expect(t.refresher == .uas && t.isLocalRefresher)
        var b = SIPMessageBuilder(statusCode: 200)
        t.addResponseHeaders(to: &b)
        #expect(b.header("session-expires") == ["120;refresher=uas"])
        #expect(b.header("require") == ["timer"])
        // No Supported: timer → we must refresh; no Session-Expires → we add ours.
        guard case .accept(let u) = SessionTimer.negotiateAsUAS(try inviteAtBob(), policy: SessionTimerPolicy()) else { return }
        #expect(u.interval == 120 && u.refresher == .uas && !u.peerSupportsTimer)
        // A request's Min-SE above our interval raises it.
        guard case .accept(let v) = SessionTimer.negotiateAsUAS(
            try inviteAtBob(extra: ["Session-Expires: 600", "Min-SE: 400", "Supported: timer"]), policy: SessionTimerPolicy())
        else { return }
        #expect(v.interval == 400 && v.refresher == .uac && !v.isLocalRefresher)
    }

    @Test func refresherRefreshesAtHalfInterval() throws {
        let ok = try bobResponse(200, reason: "OK", extra: ["Session-Expires: 120;refresher=uac", "Require: timer"])
        var t = try #require(SessionTimer.negotiateAsUAC(response: ok))
        #expect(t.isLocalRefresher)
        t.start(now: sessionClock(0))
        #expect(t.poll(now: sessionClock(59_999)).isEmpty)
        #expect(t.poll(now: sessionClock(60_000)) == [.refresh])
        #expect(t.poll(now: sessionClock(60_001)).isEmpty)
        t.start(now: sessionClock(60_500))  // the refresh succeeded
        #expect(t.nextDeadline == sessionClock(120_500))
        // Refreshes unanswered: the refresher also gives up at 120 − 32 s after the last success.
        _ = t.poll(now: sessionClock(120_500))
        #expect(t.poll(now: sessionClock(60_500 + 88_000)) == [.expired])
    }

    @Test func nonRefresherSendsByeBeforeExpiry() throws {
        let ok = try bobResponse(200, reason: "OK", extra: ["Session-Expires: 90;refresher=uas"])
        var t = try #require(SessionTimer.negotiateAsUAC(response: ok))
        #expect(!t.isLocalRefresher)
        t.start(now: sessionClock(0))
        // 90 − min(32, 30) = 60 s.
        #expect(t.poll(now: sessionClock(59_999)).isEmpty)
        #expect(t.poll(now: sessionClock(60_000)) == [.expired])
        var b = SIPMessageBuilder(method: .invite, uri: SIPURI(host: "x"))
        SessionTimer.addRequestHeaders(to: &b, policy: SessionTimerPolicy())
        #expect(b.header("session-expires") == ["120"] && b.header("min-se") == ["90"] && b.header("supported") == ["timer"])
    }
}
