import Foundation
import PBX
import SIPCore
import Store
import Testing

/// The forwarding chain: always / busy / no answer / unavailable rules, DND, the visited set and the hop limit.
@Suite struct ForwardingChainTests {
    /// A tiny directory: number → extension, plus which numbers are registered.
    struct Directory {
        var users: [String: DirectoryUser] = [:]
        var registered: Set<String> = []

        mutating func add(_ number: String, registered: Bool = true, _ forwarding: CallForwarding = CallForwarding()) {
            users[number] = DirectoryUser(number: number, isEnabled: true, ha1MD5: "", ha1SHA256: "", forwarding: forwarding)
            if registered { self.registered.insert(number) }
        }

        func lookup(_ n: String) -> DirectoryUser? { users[n] }
        func isRegistered(_ n: String) -> Bool { registered.contains(n) }
    }

    func start(_ d: Directory, caller: String = "100", dial: String, hopLimit: Int = 5) -> (ForwardingChain, ForwardingChain.Step) {
        var chain = ForwardingChain(caller: caller, hopLimit: hopLimit)
        let step = chain.start(number: dial, lookup: d.lookup, isRegistered: d.isRegistered)
        return (chain, step)
    }

    @Test func plainExtensionRingsAndUnknownIs404() {
        var d = Directory()
        d.add("200")
        #expect(start(d, dial: "200").1 == .ring(number: "200", forwarding: CallForwarding()))
        guard case .end(404, .notFound, _) = start(d, dial: "999").1 else { Issue.record("expected 404"); return }
    }

    @Test func forwardAlwaysAndUnavailableFollowTheRule() {
        var d = Directory()
        d.add("200", CallForwarding(always: .extension("300")))
        d.add("300", registered: false, CallForwarding(onUnavailable: .extension("400")))
        d.add("400")
        let (chain, step) = start(d, dial: "200")
        #expect(step == .ring(number: "400", forwarding: CallForwarding()))
        #expect(chain.tried.map(\.number) == ["200", "300", "400"])
        #expect(chain.tried.map(\.leftBecause) == [.always, .unavailable, nil])
        #expect(chain.hops == 2)
    }

    @Test func unregisteredWithoutRuleIs480AndVoicemailIsNotServedYet() {
        var d = Directory()
        d.add("200", registered: false)
        d.add("201", registered: false, CallForwarding(onUnavailable: .voicemail("201")))
        guard case .end(480, .unavailable, _) = start(d, dial: "200").1 else { Issue.record("expected 480"); return }
        guard case .end(480, .unavailable, _) = start(d, dial: "201").1 else { Issue.record("expected 480"); return }
    }

    @Test func doNotDisturbIsBusyOrGoesToTheBusyDestination() {
        var d = Directory()
        d.add("200", CallForwarding(doNotDisturb: true))
        d.add("201", CallForwarding(doNotDisturb: true, onBusy: .extension("202")))
        d.add("202")
        guard case .end(486, .busy, let warning) = start(d, dial: "200").1 else { Issue.record("expected 486"); return }
        #expect(warning == "do not disturb")
        #expect(start(d, dial: "201").1 == .ring(number: "202", forwarding: CallForwarding()))
    }

