import Testing
import SIPCore
import TandemBase
@testable import SIPStack

@Suite struct TransactionLayerTests {
    @Test func branchesCarryTheMagicCookieAndDiffer() {
        let a = TransactionLayer.makeBranch(), b = TransactionLayer.makeBranch()
        #expect(a.hasPrefix("z9hG4bK") && a.count > 20)
        #expect(a != b)
    }

    @Test func clientResponsesRouteByBranchAndMethodAndStraysAreReported() throws {
        var layer = TransactionLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bKc1")
        let (key, actions) = try layer.sendRequest(invite, isReliable: false, now: at(0))
        #expect(key == .client(branch: "z9hG4bKc1", method: .invite))
        #expect(actionsSend(actions).count == 1)
        // A CANCEL shares the branch but is its own transaction (§9.1).
        let cancel = makeRequest(.cancel, branch: "z9hG4bKc1")
        let (cancelKey, _) = try layer.sendRequest(cancel, isReliable: false, now: at(10))
        #expect(cancelKey == .client(branch: "z9hG4bKc1", method: .cancel))
        #expect(layer.count == 2)

        guard case .handled(let k1, let a1) = layer.receive(makeResponse(to: cancel, 200), isReliable: false, now: at(20)) else {
            Issue.record("CANCEL 200 not matched"); return
        }
        #expect(k1 == cancelKey && actionsPass(a1).first?.statusCode == 200)
        guard case .handled(let k2, let a2) = layer.receive(makeResponse(to: invite, 487), isReliable: false, now: at(30)) else {
            Issue.record("487 not matched"); return
        }
        #expect(k2 == key && actionsSend(a2).first?.method == .ack)

        if case .strayResponse = layer.receive(makeResponse(to: makeRequest(.invite, branch: "z9hG4bKother"), 200),
                                               isReliable: false, now: at(40)) {} else { Issue.record("expected stray") }
        #expect(throws: TransactionError.duplicateTransaction) {
            try layer.sendRequest(makeRequest(.cancel, branch: "z9hG4bKc1"), isReliable: false, now: at(50))
        }
        #expect(throws: TransactionError.ackIsNotATransaction) {
            try layer.sendRequest(makeRequest(.ack, branch: "z9hG4bKx"), isReliable: false, now: at(50))
        }
        #expect(throws: TransactionError.missingBranch) {
            try layer.sendRequest(makeRequest(.options, branch: "old"), isReliable: false, now: at(50))
        }
    }

    @Test func theDeadlineScheduleFollowsEveryChange() throws {
        // 200 OPTIONS at staggered times; half get a final response (Timer K or nothing left to wait for), the
        // rest retransmit and time out. The layer's earliest deadline must always equal a scan of the live ones.
        var layer = TransactionLayer()
        var requests: [SIPMessage] = []
        for i in 0..<200 {
            let r = makeRequest(.options, branch: "z9hG4bKd\(i)")
            requests.append(r)
            _ = try layer.sendRequest(r, isReliable: false, now: at(Int64(i)))
        }
        for i in stride(from: 0, to: 200, by: 2) {
            _ = layer.receive(makeResponse(to: requests[i], 200), isReliable: false, now: at(300))
        }
        func scanned() -> Instant? {
            (0..<200).compactMap { i in
                layer[.client(branch: "z9hG4bKd\(i)", method: .options)]?.nextDeadline
            }.min()
        }
        #expect(layer.nextDeadline == scanned())
        var fired = 0
        var last = at(0)
        while let d = layer.nextDeadline {
            #expect(d >= last)  // deadlines come in order
            last = d
            fired += layer.fire(now: d).count
            #expect(layer.nextDeadline == scanned())
        }
        #expect(fired > 0)
        #expect(layer.count == 0)
        #expect(layer.fire(now: at(100_000)).isEmpty)
    }

    @Test func timerBookkeepingDrivesRetransmissionsAndRemovesTerminated() throws {
        var layer = TransactionLayer()
        _ = try layer.sendRequest(makeRequest(.options, branch: "z9hG4bKt1"), isReliable: false, now: at(0))
        _ = try layer.sendRequest(makeRequest(.invite, branch: "z9hG4bKt2"), isReliable: true, now: at(0))
        #expect(layer.nextDeadline == at(500))
        var sends: [Int64] = []
        var terminations: [(TransactionKey, TransactionTerminationReason)] = []
        while let d = layer.nextDeadline {
            for (key, actions) in layer.fire(now: d) {
                sends += actionsSend(actions).map { _ in msOf(d) }
                if let r = actionsTermination(actions) { terminations.append((key, r)) }
            }
        }
        #expect(sends == [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500])
        #expect(terminations.count == 2 && terminations.allSatisfy { $0.1 == .timeout })
        #expect(layer.count == 0)
        #expect(layer.fire(now: at(100_000)).isEmpty)
    }

    @Test func serverRetransmissionsAckAndStrayACK() throws {
        var layer = TransactionLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bKs1")
        guard case .newRequest(let key, let a0) = layer.receive(invite, isReliable: false, now: at(0)) else {
            Issue.record("expected new request"); return
        }
        #expect(key == .server(branch: "z9hG4bKs1", sentBy: "192.0.2.1:5060", method: .invite))
        #expect(actionsPass(a0).count == 1 && actionsSend(a0).first?.statusCode == 100)
        guard case .handled(_, let a1) = layer.receive(invite, isReliable: false, now: at(500)) else {
            Issue.record("retransmission not matched"); return
        }
        #expect(actionsPass(a1).isEmpty && actionsSend(a1).first?.statusCode == 100)

        let (rk, ra) = try layer.sendResponse(makeResponse(to: invite, 486), now: at(1_000))
        #expect(rk == key && actionsSend(ra).first?.statusCode == 486)
        // The non-2xx ACK carries the INVITE's branch and is filed under INVITE.
        guard case .handled(let ak, let aa) = layer.receive(makeRequest(.ack, branch: "z9hG4bKs1", toTag: "to1"),
                                                            isReliable: false, now: at(1_100)) else {
            Issue.record("ACK not matched"); return
        }
        #expect(ak == key && aa.contains { if case .startTimer(.i, _) = $0 { true } else { false } })
        // A 2xx ACK has its own branch: for the TU.
        if case .strayACK(let m) = layer.receive(makeRequest(.ack, branch: "z9hG4bKnew", toTag: "to1"), isReliable: false, now: at(1_200)) {
            #expect(m.method == .ack)
        } else { Issue.record("expected stray ACK") }
        #expect(throws: TransactionError.noSuchTransaction) {
            try layer.sendResponse(makeResponse(to: makeRequest(.invite, branch: "z9hG4bKnone"), 200), now: at(0))
        }
    }

    @Test func sentByDistinguishesEqualBranches() {
        var layer = TransactionLayer()
        let a = makeRequest(.options, branch: "z9hG4bKsame", sentBy: "192.0.2.1:5060")
        let b = makeRequest(.options, branch: "z9hG4bKsame", sentBy: "192.0.2.2", callID: "other")
        guard case .newRequest = layer.receive(a, isReliable: false, now: at(0)),
              case .newRequest = layer.receive(b, isReliable: false, now: at(0)) else {
            Issue.record("both should be new"); return
        }
        #expect(layer.count == 2)
    }

    @Test func cancelMatchesTheInviteServerTransaction() {
        var layer = TransactionLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bKinv")
        _ = layer.receive(invite, isReliable: false, now: at(0))
        let cancel = makeRequest(.cancel, branch: "z9hG4bKinv")
        #expect(layer.cancelTarget(for: cancel) == .server(branch: "z9hG4bKinv", sentBy: "192.0.2.1:5060", method: .invite))
        guard case .cancel(let ck, let actions, let target) = layer.receive(cancel, isReliable: false, now: at(100)) else {
            Issue.record("expected cancel"); return
        }
        #expect(ck == .server(branch: "z9hG4bKinv", sentBy: "192.0.2.1:5060", method: .cancel))
        #expect(target == .server(branch: "z9hG4bKinv", sentBy: "192.0.2.1:5060", method: .invite))
        #expect(actionsPass(actions).first?.method == .cancel)

        // Another branch, or another sent-by: nothing to cancel (the TU answers 481).
        guard case .cancel(_, _, let none) = layer.receive(makeRequest(.cancel, branch: "z9hG4bKzzz"), isReliable: false, now: at(200)),
              case .cancel(_, _, let none2) = layer.receive(makeRequest(.cancel, branch: "z9hG4bKinv", sentBy: "198.51.100.7:5060"),
                                                            isReliable: false, now: at(200)) else {
            Issue.record("expected cancel"); return
        }
        #expect(none == nil && none2 == nil)
    }

    @Test func mergedRequestIsAnswered482() {
        var layer = TransactionLayer()
        _ = layer.receive(makeRequest(.invite, branch: "z9hG4bKfork1"), isReliable: false, now: at(0))
        // The same request forked by a proxy upstream reaches us again over another path (§8.2.2.2).
        let second = makeRequest(.invite, branch: "z9hG4bKfork2", sentBy: "203.0.113.5:5060")
        guard case .rejected(let key, .mergedRequest, let actions) = layer.receive(second, isReliable: false, now: at(10)) else {
            Issue.record("expected merged-request rejection"); return
        }
        let sent = actionsSend(actions)
        #expect(sent.map(\.statusCode) == [482], "no 100 Trying for a rejected request")
        #expect(actionsPass(actions).isEmpty)
        #expect((try? sent[0].to.tag) != nil)
        // Its retransmission gets the 482 again from the server transaction.
        guard case .handled(let k2, let a2) = layer.receive(second, isReliable: false, now: at(500)) else {
            Issue.record("expected retransmission"); return
        }
        #expect(k2 == key && actionsSend(a2).map(\.statusCode) == [482])
        // In-dialog requests (To tag) and other CSeqs are not merged.
        if case .newRequest = layer.receive(makeRequest(.invite, branch: "z9hG4bKfork3", cseq: 2), isReliable: false, now: at(20)) {} else {
            Issue.record("different CSeq must be new")
        }
        if case .newRequest = layer.receive(makeRequest(.invite, branch: "z9hG4bKfork4", toTag: "x"), isReliable: false, now: at(20)) {} else {
            Issue.record("request with To tag must be new")
        }
    }

    @Test func loopedRequestIsAnswered482() throws {
        var layer = TransactionLayer()
        let out = makeRequest(.invite, branch: "z9hG4bKmine", callID: "loop")
        _ = try layer.sendRequest(out, isReliable: false, now: at(0))
        // It comes back with a proxy's Via on top of ours.
        let back = makeRequest(.invite, branch: "z9hG4bKproxy", sentBy: "198.51.100.1:5060", callID: "loop",
                               extraVias: ["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKmine"])
        guard case .rejected(_, .loop, let actions) = layer.receive(back, isReliable: false, now: at(10)) else {
            Issue.record("expected loop rejection"); return
        }
        #expect(actionsSend(actions).map(\.statusCode) == [482])
    }

    @Test func transportErrorThroughTheLayerRemovesTheTransaction() throws {
        var layer = TransactionLayer()
        let (key, _) = try layer.sendRequest(makeRequest(.bye, branch: "z9hG4bKbye"), isReliable: true, now: at(0))
        let actions = layer.handle(.transportError, for: key, now: at(5))
        #expect(actionsTermination(actions) == .transportError)
        #expect(layer[key] == nil && layer.count == 0)
        #expect(layer.handle(.transportError, for: key, now: at(6)).isEmpty)
    }

    @Test func responseWithoutBranchIsStray() throws {
        var layer = TransactionLayer()
        _ = try layer.sendRequest(makeRequest(.options, branch: "z9hG4bKq"), isReliable: false, now: at(0))
        // SIPCore already rejects messages without Via/CSeq; a branchless response simply matches nothing.
        let m = try SIPMessage(parsing: Array("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8))
        if case .strayResponse = layer.receive(m, isReliable: false, now: at(0)) {} else { Issue.record("expected stray") }
        #expect(layer.count == 1)
    }

    @Test func rfc2543RequestsMatchTheirRetransmissionsAndACK() {
        var layer = TransactionLayer()
        let old = makeRequest(.invite, branch: "1234")
        guard case .newRequest(let key, _) = layer.receive(old, isReliable: false, now: at(0)) else {
            Issue.record("expected new"); return
        }
        guard case .handled(let k2, _) = layer.receive(old, isReliable: false, now: at(100)) else {
            Issue.record("expected retransmission match"); return
        }
        #expect(k2 == key)
        _ = try? layer.sendResponse(makeResponse(to: old, 404), now: at(200))
        guard case .handled(let k3, _) = layer.receive(makeRequest(.ack, branch: "1234", toTag: "to1"), isReliable: false, now: at(300)) else {
            Issue.record("expected ACK match"); return
        }
        #expect(k3 == key)
    }
}
