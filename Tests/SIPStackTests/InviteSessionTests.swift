import SIPCore
@testable import SIPStack
import TandemBase
import Testing

@Suite struct InviteSessionTests {
    /// Alice's session, connected with Bob after offer in INVITE and answer in 200.
    func connectedUAC(seed: UInt64 = 1) throws -> InviteSession {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact,
                              configuration: InviteSessionConfiguration(randomSeed: seed))
        _ = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 answer")), now: sessionClock(0))
        return s
    }

    /// Bob's session, connected after answering Alice's offer and receiving the ACK.
    func connectedUAS(seed: UInt64 = 1) throws -> InviteSession {
        var (s, _) = try InviteSession.incoming(try inviteAtBob(), localTag: "bobtag", localContact: bobContact,
                                                configuration: InviteSessionConfiguration(randomSeed: seed))
        _ = s.handle(.accept(body: answerBody), now: sessionClock(0))
        _ = s.handle(.request(try aliceRequest("ACK", cseq: 1)), now: sessionClock(10))
        return s
    }

    @Test func uacOfferInInviteAnswerInOK() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        #expect(s.offerAnswer.phase == .localOfferSent(.invite))
        let ringing = s.handle(.response(try bobResponse(180, reason: "Ringing")), now: sessionClock(0))
        #expect(s.dialog?.state == .early)
        #expect(ringing.contains { if case .provisionalReceived(180, nil) = $0 { true } else { false } })
        let a = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 answer")), now: sessionClock(100))
        #expect(s.state == .connected)
        #expect(a.contains { $0.isEstablished })
        #expect(a.compactMap(\.answer).first?.bytes == Array("v=0 answer".utf8))
        let ack = try parsed(try #require(a.compactMap(\.ackBuilder).first))
        #expect(try ack.cseq == CSeq(number: 1, method: .ack))
        #expect(ack.body.isEmpty)
        #expect(s.offerAnswer.hasCompletedExchange)
        // A retransmitted 200 gets the same ACK again.
        let again = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 answer")), now: sessionClock(600))
        #expect(again.compactMap(\.ackBuilder).count == 1)
    }

    @Test func lateOfferInOKAnswerInACK() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(body: ""), localContact: aliceContact)
        #expect(s.offerAnswer.isIdle)
        let a = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 offer")), now: sessionClock(0))
        #expect(a.compactMap(\.offer).count == 1)
        #expect(a.compactMap(\.ackBuilder).isEmpty)  // the ACK waits for our answer
        #expect(s.offerAnswer.phase == .remoteOfferReceived(.success))
        let b = s.handle(.answer(answerBody), now: sessionClock(5))
        let ack = try parsed(try #require(b.compactMap(\.ackBuilder).first))
        #expect(Array(ack.body) == answerBody.bytes)
        #expect(try ack.cseq.method == .ack)
        #expect(s.offerAnswer.isIdle && s.offerAnswer.hasCompletedExchange)
    }

    @Test func uasAnswersAndRetransmitsOKUntilACK() throws {
        var (s, first) = try InviteSession.incoming(try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        #expect(first.compactMap(\.offer).count == 1)
        #expect(s.offerAnswer.phase == .remoteOfferReceived(.invite))
        let ok = s.handle(.accept(body: answerBody), now: sessionClock(0))
        let okMsg = try parsed(try #require(ok.compactMap(\.responseBuilder).first))
        #expect(okMsg.statusCode == 200)
        #expect(try okMsg.to.tag == "bobtag")
        #expect(s.state == .waitingForACK)
        // 2xx retransmitted at T1, 2T1, 4T1 ... capped at T2 (RFC 3261 §13.3.1.4).
        var sends: [Int64] = []
        var t: Int64 = 0
        while t < 5000 {
            t += 50
            for case .retransmitResponse in s.handle(.timer, now: sessionClock(t)) { sends.append(t) }
        }
        #expect(sends == [500, 1500, 3500])
        let acked = s.handle(.request(try aliceRequest("ACK", cseq: 1)), now: sessionClock(5000))
        #expect(acked.contains { $0.isEstablished })
        #expect(s.state == .connected)
        // Only the session timer is left: we refresh (the UAC did not offer `timer`) at half of 120 s.
        #expect(s.nextDeadline == sessionClock(60_000))
        #expect(s.sessionTimer?.isLocalRefresher == true)
    }

    @Test func uasGivesUpWithoutACKAfter64T1() throws {
        var (s, _) = try InviteSession.incoming(try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        _ = s.handle(.accept(body: answerBody), now: sessionClock(0))
        var ended: [InviteSession.Action] = []
        var t: Int64 = 0
        while t <= 40000, ended.isEmpty {
            t += 100
            ended = s.handle(.timer, now: sessionClock(t)).filter { if case .terminated = $0 { true } else { false } }
        }
        #expect(t >= 32000 && t < 36100)
        #expect(s.state == .terminated(.ackTimeout))
    }

    @Test func uasLateOfferAnswerInACK() throws {
        var (s, first) = try InviteSession.incoming(try inviteAtBob(body: ""), localTag: "bobtag", localContact: bobContact)
        #expect(first.isEmpty)
        let ok = s.handle(.accept(body: offerBody), now: sessionClock(0))
        #expect(try parsed(try #require(ok.compactMap(\.responseBuilder).first)).body.count == offerBody.bytes.count)
        #expect(s.offerAnswer.phase == .localOfferSent(.success))
        let a = s.handle(.request(try aliceRequest("ACK", cseq: 1, body: "v=0 answer")), now: sessionClock(10))
        #expect(a.compactMap(\.answer).count == 1)
        #expect(s.offerAnswer.isIdle)
    }

    @Test func glareAnswers491AndRetriesInTheRFCRange() throws {
        var s = try connectedUAC()
        let re = s.handle(.reinvite(offer: offerBody), now: sessionClock(1000))
        #expect(try parsed(try #require(re.compactMap(\.requestBuilder).first)).cseq == CSeq(number: 2, method: .invite))
        // Bob's re-INVITE crosses ours: glare.
        let theirs = s.handle(.request(try bobRequest("INVITE", cseq: 1, body: "v=0 offer")), now: sessionClock(1010))
        #expect(theirs.compactMap(\.responseBuilder).first?.statusCode == 491)
        // A second local offer is refused while one is outstanding.
        #expect(s.handle(.update(offer: offerBody), now: sessionClock(1011)).contains { if case .commandRefused = $0 { true } else { false } })
        let rejected = s.handle(.response(try bobResponse(491, reason: "Request Pending", cseq: "2 INVITE")), now: sessionClock(1100))
        #expect(s.offerAnswer.isIdle)
        guard case .retryScheduled(let when)? = rejected.last else { Issue.record("no retry"); return }
        let delay = when.milliseconds(since: sessionClock(1100))
        #expect(delay >= 2100 && delay <= 4000)  // we own the Call-ID
        #expect(s.handle(.timer, now: when.adding(milliseconds: -1)).isEmpty)
        let retried = s.handle(.timer, now: when)
        let r = try parsed(try #require(retried.compactMap(\.requestBuilder).first))
        #expect(try r.cseq == CSeq(number: 3, method: .invite))
        #expect(Array(r.body) == offerBody.bytes)
    }

    @Test(arguments: [UInt64(1), 2, 3, 99, 12345])
    func glareRetryRangesDependOnCallIDOwnership(seed: UInt64) throws {
        var uac = try connectedUAC(seed: seed)
        _ = uac.handle(.reinvite(offer: offerBody), now: sessionClock(0))
        guard case .retryScheduled(let t1)? = uac.handle(.response(try bobResponse(491, reason: "Request Pending", cseq: "2 INVITE")), now: sessionClock(0)).last
        else { Issue.record("no retry"); return }
        #expect((2100...4000).contains(t1.milliseconds(since: sessionClock(0))))
        var uas = try connectedUAS(seed: seed)
        _ = uas.handle(.reinvite(offer: offerBody), now: sessionClock(0))
        let resp = try sip([
            "SIP/2.0 491 Request Pending", "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x", "From: <sip:bob@example.com>;tag=bobtag",
            "To: <sip:alice@example.com>;tag=alicetag", "Call-ID: call-1@10.0.0.1", "CSeq: 1 INVITE",
        ])
        guard case .retryScheduled(let t2)? = uas.handle(.response(resp), now: sessionClock(0)).last else { Issue.record("no retry"); return }
        #expect((0...2000).contains(t2.milliseconds(since: sessionClock(0))))
    }

    @Test func reinviteWithUnacceptableOfferGets488AndKeepsSession() throws {
        var s = try connectedUAS()
        let offered = s.handle(.request(try aliceRequest("INVITE", cseq: 2, body: "v=0 hold")), now: sessionClock(100))
        #expect(offered.compactMap(\.offer).first?.bytes == Array("v=0 hold".utf8))
        let r = s.handle(.rejectOffer, now: sessionClock(110))
        #expect(r.compactMap(\.responseBuilder).first?.statusCode == 488)
        #expect(s.offerAnswer.isIdle)
        #expect(s.state == .connected)
        // Our own re-INVITE failing with 488 reports the failure and keeps the session.
        _ = s.handle(.reinvite(offer: offerBody), now: sessionClock(200))
        let resp = try sip([
            "SIP/2.0 488 Not Acceptable Here", "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x", "From: <sip:bob@example.com>;tag=bobtag",
            "To: <sip:alice@example.com>;tag=alicetag", "Call-ID: call-1@10.0.0.1", "CSeq: 1 INVITE",
        ])
        let f = s.handle(.response(resp), now: sessionClock(300))
        #expect(f.contains { if case .offerRejected(488) = $0 { true } else { false } })
        #expect(s.state == .connected)
    }

    @Test func reinviteHoldAcceptedWithAnswer() throws {
        var s = try connectedUAS()
        _ = s.handle(.request(try aliceRequest("INVITE", cseq: 2, body: "v=0 sendonly")), now: sessionClock(100))
        let r = s.handle(.accept(body: answerBody), now: sessionClock(110))
        #expect(r.compactMap(\.responseBuilder).first?.statusCode == 200)
        _ = s.handle(.request(try aliceRequest("ACK", cseq: 2)), now: sessionClock(120))
        #expect(s.offerAnswer.isIdle && s.state == .connected)
        #expect(s.remoteBody?.bytes == Array("v=0 sendonly".utf8))
    }

    @Test func updateBothDirections() throws {
        var s = try connectedUAS()
        let o = s.handle(.request(try aliceRequest("UPDATE", cseq: 2, body: "v=0 new")), now: sessionClock(0))
        #expect(o.compactMap(\.offer).count == 1)
        // Another UPDATE offer while ours is unanswered: 500 (RFC 3311 §5.2).
        let second = s.handle(.request(try aliceRequest("UPDATE", cseq: 3, body: "v=0 newer")), now: sessionClock(1))
        #expect(second.compactMap(\.responseBuilder).first?.statusCode == 500)
        let a = s.handle(.answer(answerBody), now: sessionClock(2))
        let ok = try #require(a.compactMap(\.responseBuilder).first)
        #expect(ok.statusCode == 200 && ok.body == answerBody.bytes)
        let sent = s.handle(.update(offer: offerBody), now: sessionClock(3))
        let upd = try parsed(try #require(sent.compactMap(\.requestBuilder).first))
        #expect(upd.method == .update)
        let resp = try sip([
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-x", "From: <sip:bob@example.com>;tag=bobtag",
            "To: <sip:alice@example.com>;tag=alicetag", "Call-ID: call-1@10.0.0.1", "CSeq: \(try upd.cseq.number) UPDATE",
        ], body: "v=0 ans")
        #expect(s.handle(.response(resp), now: sessionClock(4)).compactMap(\.answer).count == 1)
        #expect(s.offerAnswer.isIdle)
    }

    @Test func cancelGets200AndInviteGets487() throws {
        var (s, _) = try InviteSession.incoming(try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        _ = s.handle(.provisional(statusCode: 180, body: nil, reliable: false), now: sessionClock(0))
        let cancel = try sip([
            "CANCEL sip:bob@10.0.0.2 SIP/2.0", "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK-p2",
            "From: <sip:alice@example.com>;tag=alicetag", "To: <sip:bob@example.com>", "Call-ID: call-1@10.0.0.1", "CSeq: 1 CANCEL",
        ])
        let a = s.handle(.request(cancel), now: sessionClock(10))
        #expect(a.compactMap(\.responseBuilder).compactMap(\.statusCode) == [200, 487])
        #expect(s.state == .terminated(.cancelled))
    }

    @Test func uacCancelWaitsForProvisionalAndEndsOn487() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        #expect(s.handle(.hangup, now: sessionClock(0)).isEmpty)
        let a = s.handle(.response(try bobResponse(180, reason: "Ringing")), now: sessionClock(10))
        let c = try parsed(try #require(a.compactMap(\.requestBuilder).first))
        #expect(c.method == .cancel)
        #expect(try c.cseq == CSeq(number: 1, method: .cancel))
        #expect(try c.vias.first?.branch == "z9hG4bK-inv1")
        _ = s.handle(.response(try bobResponse(487, reason: "Request Terminated")), now: sessionClock(20))
        #expect(s.state == .terminated(.cancelled))
    }

    @Test func byeFromEitherSide() throws {
        var s = try connectedUAC()
        let bye = s.handle(.hangup, now: sessionClock(0))
        #expect(try parsed(try #require(bye.compactMap(\.requestBuilder).first)).method == .bye)
        #expect(s.state == .terminated(.localBye))
        var u = try connectedUAS()
        let r = u.handle(.request(try aliceRequest("BYE", cseq: 2)), now: sessionClock(0))
        #expect(r.compactMap(\.responseBuilder).first?.statusCode == 200)
        #expect(u.state == .terminated(.remoteBye))
        // Out-of-order CSeq on an in-dialog request gets 500.
        var v = try connectedUAS()
        _ = v.handle(.request(try aliceRequest("INFO", cseq: 5)), now: sessionClock(0))
        #expect(v.handle(.request(try aliceRequest("INFO", cseq: 4)), now: sessionClock(1)).compactMap(\.responseBuilder).first?.statusCode == 500)
    }

    @Test func uacPRACKsReliableProvisionalOnceInOrder() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        let rel = ["Require: 100rel", "RSeq: 10"]
        let a = s.handle(.response(try bobResponse(183, reason: "Session Progress", body: "v=0 answer", extra: rel)), now: sessionClock(0))
        let prack = try parsed(try #require(a.compactMap(\.requestBuilder).first))
        #expect(prack.method == .prack)
        #expect(prack.value("rack") == "10 1 INVITE")
        #expect(a.compactMap(\.answer).count == 1)
        // Retransmission: no second PRACK.
        let dup = s.handle(.response(try bobResponse(183, reason: "Session Progress", body: "v=0 answer", extra: rel)), now: sessionClock(500))
        #expect(dup.isEmpty)
        // Out of order (12 after 10): ignored.
        #expect(s.handle(.response(try bobResponse(180, reason: "Ringing", extra: ["Require: 100rel", "RSeq: 12"])), now: sessionClock(600)).isEmpty)
        let next = s.handle(.response(try bobResponse(180, reason: "Ringing", extra: ["Require: 100rel", "RSeq: 11"])), now: sessionClock(700))
        #expect(try parsed(try #require(next.compactMap(\.requestBuilder).first)).value("rack") == "11 1 INVITE")
    }

    @Test func uasReliableProvisionalRetransmitsUntilPRACK() throws {
        // Without 100rel in the INVITE the 18x goes unreliably (RFC 3262 §3).
        var (plain, _) = try InviteSession.incoming(try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        let unreliable = try #require(plain.handle(.provisional(statusCode: 180, body: nil, reliable: true), now: sessionClock(0)).first?.responseBuilder)
        #expect(unreliable.header("rseq").isEmpty)
        #expect(plain.nextDeadline == nil)
        var (s, _) = try InviteSession.incoming(try inviteAtBob(extra: ["Supported: 100rel"]), localTag: "bobtag", localContact: bobContact,
                                                configuration: InviteSessionConfiguration(randomSeed: 7))
        let first = s.handle(.provisional(statusCode: 183, body: answerBody, reliable: true), now: sessionClock(0))
        let r183 = try parsed(try #require(first.compactMap(\.responseBuilder).first))
        #expect(r183.value("require") == "100rel")
        let rseq = try #require(r183.value("rseq").flatMap { UInt32($0) })
        #expect(s.offerAnswer.hasCompletedExchange)
        var sends: [Int64] = []
        for t in stride(from: Int64(100), through: 4000, by: 100) {
            for case .sendResponse in s.handle(.timer, now: sessionClock(t)) { sends.append(t) }
        }
        #expect(sends == [500, 1500, 3500])
        let wrong = try aliceRequest("PRACK", cseq: 2, extra: ["RAck: \(rseq + 1) 1 INVITE"])
        #expect(s.handle(.request(wrong), now: sessionClock(3600)).compactMap(\.responseBuilder).first?.statusCode == 481)
        let right = try aliceRequest("PRACK", cseq: 3, extra: ["RAck: \(rseq) 1 INVITE"])
        #expect(s.handle(.request(right), now: sessionClock(3700)).compactMap(\.responseBuilder).first?.statusCode == 200)
        #expect(s.nextDeadline == nil)
    }
}

@Suite struct ReliableProvisionalTests {
    @Test func retransmitScheduleAndTimeoutAt64T1() throws {
        var sender = ReliableProvisionalSender(inviteSequence: 1, initialRSeq: 100)
        _ = sender.send(SIPMessageBuilder(statusCode: 180), now: sessionClock(0))
        var sends: [Int64] = []
        var timedOut: Int64?
        for t in stride(from: Int64(0), through: 40000, by: 250) {
            for a in sender.poll(now: sessionClock(t)) {
                switch a {
                case .send: sends.append(t)
                case .timedOut: timedOut = timedOut ?? t
                }
            }
        }
        // T1 doubling: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; give up at 64×T1 = 32 s (RFC 3262 §3).
        #expect(sends == [500, 1500, 3500, 7500, 15500, 31500])
        #expect(timedOut == 32000)
    }

    @Test func secondReliableResponseWaitsForFirstPRACK() throws {
        var sender = ReliableProvisionalSender(inviteSequence: 4, initialRSeq: 1)
        #expect(sender.send(SIPMessageBuilder(statusCode: 180), now: sessionClock(0)).count == 1)
        #expect(sender.send(SIPMessageBuilder(statusCode: 183), now: sessionClock(1)).isEmpty)
        let prack = try aliceRequest("PRACK", cseq: 5, extra: ["RAck: 1 4 INVITE"])
        let (v, next) = sender.receive(prack: prack, now: sessionClock(2))
        #expect(v == .matched(rseq: 1))
        guard case .send(let b)? = next.first else { Issue.record("second not sent"); return }
        #expect(b.header("rseq") == ["2"])
        let badMethod = try aliceRequest("PRACK", cseq: 6, extra: ["RAck: 2 4 UPDATE"])
        #expect(sender.receive(prack: badMethod, now: sessionClock(3)).0 == .noMatch)
        let badCSeq = try aliceRequest("PRACK", cseq: 7, extra: ["RAck: 2 5 INVITE"])
        #expect(sender.receive(prack: badCSeq, now: sessionClock(3)).0 == .noMatch)
    }
}

@Suite struct InviteSessionTimerTests {
    @Test func tooSmallSessionExpiresRejectedWith422() throws {
        let (s, a) = try InviteSession.incoming(try inviteAtBob(extra: ["Session-Expires: 60", "Supported: timer"]),
                                                localTag: "bobtag", localContact: bobContact)
        let r = try #require(a.first?.responseBuilder)
        #expect(r.statusCode == 422)
        #expect(r.header("min-se") == ["90"])
        #expect(s.state == .terminated(.rejected(statusCode: 422)))
    }

    @Test func uasAnswersWithSessionExpiresAndRequire() throws {
        var (s, _) = try InviteSession.incoming(try inviteAtBob(extra: ["Session-Expires: 1800", "Supported: timer"]),
                                                localTag: "bobtag", localContact: bobContact)
        let ok = try #require(s.handle(.accept(body: answerBody), now: sessionClock(0)).first?.responseBuilder)
        #expect(ok.header("session-expires") == ["120;refresher=uac"])
        #expect(ok.header("require") == ["timer"])
    }

    @Test func uacRefresherSendsUpdateAtHalfIntervalAndRestarts() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        let ok = try bobResponse(200, reason: "OK", body: "v=0 answer",
                                 extra: ["Session-Expires: 120;refresher=uac", "Require: timer", "Allow: INVITE, ACK, BYE, UPDATE"])
        _ = s.handle(.response(ok), now: sessionClock(0))
        #expect(s.nextDeadline == sessionClock(60_000))
        #expect(s.handle(.timer, now: sessionClock(59_999)).isEmpty)
        let refresh = try parsed(try #require(s.handle(.timer, now: sessionClock(60_000)).first?.requestBuilder))
        #expect(refresh.method == .update)
        #expect(refresh.body.isEmpty)
        #expect(refresh.value("session-expires") == "120;refresher=uac")
        let updOK = try bobResponse(200, reason: "OK", cseq: "\(try refresh.cseq.number) UPDATE",
                                    extra: ["Session-Expires: 120;refresher=uac"])
        _ = s.handle(.response(updOK), now: sessionClock(60_500))
        #expect(s.nextDeadline == sessionClock(120_500))
        #expect(s.state == .connected)
    }

    @Test func uacRefresherWithoutUpdateUsesReinviteWithLastSDP() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        _ = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 answer", extra: ["Session-Expires: 90;refresher=uac"])),
                     now: sessionClock(0))
        let re = try parsed(try #require(s.handle(.timer, now: sessionClock(45_000)).first?.requestBuilder))
        #expect(re.method == .invite)
        #expect(Array(re.body) == Array("v=0 offer".utf8))
    }

    @Test func nonRefresherSendsByeWhenNoRefreshArrives() throws {
        var s = InviteSession(outgoingInvite: try aliceInvite(), localContact: aliceContact)
        _ = s.handle(.response(try bobResponse(200, reason: "OK", body: "v=0 answer", extra: ["Session-Expires: 120;refresher=uas"])),
                     now: sessionClock(0))
        // A refresh from the peer (UPDATE without body) at 50 s moves the deadline to 50 + 88 s.
        let upd = s.handle(.request(try bobRequest("UPDATE", cseq: 2)), now: sessionClock(50_000))
        #expect(upd.first?.responseBuilder?.header("session-expires") == ["120;refresher=uas"])
        #expect(s.handle(.timer, now: sessionClock(137_999)).isEmpty)
        let a = s.handle(.timer, now: sessionClock(138_000))
        #expect(try parsed(try #require(a.first?.requestBuilder)).method == .bye)
        #expect(s.state == .terminated(.sessionExpired))
    }
}
