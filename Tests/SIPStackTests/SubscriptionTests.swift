import SIPCore
@testable import SIPStack
import Testing

@Suite struct SubscriptionTests {
    func subscribe(expires: Int, event: String = "presence") throws -> SIPMessage {
        try aliceRequest("SUBSCRIBE", cseq: 1, extra: ["Event: \(event)", "Expires: \(expires)", "Contact: <sip:alice@10.0.0.1>"])
    }

    @Test func notifierLifecycleWithExpiry() throws {
        var s = Subscription(role: .notifier, event: SIPEvent(package: "presence"), requestedExpires: 3600)
        #expect(s.receiveSubscribe(try subscribe(expires: 30), minimum: 60, maximum: 3600, now: sessionClock(0)) == .intervalTooBrief(minimum: 60))
        #expect(s.receiveSubscribe(try subscribe(expires: 7200), minimum: 60, maximum: 3600, now: sessionClock(0)) == .accept(granted: 3600))
        #expect(s.receiveSubscribe(try subscribe(expires: 600, event: "dialog"), minimum: 60, maximum: 3600, now: sessionClock(0)) == .badEvent)
        #expect(s.notifyState(.pending, now: sessionClock(0)).description == "pending;expires=3600")
        #expect(s.notifyState(.active, now: sessionClock(1000)).description == "active;expires=3599")
        // A refresh moves the expiry.
        #expect(s.receiveSubscribe(try subscribe(expires: 120), minimum: 60, maximum: 3600, now: sessionClock(100_000)) == .accept(granted: 120))
        #expect(s.poll(now: sessionClock(219_999)).isEmpty)
        let final = s.poll(now: sessionClock(220_000))
        #expect(final == [.sendFinalNotify(SubscriptionStateValue(state: .terminated(reason: "timeout")))])
        #expect(s.isTerminated)
        #expect(s.poll(now: sessionClock(300_000)).isEmpty)
    }

    @Test func unsubscribeTerminates() throws {
        var s = Subscription(role: .notifier, event: SIPEvent(package: "presence"), requestedExpires: 3600, state: .active)
        #expect(s.receiveSubscribe(try subscribe(expires: 0), minimum: 60, maximum: 3600, now: sessionClock(0)) == .accept(granted: 0))
        #expect(s.notifyState(.active, now: sessionClock(0)).description == "terminated;reason=timeout")
    }

    @Test func subscriberRefreshesAndFollowsNotifies() throws {
        var s = Subscription(role: .subscriber, event: SIPEvent(package: "presence"), requestedExpires: 600)
        let ok = try bobResponse(200, reason: "OK", cseq: "1 SUBSCRIBE", extra: ["Expires: 300"])
        #expect(s.receiveSubscribeResponse(ok, now: sessionClock(0)) == nil)
        #expect(s.expiresAt == sessionClock(300_000))
        #expect(s.refreshAt == sessionClock(268_000))  // 300 − min(32, 100) s
        let n1 = try bobRequest("NOTIFY", cseq: 1, extra: ["Event: presence", "Subscription-State: active;expires=120"])
        #expect(s.receiveNotify(n1, now: sessionClock(1000)) == 200)
        #expect(s.state == .active && s.expiresAt == sessionClock(121_000))
        let wrong = try bobRequest("NOTIFY", cseq: 2, extra: ["Event: dialog", "Subscription-State: active"])
        #expect(s.receiveNotify(wrong, now: sessionClock(2000)) == 489)
        #expect(s.poll(now: sessionClock(88_999)).isEmpty)
        #expect(s.poll(now: sessionClock(89_000)) == [.refresh(expires: 600)])  // 121 s − min(32, 40) s
        #expect(s.poll(now: sessionClock(121_000)) == [.expired])
        // A terminated NOTIFY ends it at once.
        var t = Subscription(role: .subscriber, event: SIPEvent(package: "presence"), requestedExpires: 600)
        t.start(expires: 600, now: sessionClock(0))
        let n2 = try bobRequest("NOTIFY", cseq: 3, extra: ["Event: presence", "Subscription-State: terminated;reason=noresource"])
        #expect(t.receiveNotify(n2, now: sessionClock(5)) == 200)
        #expect(t.state == .terminated(reason: "noresource") && t.nextDeadline == nil)
        // 423 gives the interval to retry with.
        var u = Subscription(role: .subscriber, event: SIPEvent(package: "presence"), requestedExpires: 10)
        let r423 = try bobResponse(423, reason: "Interval Too Brief", cseq: "1 SUBSCRIBE", extra: ["Min-Expires: 60"])
        #expect(u.receiveSubscribeResponse(r423, now: sessionClock(0)) == 60)
    }