    @Test func busyAndNoAnswerFollowTheirRulesFromTheRingingTarget() {
        var d = Directory()
        d.add("200", CallForwarding(onBusy: .extension("300"), onNoAnswer: .extension("400"), noAnswerSeconds: 3))
        d.add("300")
        d.add("400")
        var (chain, step) = start(d, dial: "200")
        guard case .ring("200", let f) = step else { Issue.record("expected 200 to ring"); return }
        #expect(f.noAnswerSeconds == 3)
        let fallback = ForwardingChain.Step.end(status: 486, reason: .busy, warning: "")
        var busyChain = chain
        #expect(busyChain.next(after: .busy, current: d.users["200"]!, fallback: fallback, lookup: d.lookup,
                               isRegistered: d.isRegistered) == .ring(number: "300", forwarding: CallForwarding()))
        step = chain.next(after: .noAnswer, current: d.users["200"]!, fallback: fallback, lookup: d.lookup,
                          isRegistered: d.isRegistered)
        #expect(step == .ring(number: "400", forwarding: CallForwarding()))
        // 400 has no rules: when it does not answer either, the caller gets the fallback.
        step = chain.next(after: .noAnswer, current: d.users["400"]!, fallback: .end(status: 480, reason: .noAnswer, warning: ""),
                          lookup: d.lookup, isRegistered: d.isRegistered)
        #expect(step == .end(status: 480, reason: .noAnswer, warning: ""))
        #expect(chain.tried.map(\.number) == ["200", "400"])
    }

    /// The seeds' crash: two extensions forwarding to each other when busy. The chain ends with 482.
    @Test func twoExtensionsForwardingToEachOtherEndWith482() {
        var d = Directory()
        d.add("200", CallForwarding(onBusy: .extension("300")))
        d.add("300", CallForwarding(onBusy: .extension("200")))
        var (chain, step) = start(d, dial: "200")
        #expect(step == .ring(number: "200", forwarding: d.users["200"]!.forwarding))
        let busy = ForwardingChain.Step.end(status: 486, reason: .busy, warning: "")
        step = chain.next(after: .busy, current: d.users["200"]!, fallback: busy, lookup: d.lookup, isRegistered: d.isRegistered)
        #expect(step == .ring(number: "300", forwarding: d.users["300"]!.forwarding))
        step = chain.next(after: .busy, current: d.users["300"]!, fallback: busy, lookup: d.lookup, isRegistered: d.isRegistered)
        guard case .end(482, .forwardLoop, let warning) = step else { Issue.record("expected 482, got \(step)"); return }
        #expect(warning == "forwarding loop")
        #expect(chain.tried.map(\.number) == ["200", "300"])
    }

    @Test func alwaysRulesInACircleAndForwardsBackToTheCallerEnd() {
        var d = Directory()
        d.add("100")
        d.add("200", CallForwarding(always: .extension("300")))
        d.add("300", CallForwarding(always: .extension("200")))
        d.add("400", CallForwarding(always: .extension("100")))
        guard case .end(482, .forwardLoop, _) = start(d, dial: "200").1 else { Issue.record("expected 482"); return }
        guard case .end(482, .forwardLoop, _) = start(d, caller: "100", dial: "400").1 else { Issue.record("expected 482"); return }
    }

    @Test func longChainsStopAtTheHopLimitWith483() {
        var d = Directory()
        for i in 0..<10 { d.add(String(200 + i), CallForwarding(always: .extension(String(201 + i)))) }
        d.add("210")
        guard case .end(483, .forwardLoop, _) = start(d, dial: "200", hopLimit: 3).1 else { Issue.record("expected 483"); return }
        #expect(start(d, dial: "200", hopLimit: 10).1 == .ring(number: "210", forwarding: CallForwarding()))
    }

    @Test func storedDestinationsParse() {
        #expect(ForwardDestination(stored: "201") == .extension("201"))
        #expect(ForwardDestination(stored: "voicemail:201") == .voicemail("201"))
        #expect(ForwardDestination(stored: "") == nil && ForwardDestination(stored: nil) == nil)
        #expect(ForwardDestination(stored: "voicemail:") == nil)
        let f = CallForwarding(ExtensionCallFeatures(doNotDisturb: true, forwardOnBusy: "300", noAnswerSeconds: 9))
        #expect(f == CallForwarding(doNotDisturb: true, onBusy: .extension("300"), noAnswerSeconds: 9))
    }
}

/// Caller ID towards the callee: directory display name and outbound caller ID, P-Asserted-Identity, Privacy.
@Suite struct CallerIdentityTests {
    func invite(privacy: String?) throws -> SIPMessage {
        var text = "INVITE sip:200@t.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
            + "From: \"Phone\" <sip:100@t.example>;tag=a\r\nTo: <sip:200@t.example>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
            + "Max-Forwards: 70\r\n"
        if let privacy { text += "Privacy: \(privacy)\r\n" }
        text += "Content-Length: 0\r\n\r\n"
        return try SIPMessage(parsing: Array(text.utf8))
    }

    @Test func directoryNameAndOutboundCallerIDWithPAI() throws {
        let alice = DirectoryUser(number: "100", isEnabled: true, ha1MD5: "", ha1SHA256: "", displayName: "Alice Example")
        let id = CallerIdentity(caller: alice, domain: "t.example", offeredDisplayName: "Phone", privacy: false)
        #expect(id.from.displayName == "Alice Example" && id.from.uri.user == "100" && id.from.uri.host == "t.example")
        #expect(id.assertedIdentity?.uri.user == "100" && id.assertedIdentity?.displayName == "Alice Example")

        var bob = alice
        bob.displayName = ""
        bob.outboundCallerID = "5551234"
        let b = CallerIdentity(caller: bob, domain: "t.example", offeredDisplayName: "Phone", privacy: false)
        #expect(b.from.displayName == "Phone" && b.from.uri.user == "5551234")
        // The asserted identity stays the authenticated extension.
        #expect(b.assertedIdentity?.uri.user == "100")
    }

    @Test func privacyIDGivesAnAnonymousFromAndNoPAI() throws {
        #expect(CallerIdentity.requestsPrivacy(try invite(privacy: "id")))
        #expect(CallerIdentity.requestsPrivacy(try invite(privacy: "header;id")))
        #expect(!CallerIdentity.requestsPrivacy(try invite(privacy: "none")))
        #expect(!CallerIdentity.requestsPrivacy(try invite(privacy: nil)))
        let alice = DirectoryUser(number: "100", isEnabled: true, ha1MD5: "", ha1SHA256: "", displayName: "Alice")
        let id = CallerIdentity(caller: alice, domain: "t.example", offeredDisplayName: nil, privacy: true)
        #expect(id.from.uri.user == "anonymous" && id.from.uri.host == "anonymous.invalid")
        #expect(id.from.displayName == "Anonymous")
        #expect(id.assertedIdentity == nil)
        #expect(!id.from.description.contains("Alice") && !id.from.description.contains("100"))
    }
}
