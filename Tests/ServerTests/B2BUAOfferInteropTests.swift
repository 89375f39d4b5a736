import Foundation
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Offers and timers of B2BUA calls through the real `tandem serve` between SIPp instances: late offers (INVITE
/// without SDP; the ACK's answer applied, or the call hung up when it is missing or unusable), SDES-SRTP callers
/// terminated on their leg (Tandem's own key, the callee offered plain RTP) and DTLS-SRTP refused with 488 and a
/// Warning, RFC 4028 session refreshes and expiry with short intervals (`session_timer` 4/2), and the media
/// timeout while ringing or in early media (ignored; it counts from the answer). After every scenario every
/// media port is back; each call leaves one CDR.
@Suite(.serialized) struct B2BUAOfferInteropTests {
    let feature = B2BUAFeatureInteropTests()
    var base: B2BUAInteropTests { feature.base }

    func startServer(environment: [String: String] = [:]) async throws -> B2BUAInteropTests.Server {
        try await feature.startServer(environment: environment) { store in
            let t = try store.createTenant(name: "Calls", domain: "127.0.0.1")
            for n in ["100", "200"] { try store.createExtension(tenantID: t.id, number: n, sipPassword: feature.password(n)) }
            return ["calls": t]
        }.server
    }

    func sipp(_ server: B2BUAInteropTests.Server, _ scenario: String, local: Int, extra: [String] = [])
        async throws -> (status: Int32?, successful: Int, failed: Int, output: String) {
        try await feature.sipp(scenario, port: server.udp, local: local, service: "200", extra: extra)
    }

    @Test func sessionTimerSettingIsParsedAndChecked() async throws {
        let configuration = ConfigurationTests()
        #expect(try await configuration.effective([])["session_timer"] as? String == "120/90")
        #expect(try await configuration.effective([], env: ["TANDEM_SESSION_TIMER": "4/2"])["session_timer"] as? String == "4/2")
        #expect(try await configuration.effective([], env: ["TANDEM_SESSION_TIMER": "1800"])["session_timer"] as? String == "1800/90")
        #expect(try await configuration.effective([], env: ["TANDEM_SESSION_TIMER": "off"])["session_timer"] as? String == "off")
        for bad in ["5/9", "x", "0", "4/2/1"] {
            let (status, _, err) = try await runTandem(["config"], environment: ["TANDEM_SESSION_TIMER": bad])
            #expect(status != 0 && err.contains("session_timer"), "\(bad): \(err)")
        }
    }

    @Test func lateOfferIsAnsweredInTheACKAndMissingOrBadAnswersHangUp() async throws {
        let server = try await startServer()
        let p200 = SIPInteropTests.freePort(udp: true), callerPort = SIPInteropTests.freePort(udp: true)
        try await feature.register(server, "200", password: feature.password("200"), local: p200)

        // INVITE without SDP: the callee gets Tandem's offer, the caller Tandem's offer in the 200 and answers in
        // the ACK; the pcap's RTP goes caller → engine → callee (echo) → engine → caller.
        async let echo = sipp(server, "b2bua-uas.xml", local: p200, extra: ["-rtp_echo"])
        let late = try await sipp(server, "b2bua-uac-late-offer.xml", local: callerPort, extra: feature.caller)
        #expect(late.status == 0 && late.successful == 1,
                "caller: \(late.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
        let callee = try await echo
        #expect(callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        let received = try await base.metric(server, "tandem_media_worker_packets_received")
        let sent = try await base.metric(server, "tandem_media_worker_packets_sent")
        #expect(received > 20 && sent > 20, "engine packets in \(received), out \(sent)")
        try await feature.expectAllPortsBack(server, "late offer")

        // The ACK carries no answer, or one with a codec never offered: BYE to both sides.
        for scenario in ["b2bua-uac-late-offer-no-answer.xml", "b2bua-uac-late-offer-bad-answer.xml"] {
            async let uas = sipp(server, "b2bua-uas.xml", local: p200)
            let uac = try await sipp(server, scenario, local: callerPort, extra: feature.caller)
            #expect(uac.status == 0 && uac.successful == 1,
                    "\(scenario): \(uac.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
            let hungUp = try await uas
            #expect(hungUp.successful == 1, "callee of \(scenario): \(hungUp.output.suffix(2500))")
            try await feature.expectAllPortsBack(server, scenario)
        }

        let records = try base.records(server)
        #expect(records.count == 3)
        #expect(records.filter { $0.endReason == .normal && $0.hungUpBy == .caller && $0.callerCodec == "PCMA/8000"
                                 && $0.calleeCodec == "PCMA/8000" && !$0.transcoded }.count == 1, "\(records)")
        #expect(records.filter { $0.endReason == .incompatibleMedia && $0.hungUpBy == .system && $0.answeredAt != nil }.count == 2,
                "\(records.map(\.endReason))")
        await base.stop(server)
    }

    @Test func srtpCallerIsTerminatedOnItsLegAndDTLSIsRefused() async throws {
        let server = try await startServer()
        let p200 = SIPInteropTests.freePort(udp: true), callerPort = SIPInteropTests.freePort(udp: true)
        try await feature.register(server, "200", password: feature.password("200"), local: p200)

        for suite in ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"] {
            // The caller offers SAVP with its key and gets SAVP with Tandem's; the callee sees plain RTP/AVP.
            let droppedBefore = try await base.metric(server, "tandem_media_worker_packets_dropped")
            async let plain = sipp(server, "b2bua-uas-plain-rtp.xml", local: p200)
            let srtp = try await sipp(server, "b2bua-uac-srtp.xml", local: callerPort, extra: feature.caller + ["-set", "suite", suite])
            #expect(srtp.status == 0 && srtp.successful == 1,
                    "\(suite) caller: \(srtp.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
            let callee = try await plain
            #expect(callee.successful == 1, "\(suite) callee: \(callee.output.suffix(2500))")
            // The caller then sent plain RTP: its leg expects SRTP under the caller's key, so the engine drops it.
            let dropped = try await base.metric(server, "tandem_media_worker_packets_dropped") - droppedBefore
            #expect(dropped > 20, "\(suite): \(dropped) packets dropped on the SRTP leg")
            try await feature.expectAllPortsBack(server, "SRTP \(suite)")
        }

        // DTLS-SRTP (fingerprint, no crypto): 488 with a Warning, nothing allocated.
        let dtls = try await sipp(server, "b2bua-uac-dtls-488.xml", local: callerPort, extra: feature.caller)
        #expect(dtls.status == 0 && dtls.successful == 1, "dtls: \(dtls.output.suffix(2500))")
        try await feature.expectAllPortsBack(server, "DTLS 488")

        let records = try base.records(server)
        #expect(records.count == 3)
        #expect(records.filter { $0.endReason == .normal && $0.answeredAt != nil }.count == 2, "\(records.map(\.endReason))")
        #expect(records.contains { $0.endReason == .incompatibleMedia && $0.sipStatus == 488 })
        await base.stop(server)
    }

    @Test func sessionRefreshKeepsTheCallAndAMissedRefreshEndsIt() async throws {
        let server = try await startServer(environment: ["TANDEM_SESSION_TIMER": "4/2"])
        let p200 = SIPInteropTests.freePort(udp: true), callerPort = SIPInteropTests.freePort(udp: true)
        try await feature.register(server, "200", password: feature.password("200"), local: p200)

        // Tandem refreshes the caller (4 s, refresher=uas) twice and the callee (6 s, refresher=uac) once; the
        // call outlives both intervals and ends with the caller's BYE.
        async let refreshedCallee = sipp(server, "b2bua-uas-session-refresh.xml", local: p200)
        let refreshed = try await sipp(server, "b2bua-uac-session-refresh.xml", local: callerPort, extra: feature.caller)
        #expect(refreshed.status == 0 && refreshed.successful == 1,
                "caller: \(refreshed.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
        let callee = try await refreshedCallee
        #expect(callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        try await feature.expectAllPortsBack(server, "session refresh")

        // The callee is the refresher (3 s) and never refreshes: at expiry Tandem sends BYE to both sides.
        async let silentCallee = sipp(server, "b2bua-uas-session-expire.xml", local: p200)
        let waiting = try await sipp(server, "b2bua-uac-wait-bye.xml", local: callerPort, extra: feature.caller)
        #expect(waiting.status == 0 && waiting.successful == 1,
                "caller: \(waiting.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
        let expired = try await silentCallee
        #expect(expired.successful == 1, "callee: \(expired.output.suffix(2500))")
        try await feature.expectAllPortsBack(server, "session expiry")

        let records = try base.records(server)
        #expect(records.count == 2)
        let normal = try #require(records.first { $0.endReason == .normal })
        #expect(normal.hungUpBy == .caller && normal.durationSeconds >= 3, "\(normal)")
        let timedOut = try #require(records.first { $0.endReason == .sessionExpired }, "\(records.map(\.endReason))")
        #expect(timedOut.hungUpBy == .system && timedOut.answeredAt != nil)
        await base.stop(server)
    }

    @Test func mediaTimeoutWhileRingingIsIgnoredAndCountsFromTheAnswer() async throws {
        let server = try await startServer(environment: ["TANDEM_MEDIA_TIMEOUT": "1"])
        let p200 = SIPInteropTests.freePort(udp: true), callerPort = SIPInteropTests.freePort(udp: true)
        try await feature.register(server, "200", password: feature.password("200"), local: p200)

        // Ringing (no early media) and then early media without RTP, each 2.5 s, longer than the 1 s timeout: the
        // call is still answered; nobody sends RTP afterwards, so the timeout then ends it (BYE to both). Had the
        // timeout fired for good while ringing, the answered call would never time out and the caller would wait
        // in vain.
        for scenario in ["b2bua-uas-slow-answer.xml", "b2bua-uas-early-slow-answer.xml"] {
            async let slow = sipp(server, scenario, local: p200)
            let waiting = try await sipp(server, "b2bua-uac-wait-bye.xml", local: callerPort, extra: feature.caller)
            #expect(waiting.status == 0 && waiting.successful == 1,
                    "\(scenario) caller: \(waiting.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
            let callee = try await slow
            #expect(callee.successful == 1, "\(scenario) callee: \(callee.output.suffix(2500))")
            try await feature.expectAllPortsBack(server, scenario)
        }
        let records = try base.records(server)
        #expect(records.count == 2)
        for r in records {
            #expect(r.endReason == .mediaTimeout && r.hungUpBy == .system, "\(r)")
            let answered = try #require(r.answeredAt)
            #expect(answered.timeIntervalSince(r.startedAt) >= 2, "answered after \(answered.timeIntervalSince(r.startedAt)) s")
            #expect(r.endedAt.timeIntervalSince(answered) >= 0.5, "ended \(r.endedAt.timeIntervalSince(answered)) s after the answer")
        }
        await base.stop(server)
    }
}