    @Test func subscriptionStateParsing() {
        #expect(SubscriptionStateValue(parsing: "active;expires=60") == SubscriptionStateValue(state: .active, expires: 60))
        #expect(SubscriptionStateValue(parsing: "terminated ; reason=noresource;retry-after=5")
            == SubscriptionStateValue(state: .terminated(reason: "noresource"), retryAfter: 5))
        #expect(SubscriptionStateValue(parsing: "") == nil)
        #expect(SubscriptionStateValue(parsing: "bogus") == nil)
    }
}

@Suite struct ReferTests {
    @Test func referNotifySipfragSequence() throws {
        let refer = try bobRequest("REFER", cseq: 7, extra: ["Refer-To: <sip:carol@example.com>", "Contact: <sip:bob@10.0.0.2>"])
        var r = try ReferSubscription(refer: refer, now: sessionClock(0))
        #expect(r.referTo.uri.user == "carol")
        #expect(r.replaces == nil)
        var bodies: [String] = []
        var states: [String] = []
        for (i, code) in [100, 180, 200].enumerated() {
            var b = SIPMessageBuilder(method: .notify, uri: SIPURI(host: "x"))
            r.notify(statusCode: code, into: &b, now: sessionClock(Int64(i) * 1000))
            bodies.append(String(decoding: b.body, as: UTF8.self))
            states += b.header("subscription-state")
            #expect(b.header("event") == ["refer;id=7"])
            #expect(b.header("content-type") == ["message/sipfrag;version=2.0"])
        }
        #expect(bodies == ["SIP/2.0 100 Trying\r\n", "SIP/2.0 180 Ringing\r\n", "SIP/2.0 200 OK\r\n"])
        #expect(states == ["active;expires=60", "active;expires=59", "terminated;reason=noresource"])
        #expect(r.subscription.isTerminated)
        // Referrer side reads the sipfrag status.
        let notify = try raw([
            "NOTIFY sip:bob@10.0.0.2 SIP/2.0", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-n", "From: <sip:alice@example.com>;tag=alicetag",
            "To: <sip:bob@example.com>;tag=bobtag", "Call-ID: call-1@10.0.0.1", "CSeq: 9 NOTIFY", "Event: refer;id=7",
            "Subscription-State: terminated;reason=noresource", "Content-Type: message/sipfrag",
            "Content-Length: 18", "", "SIP/2.0 486 Busy\r\n",
        ])
        #expect(ReferSubscription.sipfragStatus(of: notify) == 486)
    }

    @Test func referWithReplacesAndBadReferTo() throws {
        var b = SIPMessageBuilder(method: .refer, uri: SIPURI(host: "x"))
        ReferSubscription.addReferHeaders(to: &b, target: SIPURI(user: "carol", host: "example.com"),
                                          replaces: Replaces(callID: "abc@h", toTag: "t1", fromTag: "f1", isEarlyOnly: true))
        let referTo = try #require(b.header("refer-to").first)
        let refer = try bobRequest("REFER", cseq: 3, extra: ["Refer-To: \(referTo)"])
        let r = try ReferSubscription(refer: refer, now: sessionClock(0))
        #expect(r.replaces == Replaces(callID: "abc@h", toTag: "t1", fromTag: "f1", isEarlyOnly: true))
        #expect(throws: ReferSubscription.ReferError.badReferTo) { try ReferSubscription(refer: try bobRequest("REFER", cseq: 4), now: sessionClock(0)) }
    }

