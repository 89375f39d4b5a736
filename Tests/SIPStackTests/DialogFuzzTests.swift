import SIPCore
@testable import SIPStack
import Testing

/// Bounded fuzzing with a fixed seed: the small parsers here round-trip, and mutated in-dialog messages
/// fed to dialogs, sessions and subscriptions never trap.
@Suite struct DialogFuzzTests {
    @Test func headerValueParsersRoundTripAndNeverTrap() {
        var rng = DialogRandom(seed: 0xD1A1_06)
        let alphabet = Array("0123456789 ;=\tINVITEPRACKactivependingterminatedreasonexpiresretry-after,x".utf8)
        let seeds = ["776656 1 INVITE", "1 2 PRACK", "active;expires=60", "terminated;reason=noresource;retry-after=5", "pending"]
        for i in 0..<20_000 {
            var bytes = Array(seeds[i % seeds.count].utf8)
            for _ in 0..<Int(rng.next() % 4) {
                let op = rng.next() % 3
                let pos = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch op {
                case 0 where !bytes.isEmpty: bytes[pos] = c
                case 1: bytes.insert(c, at: pos)
                default: if !bytes.isEmpty { bytes.remove(at: pos) }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let r = RAck(parsing: text) {
                #expect(RAck(parsing: r.description) == r)
            }
            if let v = SubscriptionStateValue(parsing: text) {
                let again = SubscriptionStateValue(parsing: v.description)
                #expect(again?.state == v.state)
            }
        }
    }

    @Test func mutatedRequestsNeverTrapTheStateMachines() throws {
        var rng = DialogRandom(seed: 42)
        let templates = try [
            aliceRequest("INVITE", cseq: 2, body: "v=0 x", extra: ["Contact: <sip:alice@10.0.0.1>"]),
            aliceRequest("UPDATE", cseq: 3, body: "v=0 y"),
            aliceRequest("PRACK", cseq: 4, extra: ["RAck: 1 1 INVITE"]),
            aliceRequest("NOTIFY", cseq: 5, extra: ["Event: refer;id=7", "Subscription-State: active;expires=5"]),
            aliceRequest("REFER", cseq: 6, extra: ["Refer-To: <sip:c@x?Replaces=a%3Bto-tag%3Db%3Bfrom-tag%3Dc>"]),
            aliceRequest("BYE", cseq: 7),
        ].map(\.bytes)
        var parsedCount = 0
        var session = try InviteSession.incoming(try inviteAtBob(extra: ["Supported: 100rel"]), localTag: "bobtag",
                                                 localContact: bobContact).0
        _ = session.handle(.provisional(statusCode: 183, body: answerBody, reliable: true), now: sessionClock(0))
        var sub = Subscription(role: .subscriber, event: SIPEvent(package: "refer", parameters: SIPParameters([SIPParameter("id", "7")])),
                               requestedExpires: 60)
        // 8,000 rounds: each drives several machines, so this stays near 2 s in a debug build.
        for i in 0..<8_000 {
            var bytes = templates[i % templates.count]
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let pos = Int(rng.next() % UInt64(bytes.count))
                bytes[pos] = UInt8(truncatingIfNeeded: rng.next())
            }
            guard let m = try? SIPMessage(parsing: bytes) else { continue }
            parsedCount += 1
            var d = session.dialog
            _ = d?.receive(request: m)
            var copy = session
            _ = copy.handle(.request(m), now: sessionClock(Int64(i)))
            _ = copy.handle(.timer, now: sessionClock(Int64(i) * 10))
            _ = sub.receiveNotify(m, now: sessionClock(Int64(i)))
            _ = try? ReferSubscription(refer: m, now: sessionClock(0))
            _ = ReferSubscription.sipfragStatus(of: m)
            _ = DialogCapabilities().statelessResponse(to: m, toTag: "t")
            _ = SessionTimer.negotiateAsUAS(m, policy: SessionTimerPolicy())
        }
        #expect(parsedCount > 500)
    }
}
