import Foundation
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Call-manager features through the real `tandem serve` between SIPp instances (callees register with SIPp
/// `register.xml`, then a SIPp UAS plays them from the same port; callers answer the 407): forward on no answer,
/// forwarding loops (two extensions forwarding to each other when busy), do-not-disturb, BYE from the callee with
/// caller ID from the directory (display name, P-Asserted-Identity), Privacy: id, hold/unhold, 422 below Min-SE, the tenant's simultaneous-call
/// limit, media-timeout hang-up, and two tenants with the same extension number. After every scenario every media
/// port is back (`tandem_media_worker_legs` and `_sessions` are 0); each call leaves one CDR.
@Suite(.serialized) struct B2BUAFeatureInteropTests {
    let base = B2BUAInteropTests()

    struct Seeded {
        let server: B2BUAInteropTests.Server
        let tenants: [String: Tenant]
    }

    /// Starts a server on a random RTP range in 30100-39999 (the scenarios check the 3xxxx ports), after `seed`.
    func startServer(environment: [String: String] = [:], seed: (TandemStore) throws -> [String: Tenant]) async throws -> Seeded {
        let data = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let tenants = try seed(try TandemStore(directory: data))
        let first = 30100 + 100 * Int.random(in: 0..<99)
        let process = try TandemProcess(
            arguments: ["serve", "--data", data, "--rtp-ports", "\(first)-\(first + 99)", "--workers", "1"] + ephemeralListeners,
            environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1"].merging(environment) { $1 })
        let httpLine = await process.stdout.line(where: { $0.contains("HTTP listening on") }, within: 60)
        try #require(httpLine != nil, "server did not start: \(process.stderr.all)")
        func port(_ marker: String) -> Int? {
            process.stdout.all.split(separator: "\n").first { $0.contains(marker) }
                .flatMap { Int($0.split(separator: ":").last ?? "") }
        }
        let server = B2BUAInteropTests.Server(process: process, udp: try #require(port("SIP listening on udp ")),
                                              http: try #require(port("HTTP listening on")), data: data)
        return Seeded(server: server, tenants: tenants)
    }

    func register(_ server: B2BUAInteropTests.Server, _ number: String, password: String, local: Int,
                  domain: String? = nil) async throws {
        let scenario = domain == nil ? "register.xml" : "register-domain.xml"
        let r = try await base.sipp(scenario, port: server.udp, local: local, service: number,
                                    extra: ["-au", number, "-ap", password] + (domain.map { ["-set", "domain", $0] } ?? []))
        try #require(r.status == 0 && r.successful == 1, "registration of \(number): \(r.output.suffix(1500))")
    }

    /// Every media leg and session closed (bounded wait on the engine's gauges).
    func expectAllPortsBack(_ server: B2BUAInteropTests.Server, _ context: String) async throws {
        #expect(try await base.openLegsAfterSettling(server) == 0, "legs left open after \(context)")
        #expect(try await base.metric(server, "tandem_media_worker_sessions") == 0, "sessions left after \(context)")
    }

    /// Runs a SIPp scenario with its own media port (two SIPp instances on one host must not share one).
    func sipp(_ scenario: String, port: Int, local: Int, service: String, extra: [String] = [])
        async throws -> (status: Int32?, successful: Int, failed: Int, output: String) {
        try await base.sipp(scenario, port: port, local: local, service: service,
                            extra: extra + ["-mp", String(Self.freeMediaPort())])
    }

    /// An even UDP port below the ephemeral range whose next three ports are free too (SIPp binds audio RTP/RTCP
    /// at the port and video at +2/+3), found by binding them.
    static func freeMediaPort() -> Int {
        func free(_ port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            return withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }
        for _ in 0..<200 {
            let port = 2 * Int.random(in: 8000..<14_990)
            if (port..<port + 4).allSatisfy(free) { return port }
        }
        return 2 * Int.random(in: 8000..<14_990)
    }

    func password(_ number: String) -> String { "secret-of-\(number)-x" }

    var caller: [String] { ["-set", "caller", "100", "-au", "100", "-ap", password("100")] }

    @Test func forwardOnNoAnswerForwardingLoopAndDoNotDisturb() async throws {
        let seeded = try await startServer { store in
            let t = try store.createTenant(name: "Calls", domain: "127.0.0.1")
            for n in ["100", "201", "300", "400"] { try store.createExtension(tenantID: t.id, number: n, sipPassword: password(n)) }
            try store.createExtension(tenantID: t.id, number: "200", sipPassword: password("200"), settings: ExtensionSettings(
                callFeatures: ExtensionCallFeatures(forwardOnNoAnswer: "201", noAnswerSeconds: 1)))
            let e300 = try #require(try store.extensionRecord(tenantID: t.id, number: "300"))
            let e400 = try #require(try store.extensionRecord(tenantID: t.id, number: "400"))
            try store.setCallFeatures(extensionID: e300.id, ExtensionCallFeatures(forwardOnBusy: "400"))
            try store.setCallFeatures(extensionID: e400.id, ExtensionCallFeatures(forwardOnBusy: "300"))
            try store.createExtension(tenantID: t.id, number: "500", sipPassword: password("500"), settings: ExtensionSettings(
                callFeatures: ExtensionCallFeatures(doNotDisturb: true)))
            return ["calls": t]
        }
        let server = seeded.server
        let callerPort = SIPInteropTests.freePort(udp: true)

        // Forward on no answer: 200 rings for its own 1 s, then the call goes to 201, which answers.
        let p200 = SIPInteropTests.freePort(udp: true), p201 = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", password: password("200"), local: p200)
        try await register(server, "201", password: password("201"), local: p201)
        async let ringing = sipp("b2bua-uas-ring.xml", port: server.udp, local: p200, service: "200")
        async let answering = sipp("b2bua-uas.xml", port: server.udp, local: p201, service: "201", extra: ["-rtp_echo"])
        let forwarded = try await sipp("b2bua-uac.xml", port: server.udp, local: callerPort, service: "200",
                                            extra: caller)
        #expect(forwarded.status == 0 && forwarded.successful == 1,
                "caller: \(forwarded.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(try await ringing.successful == 1)
        #expect(try await answering.successful == 1)
        try await expectAllPortsBack(server, "forward on no answer")

        // 300 and 400 forward to each other when busy, and both are busy: 482, never a loop.
        let p300 = SIPInteropTests.freePort(udp: true), p400 = SIPInteropTests.freePort(udp: true)
        try await register(server, "300", password: password("300"), local: p300)
        try await register(server, "400", password: password("400"), local: p400)
        async let busy300 = sipp("b2bua-uas-busy.xml", port: server.udp, local: p300, service: "300")
        async let busy400 = sipp("b2bua-uas-busy.xml", port: server.udp, local: p400, service: "400")
        let loop = try await sipp("b2bua-uac-482.xml", port: server.udp, local: callerPort, service: "300", extra: caller)
        #expect(loop.successful == 1, "loop: \(loop.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(try await busy300.successful == 1)
        #expect(try await busy400.successful == 1)
        try await expectAllPortsBack(server, "forwarding loop")

        // DND without a busy destination: 486 at once, nothing rings (500 is not even registered).
        let dnd = try await sipp("b2bua-uac-486.xml", port: server.udp, local: callerPort, service: "500", extra: caller)
        #expect(dnd.successful == 1, "dnd: \(dnd.output.suffix(2000))")
        try await expectAllPortsBack(server, "do not disturb")

        // Session timers: a Session-Expires below Tandem's Min-SE of 90 s gets 422 with Min-SE (RFC 4028).
        let short = try await sipp("b2bua-uac-422.xml", port: server.udp, local: callerPort, service: "201", extra: caller)
        #expect(short.successful == 1, "422: \(short.output.suffix(2000))")
        try await expectAllPortsBack(server, "422")

        let records = try base.records(server)
        #expect(records.count == 3)
        let fwd = try #require(records.first { $0.callee == "200" })
        #expect(fwd.endReason == .normal && fwd.answeredAt != nil)
        #expect(fwd.targets.count == 2 && fwd.targets[0].hasPrefix("200 sip:") && fwd.targets[1].hasPrefix("201 sip:"), "\(fwd.targets)")
        let looped = try #require(records.first { $0.callee == "300" })
        #expect(looped.endReason == .forwardLoop && looped.sipStatus == 482)
        #expect(looped.targets.map { String($0.prefix(3)) } == ["300", "400"], "\(looped.targets)")
        let busy = try #require(records.first { $0.callee == "500" })
        #expect(busy.endReason == .busy && busy.sipStatus == 486 && busy.targets == ["500"])
        await base.stop(server)
    }

    @Test func calleeHangsUpWithDirectoryCallerIDHoldUnholdAndPrivacy() async throws {
        let seeded = try await startServer { store in
            let t = try store.createTenant(name: "Calls", domain: "127.0.0.1")
            try store.createExtension(tenantID: t.id, number: "100", sipPassword: password("100"),
                                      settings: ExtensionSettings(displayName: "Alice Example"))
            try store.createExtension(tenantID: t.id, number: "200", sipPassword: password("200"))
            return ["calls": t]
        }
        let server = seeded.server
        let callerPort = SIPInteropTests.freePort(udp: true), p200 = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", password: password("200"), local: p200)

        // The callee hangs up after 3 s; its INVITE showed the directory's caller ID and a PAI.
        async let calleeBye = sipp("b2bua-uas-callee-bye.xml", port: server.udp, local: p200, service: "200")
        let waited = try await sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: callerPort, service: "200",
                                         extra: caller)
        #expect(waited.status == 0 && waited.successful == 1,
                "caller: \(waited.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(3000))")
        let callee = try await calleeBye
        #expect(callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        try await expectAllPortsBack(server, "BYE from the callee")

        // Hold and unhold from the caller, relayed as re-INVITEs with the directions rewritten.
        async let holdUAS = sipp("b2bua-uas-hold.xml", port: server.udp, local: p200, service: "200")
        let hold = try await sipp("b2bua-uac-hold.xml", port: server.udp, local: callerPort, service: "200", extra: caller)
        #expect(hold.status == 0 && hold.successful == 1,
                "caller: \(hold.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
        let holdCallee = try await holdUAS
        #expect(holdCallee.successful == 1, "callee: \(holdCallee.output.suffix(2500))")
        try await expectAllPortsBack(server, "hold/unhold")

        // Privacy: id from the caller: the callee sees an anonymous From and no P-Asserted-Identity.
        async let anonymousUAS = sipp("b2bua-uas-anonymous.xml", port: server.udp, local: p200, service: "200", extra: ["-rtp_echo"])
        let privateCall = try await sipp("b2bua-uac-privacy.xml", port: server.udp, local: callerPort, service: "200", extra: caller)
        #expect(privateCall.status == 0 && privateCall.successful == 1, "caller: \(privateCall.output.suffix(2000))")
        let anonymous = try await anonymousUAS
        #expect(anonymous.successful == 1, "callee: \(anonymous.output.suffix(2500))")
        try await expectAllPortsBack(server, "privacy")

        let records = try base.records(server)
        #expect(records.count == 3)
        #expect(records.contains { $0.hungUpBy == .callee && $0.endReason == .normal })
        #expect(records.contains { $0.hungUpBy == .caller && $0.endReason == .normal })
        await base.stop(server)
    }

    @Test func callOverTheTenantLimitIsRefusedWith503() async throws {
        let seeded = try await startServer { store in
            let t = try store.createTenant(name: "Small", domain: "127.0.0.1", maxConcurrentCalls: 1)
            try store.createExtension(tenantID: t.id, number: "100", sipPassword: password("100"),
                                      settings: ExtensionSettings(displayName: "Alice Example"))
            try store.createExtension(tenantID: t.id, number: "200", sipPassword: password("200"))
            return ["small": t]
        }
        let server = seeded.server
        let p200 = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", password: password("200"), local: p200)
        // The first call is up (the callee hangs up after 3 s)...
        async let calleeBye = sipp("b2bua-uas-callee-bye.xml", port: server.udp, local: p200, service: "200")
        async let first = sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                    service: "200", extra: caller)
        let answered = await server.process.stderr.line(where: { $0.contains("call answered") }, within: 20)
        try #require(answered != nil, "first call not answered: \(server.process.stderr.all.suffix(3000))")
        // ...so the second is over the limit of 1.
        let second = try await sipp("b2bua-uac-503.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                         service: "200", extra: caller)
        #expect(second.successful == 1, "second: \(second.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(try await first.successful == 1)
        #expect(try await calleeBye.successful == 1)
        try await expectAllPortsBack(server, "tenant limit")
        let records = try base.records(server)
        #expect(records.count == 2)
        #expect(records.contains { $0.endReason == .callLimit && $0.sipStatus == 503 && $0.targets.isEmpty })
        #expect(records.contains { $0.endReason == .normal && $0.hungUpBy == .callee })
        await base.stop(server)
    }

    @Test func mediaTimeoutHangsUpBothSides() async throws {
        let seeded = try await startServer(environment: ["TANDEM_MEDIA_TIMEOUT": "1.5"]) { store in
            let t = try store.createTenant(name: "Calls", domain: "127.0.0.1")
            for n in ["100", "200"] { try store.createExtension(tenantID: t.id, number: n, sipPassword: password(n)) }
            return ["calls": t]
        }
        let server = seeded.server
        let p200 = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", password: password("200"), local: p200)
        // Nobody sends RTP: after 1.5 s Tandem sends BYE to both (b2bua-uas.xml and the caller both wait for one).
        async let callee = sipp("b2bua-uas.xml", port: server.udp, local: p200, service: "200")
        let callerResult = try await sipp("b2bua-uac-wait-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                               service: "200", extra: caller)
        #expect(callerResult.successful == 1, "caller: \(callerResult.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(try await callee.successful == 1)
        try await expectAllPortsBack(server, "media timeout")
        let record = try #require(try base.records(server).first)
        #expect(record.endReason == .mediaTimeout && record.hungUpBy == .system && record.answeredAt != nil)
        await base.stop(server)
    }

    @Test func sameNumberInTwoTenantsReachesTheCallersTenant() async throws {
        let seeded = try await startServer { store in
            let a = try store.createTenant(name: "A", domain: "127.0.0.1")
            let b = try store.createTenant(name: "B", domain: "tenant-b.test")
            for t in [a, b] {
                for n in ["100", "200"] { try store.createExtension(tenantID: t.id, number: n, sipPassword: password(n) + t.name) }
            }
            return ["a": a, "b": b]
        }
        let server = seeded.server
        let b = try #require(seeded.tenants["b"])
        // Both tenants' 200 register, from different ports; only B's answers (A's port has nobody listening).
        let pA = SIPInteropTests.freePort(udp: true), pB = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", password: password("200") + "A", local: pA)
        try await register(server, "200", password: password("200") + "B", local: pB, domain: "tenant-b.test")
        async let calleeB = sipp("b2bua-uas.xml", port: server.udp, local: pB, service: "200", extra: ["-rtp_echo"])
        let call = try await sipp("b2bua-uac-domain.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                       service: "200",
                                       extra: ["-set", "caller", "100", "-set", "domain", "tenant-b.test", "-au", "100",
                                               "-ap", password("100") + "B"])
        #expect(call.status == 0 && call.successful == 1, "caller: \(call.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(try await calleeB.successful == 1)
        try await expectAllPortsBack(server, "two tenants")
        let record = try #require(try base.records(server).first)
        #expect(record.tenantID == b.id && record.endReason == .normal)
        #expect(record.targets.count == 1 && record.targets[0].contains(":\(pB)"), "\(record.targets)")
        await base.stop(server)
    }
}
