import Testing
import SIPCore
import TandemBase
@testable import SIPStack

@Suite struct InviteClientTransactionTests {
    func client(reliable: Bool = false, values: TransactionTimerValues = TransactionTimerValues(),
                request: SIPMessage = makeRequest(.invite)) -> Driver {
        Driver(.inviteClient(InviteClientTransaction(request: request, isReliable: reliable, timerValues: values)))
    }

    @Test func udpRetransmitsWithTimerAThenTimerBTimesOut() {
        var d = client()
        d.event(.send(makeRequest(.invite)), at: 0)
        #expect(d.transaction.stateName == "calling")
        d.advance(to: 40_000)
        // §17.1.1.2: A doubles from T1 without a cap; B = 64*T1 = 32 s ends it.
        #expect(d.sendTimes() == [0, 500, 1_500, 3_500, 7_500, 15_500, 31_500])
        #expect(d.termination?.ms == 32_000)
        #expect(d.termination?.reason == .timeout)
        #expect(d.transaction.isTerminated)
        #expect(d.transaction.nextDeadline == nil)
    }

    @Test func configurableT1ScalesEveryTimer() {
        var d = client(values: TransactionTimerValues(t1: 100))
        d.event(.send(makeRequest(.invite)), at: 0)
        d.advance(to: 10_000)
        #expect(d.sendTimes() == [0, 100, 300, 700, 1_500, 3_100, 6_300])
        #expect(d.termination?.ms == 6_400)
    }

    @Test func provisionalStopsRetransmissionsThenNon2xxIsACKedAndAbsorbed() throws {
        let invite = makeRequest(.invite, routes: ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"],
                                 extraVias: ["SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower"])
        var d = client(request: invite)
        d.event(.send(invite), at: 0)
        d.event(.receive(makeResponse(to: invite, 180)), at: 700)
        #expect(d.transaction.stateName == "proceeding")
        d.advance(to: 20_000)
        #expect(d.sendTimes() == [0, 500], "no retransmission after a provisional")
        #expect(d.termination == nil, "Timer B does not run in Proceeding")

        d.event(.receive(makeResponse(to: invite, 486)), at: 20_000)
        #expect(d.transaction.stateName == "completed")
        #expect(d.passed.map(\.statusCode) == [180, 486])
        let ack = try #require(d.sent.last)
        // §17.1.1.3: ACK built by the transaction.
        #expect(ack.method == .ack)
        #expect(ack.startLine == .request(method: .ack, uri: "sip:bob@biloxi.example.com"))
        let vias = try ack.vias
        #expect(vias.count == 1 && vias[0].branch == "z9hG4bKtest1")
        #expect(try ack.routes.map(\.uri.host) == ["p1.example.com", "p2.example.com"])
        #expect(try ack.to.tag == "to1")
        #expect(try ack.from.tag == "from1")
        #expect(try ack.cseq == CSeq(number: 1, method: .ack))
        #expect(try ack.callID == "call-1@192.0.2.1")

        // A retransmitted 486: the ACK goes again, the TU does not see it twice.
        d.event(.receive(makeResponse(to: invite, 486)), at: 21_000)
        #expect(d.sendTimes { $0.method == .ack } == [20_000, 21_000])
        #expect(d.passed.count == 2)
        d.advance(to: 60_000)
        // Timer D = 32 s after entering Completed.
        #expect(d.termination?.ms == 52_000)
        #expect(d.termination?.reason == .normal)
    }

    @Test func twoXXGoesToAcceptedAndFurther2xxReachTheTU() {
        var d = client()
        d.event(.send(makeRequest(.invite)), at: 0)
        d.event(.receive(makeResponse(to: makeRequest(.invite), 200, toTag: "a")), at: 100)
        #expect(d.transaction.stateName == "accepted")
        #expect(d.sent.allSatisfy { $0.method == .invite }, "the 2xx ACK is the TU's job")
        // RFC 6026: a retransmitted 2xx and a 2xx from another fork both go up.
        d.event(.receive(makeResponse(to: makeRequest(.invite), 200, toTag: "a")), at: 600)
        d.event(.receive(makeResponse(to: makeRequest(.invite), 200, toTag: "b")), at: 700)
        d.event(.receive(makeResponse(to: makeRequest(.invite), 486)), at: 800)
        #expect(d.passed.map(\.statusCode) == [200, 200, 200])
        d.advance(to: 40_000)
        #expect(d.sendTimes() == [0], "no retransmission after the 2xx")
        #expect(d.termination?.ms == 32_100, "Timer M = 64*T1")
        #expect(d.termination?.reason == .normal)
    }