    @Test func referSubscriptionTimesOut() throws {
        let refer = try bobRequest("REFER", cseq: 7, extra: ["Refer-To: <sip:carol@example.com>"])
        var r = try ReferSubscription(refer: refer, now: sessionClock(0), expires: 30)
        var sub = r.subscription
        #expect(sub.poll(now: sessionClock(30_000)) == [.sendFinalNotify(SubscriptionStateValue(state: .terminated(reason: "timeout")))])
        _ = r
        r = try ReferSubscription(refer: refer, now: sessionClock(0))
        #expect(r.subscription.nextDeadline == sessionClock(60_000))
    }

    @Test func replacesMatching() throws {
        // Alice's UAC dialog, early then confirmed; Bob's UAS early dialog.
        let early = try Dialog(uacRequest: try aliceInvite(), response: try bobResponse(180, reason: "Ringing"), localContact: aliceContact)
        let confirmed = try Dialog(uacRequest: try aliceInvite(), response: try bobResponse(200, reason: "OK"), localContact: aliceContact)
        let uasEarly = try Dialog(uasRequest: try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        // to-tag = our local tag, from-tag = remote tag.
        let rep = Replaces(callID: "call-1@10.0.0.1", toTag: "alicetag", fromTag: "bobtag")
        #expect(ReplacesMatch.find(rep, in: [confirmed]) == .replaceConfirmed(confirmed.id))
        #expect(ReplacesMatch.find(rep, in: [early]) == .replaceEarly(early.id))
        var earlyOnly = rep
        earlyOnly.isEarlyOnly = true
        #expect(ReplacesMatch.find(earlyOnly, in: [confirmed]) == .reject(statusCode: 486))
        #expect(ReplacesMatch.find(earlyOnly, in: [early]) == .replaceEarly(early.id))
        #expect(ReplacesMatch.find(Replaces(callID: "other", toTag: "alicetag", fromTag: "bobtag"), in: [confirmed]) == .reject(statusCode: 481))
        #expect(ReplacesMatch.find(Replaces(callID: "call-1@10.0.0.1", toTag: "bobtag", fromTag: "alicetag"), in: [confirmed])
            == .reject(statusCode: 481))
        // An early dialog we did not initiate cannot be replaced.
        #expect(ReplacesMatch.find(Replaces(callID: "call-1@10.0.0.1", toTag: "bobtag", fromTag: "alicetag"), in: [uasEarly])
            == .reject(statusCode: 481))
        var ended = confirmed
        ended.terminate()
        #expect(ReplacesMatch.find(rep, in: [ended]) == .reject(statusCode: 603))
    }
}

@Suite struct DialogCapabilitiesTests {
    @Test func optionsMessageAnd405() throws {
        let caps = DialogCapabilities()
        let options = try aliceRequest("OPTIONS", cseq: 1)
        let r = try #require(caps.statelessResponse(to: options, toTag: "x"))
        #expect(r.statusCode == 200)
        #expect(r.header("allow").first?.contains("INVITE") == true)
        #expect(r.header("accept").first?.contains("application/sdp") == true)
        #expect(r.header("supported") == ["100rel, timer, replaces"])
        let message = try raw([
            "MESSAGE sip:bob@example.com SIP/2.0", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-m", "From: <sip:alice@example.com>;tag=a",
            "To: <sip:bob@example.com>", "Call-ID: m1", "CSeq: 1 MESSAGE", "Content-Type: text/plain;charset=utf-8",
            "Content-Length: 2", "", "hi",
        ])
        let m = try #require(caps.statelessResponse(to: message, toTag: "t"))
        #expect(m.statusCode == 200 && m.body.isEmpty)
        #expect(try parsed(m).to.tag == "t")
        let html = try raw([
            "MESSAGE sip:bob@example.com SIP/2.0", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-m", "From: <sip:alice@example.com>;tag=a",
            "To: <sip:bob@example.com>", "Call-ID: m1", "CSeq: 2 MESSAGE", "Content-Type: text/html", "Content-Length: 2", "", "hi",
        ])
        #expect(caps.statelessResponse(to: html, toTag: "t")?.statusCode == 415)
        let publish = try aliceRequest("PUBLISH", cseq: 1)
        let p = try #require(caps.statelessResponse(to: publish, toTag: "t"))
        #expect(p.statusCode == 405 && !p.header("allow").isEmpty)
        #expect(caps.statelessResponse(to: try aliceRequest("BYE", cseq: 1), toTag: "t") == nil)
    }
}