    @Test func reliableTransportSkipsTimerAAndTimerD() {
        var d = client(reliable: true, request: makeRequest(.invite, transport: "TCP"))
        d.event(.send(makeRequest(.invite)), at: 0)
        d.advance(to: 10_000)
        #expect(d.sendTimes() == [0])
        d.event(.receive(makeResponse(to: makeRequest(.invite, transport: "TCP"), 404)), at: 10_000)
        #expect(d.sent.last?.method == .ack)
        #expect(d.termination?.ms == 10_000 && d.termination?.reason == .normal)

        var t = client(reliable: true)
        t.event(.send(makeRequest(.invite)), at: 0)
        t.advance(to: 40_000)
        #expect(t.sendTimes() == [0])
        #expect(t.termination?.ms == 32_000 && t.termination?.reason == .timeout)
    }

    @Test func proxyTimerCRestartsOnProvisionalsAndAsksForCancel() {
        var d = client(values: TransactionTimerValues(proxyTimerC: 181_000))
        d.event(.send(makeRequest(.invite)), at: 0)
        d.event(.receive(makeResponse(to: makeRequest(.invite), 180)), at: 1_000)
        d.event(.receive(makeResponse(to: makeRequest(.invite), 183)), at: 100_000)
        d.advance(to: 280_000)
        #expect(!d.log.contains { if case .proxyTimeout = $0.action { true } else { false } })
        d.advance(to: 281_000)
        #expect(d.log.contains { if case .proxyTimeout = $0.action { $0.ms == 281_000 } else { false } })
        #expect(d.transaction.stateName == "proceeding")
    }

    @Test func lateTimerFireAfterCancelIsIgnored() {
        var t = InviteClientTransaction(request: makeRequest(.invite), isReliable: false)
        _ = t.handle(.send(makeRequest(.invite)), now: at(0))
        _ = t.handle(.receive(makeResponse(to: makeRequest(.invite), 100)), now: at(100))
        #expect(t.handle(.timerFired(.a), now: at(500)).isEmpty)
        #expect(t.handle(.timerFired(.b), now: at(32_000)).isEmpty)
        #expect(t.state == .proceeding)
    }
}

@Suite struct NonInviteClientTransactionTests {
    @Test func timerECappedAtT2ThenTimerFTimesOut() {
        var d = Driver(.nonInviteClient(NonInviteClientTransaction(request: makeRequest(.options), isReliable: false)))
        d.event(.send(makeRequest(.options)), at: 0)
        d.advance(to: 40_000)
        #expect(d.sendTimes() == [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        #expect(d.termination?.ms == 32_000 && d.termination?.reason == .timeout)
    }

    @Test func proceedingRetransmitsAtT2ThenFinalCompletesAndTimerKEnds() {
        let req = makeRequest(.register)
        var d = Driver(.nonInviteClient(NonInviteClientTransaction(request: req, isReliable: false)))
        d.event(.send(req), at: 0)
        d.event(.receive(makeResponse(to: req, 100)), at: 700)
        #expect(d.transaction.stateName == "proceeding")
        d.event(.receive(makeResponse(to: req, 200)), at: 6_000)
        #expect(d.transaction.stateName == "completed")
        // E fired at 500 (next at 1500); at 1500 in Proceeding it resets to T2.
        #expect(d.sendTimes() == [0, 500, 1_500, 5_500])
        d.event(.receive(makeResponse(to: req, 200)), at: 6_100)
        #expect(d.passed.map(\.statusCode) == [100, 200], "retransmitted final absorbed")
        d.advance(to: 20_000)
        #expect(d.termination?.ms == 11_000 && d.termination?.reason == .normal, "Timer K = T4")
    }

    @Test func reliableNoRetransmissionAndZeroTimerK() {
        let req = makeRequest(.bye, transport: "TLS")
        var d = Driver(.nonInviteClient(NonInviteClientTransaction(request: req, isReliable: true)))
        d.event(.send(req), at: 0)
        d.advance(to: 20_000)
        #expect(d.sendTimes() == [0])
        d.event(.receive(makeResponse(to: req, 481)), at: 20_000)
        #expect(d.passed.map(\.statusCode) == [481])
        #expect(d.termination?.ms == 20_000 && d.termination?.reason == .normal)
    }
}

@Suite struct InviteServerTransactionTests {
    let invite = makeRequest(.invite)

    func server(reliable: Bool = false) -> Driver {
        Driver(.inviteServer(InviteServerTransaction(request: invite, isReliable: reliable)))
    }

    @Test func provisionalsAreRepeatedOnRequestRetransmission() {
        var d = server()
        d.event(.receive(invite), at: 0)
        #expect(d.sent.map(\.statusCode) == [100])
        #expect(d.passed.count == 1 && d.passed[0].method == .invite)
        d.event(.receive(invite), at: 500)
        d.event(.send(makeResponse(to: invite, 180)), at: 1_000)
        d.event(.receive(invite), at: 1_500)
        #expect(d.sent.map(\.statusCode) == [100, 100, 180, 180])
        #expect(d.passed.count == 1, "retransmissions never reach the TU")
        #expect(d.transaction.stateName == "proceeding")
    }

    @Test func timerGRetransmitsFinalAndTimerHTimesOutWithoutACK() {
        var d = server()
        d.event(.receive(invite), at: 0)
        d.event(.send(makeResponse(to: invite, 486)), at: 1_000)
        #expect(d.transaction.stateName == "completed")
        d.advance(to: 40_000)
        let finals = d.sendTimes { $0.statusCode == 486 }
        // G: T1 doubling up to T2 from 1 s; H = 64*T1 after the final.
        #expect(finals == [1_000, 1_500, 2_500, 4_500, 8_500, 12_500, 16_500, 20_500, 24_500, 28_500, 32_500])
        #expect(d.termination?.ms == 33_000 && d.termination?.reason == .timeout)
    }

    @Test func ackConfirmsAndIsAbsorbedUntilTimerI() {
        var d = server()
        d.event(.receive(invite), at: 0)
        d.event(.send(makeResponse(to: invite, 603)), at: 100)
        d.event(.receive(invite), at: 200)
        #expect(d.sendTimes { $0.statusCode == 603 } == [100, 200], "final repeated on INVITE retransmission")
        let ack = makeRequest(.ack, toTag: "to1")
        d.event(.receive(ack), at: 300)
        #expect(d.transaction.stateName == "confirmed")
        d.event(.receive(ack), at: 400)
        d.event(.receive(invite), at: 450)
        d.advance(to: 4_000)
        #expect(d.sendTimes { $0.statusCode == 603 } == [100, 200], "no Timer G after ACK, nothing for absorbed ACK")
        #expect(d.passed.count == 1, "the non-2xx ACK is absorbed")
        d.advance(to: 10_000)
        #expect(d.termination?.ms == 5_300 && d.termination?.reason == .normal, "Timer I = T4")
    }

    @Test func acceptedAbsorbsInviteRetransmissionsAndPassesACK() {
        var d = server()
        d.event(.receive(invite), at: 0)
        d.event(.send(makeResponse(to: invite, 200)), at: 100)
        #expect(d.transaction.stateName == "accepted")
        d.event(.receive(invite), at: 600)
        #expect(d.sent.map(\.statusCode) == [100, 200], "RFC 6026: INVITE retransmission absorbed in Accepted")
        // The TU retransmits its 2xx through the transaction.
        d.event(.send(makeResponse(to: invite, 200)), at: 600)
        #expect(d.sent.map(\.statusCode) == [100, 200, 200])
        d.event(.receive(makeRequest(.ack, branch: "z9hG4bKtest1", toTag: "to1")), at: 700)
        #expect(d.passed.map { $0.method } == [.invite, .ack])
        #expect(d.transaction.stateName == "accepted")
        d.advance(to: 40_000)
        #expect(d.termination?.ms == 32_100 && d.termination?.reason == .normal, "Timer L = 64*T1")
    }

    @Test func reliableHasNoTimerGAndZeroTimerI() {
        var d = server(reliable: true)
        d.event(.receive(invite), at: 0)
        d.event(.send(makeResponse(to: invite, 480)), at: 100)
        d.advance(to: 10_000)
        #expect(d.sendTimes { $0.statusCode == 480 } == [100])
        d.event(.receive(makeRequest(.ack, toTag: "to1")), at: 10_000)
        #expect(d.termination?.ms == 10_000 && d.termination?.reason == .normal)
    }

    @Test func reliableTimerHStillTimesOut() {
        var d = server(reliable: true)
        d.event(.receive(invite), at: 0)
        d.event(.send(makeResponse(to: invite, 480)), at: 0)
        d.advance(to: 40_000)
        #expect(d.termination?.ms == 32_000 && d.termination?.reason == .timeout)
    }

    @Test func noTryingWhenDisabled() {
        var d = Driver(.inviteServer(InviteServerTransaction(request: invite, isReliable: false, sendsTrying: false)))
        d.event(.receive(invite), at: 0)
        d.event(.receive(invite), at: 500)
        #expect(d.sent.isEmpty)
        #expect(d.passed.count == 1)
    }
}

@Suite struct NonInviteServerTransactionTests {
    let request = makeRequest(.options)

    @Test func everyStateAndTimerJ() {
        var d = Driver(.nonInviteServer(NonInviteServerTransaction(request: request, isReliable: false)))
        d.event(.receive(request), at: 0)
        #expect(d.passed.count == 1)
        d.event(.receive(request), at: 500)
        #expect(d.sent.isEmpty, "retransmission in Trying is discarded")
        #expect(d.transaction.stateName == "trying")
        d.event(.send(makeResponse(to: request, 183)), at: 600)
        #expect(d.transaction.stateName == "proceeding")
        d.event(.receive(request), at: 1_500)
        d.event(.send(makeResponse(to: request, 200)), at: 2_000)
        #expect(d.transaction.stateName == "completed")
        d.event(.receive(request), at: 3_500)
        d.event(.send(makeResponse(to: request, 500)), at: 3_600)
        #expect(d.sent.map(\.statusCode) == [183, 183, 200, 200], "a second final from the TU is dropped")
        #expect(d.passed.count == 1)
        d.advance(to: 40_000)
        #expect(d.termination?.ms == 34_000 && d.termination?.reason == .normal, "Timer J = 64*T1")
    }

    @Test func reliableZeroTimerJ() {
        var d = Driver(.nonInviteServer(NonInviteServerTransaction(request: request, isReliable: true)))
        d.event(.receive(request), at: 0)
        d.event(.send(makeResponse(to: request, 200)), at: 10)
        #expect(d.termination?.ms == 10 && d.termination?.reason == .normal)
    }
}

@Suite struct TransactionTransportErrorTests {
    static let machines: [Transaction] = [
        .inviteClient(InviteClientTransaction(request: makeRequest(.invite), isReliable: false)),
        .nonInviteClient(NonInviteClientTransaction(request: makeRequest(.options), isReliable: false)),
        .inviteServer(InviteServerTransaction(request: makeRequest(.invite), isReliable: false)),
        .nonInviteServer(NonInviteServerTransaction(request: makeRequest(.options), isReliable: false)),
    ]

    @Test(arguments: machines) func transportErrorTerminates(_ t: Transaction) {
        var d = Driver(t)
        switch t {
        case .inviteClient, .nonInviteClient: d.event(.send(t.request), at: 0)
        case .inviteServer, .nonInviteServer: d.event(.receive(t.request), at: 0)
        }
        d.event(.transportError, at: 100)
        #expect(d.termination?.ms == 100 && d.termination?.reason == .transportError)
        #expect(d.transaction.nextDeadline == nil, "every timer cancelled")
        let cancels = d.log.filter { if case .cancelTimer = $0.action { true } else { false } }.count
        let starts = d.log.filter { if case .startTimer = $0.action { true } else { false } }.count
        #expect(cancels == starts)
        // Terminated is final.
        var after = d.transaction
        #expect(after.handle(.receive(t.request), now: at(200)).isEmpty)
    }
}

@Suite struct InviteResponseRetransmitterTests {
    @Test func retransmitsUntilGivingUpAt64T1() {
        let ok = makeResponse(to: makeRequest(.invite), 200)
        var r = InviteResponseRetransmitter(response: ok, isReliable: false)
        var sends: [Int64] = []
        var gaveUp: Int64?
        _ = r.start(now: at(0))
        while let d = r.nextDeadline {
            for a in r.timerFired(now: d) {
                switch a {
                case .send: sends.append(msOf(d))
                case .gaveUp: gaveUp = msOf(d)
                default: break
                }
            }
        }
        #expect(sends == [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        #expect(gaveUp == 32_000)
        #expect(r.isFinished)
    }

    @Test func ackStopsRetransmission() {
        var r = InviteResponseRetransmitter(response: makeResponse(to: makeRequest(.invite), 200), isReliable: false)
        _ = r.start(now: at(0))
        #expect(r.timerFired(now: at(400)).isEmpty, "early wake-up does nothing")
        #expect(r.timerFired(now: at(500)).count == 2)
        let stop = r.ackReceived()
        #expect(stop.count == 1)
        #expect(r.nextDeadline == nil)
        #expect(r.timerFired(now: at(40_000)).isEmpty)
    }

    @Test func reliableDirectPeerOnlyWaitsForACK() {
        var r = InviteResponseRetransmitter(response: makeResponse(to: makeRequest(.invite), 200), isReliable: true,
                                            retransmitsOverReliable: false)
        _ = r.start(now: at(0))
        #expect(r.nextDeadline == at(32_000))
        let actions = r.timerFired(now: at(32_000))
        #expect(actions.count == 1)
        if case .gaveUp = actions.first {} else { Issue.record("expected gaveUp") }
    }
}
