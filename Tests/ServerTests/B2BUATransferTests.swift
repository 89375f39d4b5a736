import Foundation
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Call transfer through the real `tandem serve` between SIPp instances: A (extension 100, SIPp UAC) calls B
/// (200, SIPp UAS) and transfers it with REFER. Blind transfer to C (300, SIPp UAS): 202, NOTIFY 100 and 200
/// (sipfrag, checked by A's scenario, with NOTIFY 180 while C rings), C's INVITE carries B's identity and a Referred-By, B is re-INVITEd with
/// `a=sendrecv`, A's BYE ends only A's dialog, C's RTP is relayed to B and echoed back through the engine, C's
/// hang-up reaches B. A transfer to an unknown extension is reported as NOTIFY 404 and the A↔B call goes on.
/// After each scenario every media port is back (`tandem_media_worker_legs` is 0) and the CDR says so.
@Suite(.serialized) struct B2BUATransferTests {
    static let passwords = ["100": "transfer-a-100-secret", "200": "transfer-b-200-secret", "300": "transfer-c-300-secret"]
    let interop = B2BUAInteropTests()

    func startServer() async throws -> B2BUAInteropTests.Server {
        let data = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        do {
            let store = try TandemStore(directory: data)
            let tenant = try store.createTenant(name: "Transfers", domain: "127.0.0.1")
            for (number, password) in Self.passwords.sorted(by: { $0.key < $1.key }) {
                try store.createExtension(tenantID: tenant.id, number: number, sipPassword: password)
            }
        }
        // RTP ports from a random block of 31000-38999 (other suites use 30000-30099 at the same time).
        let base = Int.random(in: 310..<390) * 100
        let process = try TandemProcess(
            arguments: ["serve", "--data", data, "--rtp-ports", "\(base)-\(base + 99)", "--workers", "1"] + ephemeralListeners,
            environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1", "TANDEM_RING_TIMEOUT": "10"])
        let httpLine = await process.stdout.line(where: { $0.contains("HTTP listening on") }, within: 60)
        try #require(httpLine != nil, "server did not start: \(process.stderr.all)")
        func port(_ marker: String) -> Int? {
            process.stdout.all.split(separator: "\n").first { $0.contains(marker) }
                .flatMap { Int($0.split(separator: ":").last ?? "") }
        }
        return B2BUAInteropTests.Server(process: process, udp: try #require(port("SIP listening on udp ")),
                                        http: try #require(port("HTTP listening on")), data: data)
    }

    func register(_ server: B2BUAInteropTests.Server, _ number: String, from local: Int) async throws {
        let r = try await interop.sipp("register.xml", port: server.udp, local: local, service: number,
                                       extra: ["-au", number, "-ap", Self.passwords[number]!])
        try #require(r.status == 0 && r.successful == 1, "registration of \(number): \(r.output.suffix(1500))")
    }

    var transferor: [String] { ["-set", "caller", "100", "-au", "100", "-ap", Self.passwords["100"]!] }

    /// An even media port for a SIPp instance, picked at random (other tests run at the same time).
    func mediaPort() -> String { String(Int.random(in: 10_000..<14_000) * 2) }

    @Test func blindTransferConnectsTransfereeAndTargetThroughTheEngine() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        try await register(server, "300", from: cPort)
        async let transferee = interop.sipp("transfer-uas-transferee.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-rtp_echo", "-mp", mediaPort()], timeout: 30)
        async let target = interop.sipp("transfer-uas-target.xml", port: server.udp, local: cPort, service: "300",
                                        extra: ["-mp", mediaPort()], timeout: 30)
        // A's scenario also expects NOTIFY 180 between 100 and 200: C rings before it answers (RFC 5589 §6.1).
        let a = try await interop.sipp("transfer-blind-uac-ringing.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                       service: "200", extra: transferor + ["-set", "target", "300"], timeout: 30)
        let b = try await transferee
        let c = try await target
        let log = "\nserver: \(server.process.stdout.all.suffix(3000))\(server.process.stderr.all.suffix(2000))"
        #expect(a.status == 0 && a.successful == 1, "transferor: \(a.output.suffix(2500))\(log)")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "target: \(c.output.suffix(2500))")
        // C's pcap reached the engine on the leg that faced A, went to B and came back (B echoes).
        let received = try await interop.metric(server, "tandem_media_worker_packets_received")
        let sent = try await interop.metric(server, "tandem_media_worker_packets_sent")
        #expect(received > 40 && sent > 40, "engine packets in \(received), out \(sent)")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let records = try interop.records(server)
        #expect(records.count == 1, "\(records)")
        let cdr = try #require(records.first)
        #expect(cdr.caller == "100" && cdr.callee == "200" && cdr.endReason == .transferred, "\(cdr)")
        #expect(cdr.targets.count == 2 && cdr.targets.last?.contains(":\(cPort)") == true, "\(cdr.targets)")
        // The record names the transfer target and the parties connected at the end: C took A's caller slot.
        #expect(cdr.transferredTo == "300" && cdr.finalCaller == "300" && cdr.finalCallee == "200", "\(cdr)")
        #expect(server.process.stdout.all.contains("call transferred") || server.process.stderr.all.contains("call transferred"))
        await interop.stop(server)
    }

    @Test func blindTransferToUnknownExtensionIsReportedAndTheCallGoesOn() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        async let transferee = interop.sipp("transfer-uas-kept.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-mp", mediaPort()], timeout: 30)
        let a = try await interop.sipp("transfer-blind-uac-404.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                       service: "200", extra: transferor + ["-set", "target", "999"], timeout: 30)
        let b = try await transferee
        #expect(a.status == 0 && a.successful == 1, "transferor: \(a.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try interop.records(server).first)
        #expect(cdr.endReason == .normal && cdr.hungUpBy == .caller && cdr.targets.count == 1, "\(cdr)")
        await interop.stop(server)
    }

    @Test func attendedTransferJoinsTransfereeAndConsultedPartyInTandem() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        try await register(server, "300", from: cPort)
        async let transferee = interop.sipp("transfer-uas-transferee.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-rtp_echo", "-mp", mediaPort()], timeout: 30)
        async let consulted = interop.sipp("transfer-uas-consulted.xml", port: server.udp, local: cPort, service: "300",
                                           extra: ["-mp", mediaPort()], timeout: 30)
        // A needs two dialogs at once (SIPp runs one Call-ID per scenario): a small Python UAC plays it.
        let script = URL(fileURLWithPath: SIPInteropTests.sippDirectory).deletingLastPathComponent()
            .appendingPathComponent("transfer_attended_uac.py").path
        let (status, out, err) = try await runProcess("/usr/bin/python3",
            [script, "127.0.0.1", String(server.udp), "100", Self.passwords["100"]!, "200", "300"], within: 40)
        let b = try await transferee
        let c = try await consulted
        let log = "\nserver: \(server.process.stdout.all.suffix(3000))\(server.process.stderr.all.suffix(2000))"
        #expect(status == 0 && out.contains("OK"), "transferor: \(out)\(err)\(log)")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "consulted: \(c.output.suffix(2500))")
        let received = try await interop.metric(server, "tandem_media_worker_packets_received")
        let sent = try await interop.metric(server, "tandem_media_worker_packets_sent")
        #expect(received > 40 && sent > 40, "engine packets in \(received), out \(sent)")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        // Both calls' records: the consultation ended by the transfer, the joined call after C hung up.
        let records = try interop.records(server)
        #expect(records.count == 2 && records.allSatisfy { $0.endReason == .transferred }, "\(records)")
        await interop.stop(server)
    }

    @Test func inviteWithReplacesTakesOverTheNamedDialog() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        async let kept = interop.sipp("transfer-uas-kept.xml", port: server.udp, local: bPort, service: "200",
                                      extra: ["-mp", mediaPort()], timeout: 30)
        let script = URL(fileURLWithPath: SIPInteropTests.sippDirectory).deletingLastPathComponent()
            .appendingPathComponent("transfer_attended_uac.py").path
        // A (100) calls B; X (300) sends INVITE with Replaces naming A's dialog: X is answered, A gets BYE.
        let (status, out, err) = try await runProcess("/usr/bin/python3",
            [script, "127.0.0.1", String(server.udp), "100", Self.passwords["100"]!, "replaces", "200",
             "300", Self.passwords["300"]!], within: 40)
        let b = try await kept
        #expect(status == 0 && out.contains("OK"), "A and X: \(out)\(err)\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(b.status == 0 && b.successful == 1, "B: \(b.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let records = try interop.records(server)
        #expect(records.count == 1 && records.first?.endReason == .transferred, "\(records)")
        await interop.stop(server)
    }

    @Test func blindTransferToABusyTargetIsReportedAndTheCallGoesOn() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        try await register(server, "300", from: cPort)
        async let transferee = interop.sipp("transfer-uas-kept.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-mp", mediaPort()], timeout: 30)
        async let busy = interop.sipp("transfer-uas-busy.xml", port: server.udp, local: cPort, service: "300", timeout: 30)
        let a = try await interop.sipp("transfer-blind-uac-486.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                       service: "200", extra: transferor + ["-set", "target", "300"], timeout: 30)
        let b = try await transferee
        let c = try await busy
        #expect(a.status == 0 && a.successful == 1, "transferor: \(a.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "busy target: \(c.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try interop.records(server).first)
        // The A↔B call went on and ended normally; the target tried is on the record.
        #expect(cdr.endReason == .normal && cdr.hungUpBy == .caller && cdr.targets.count == 2, "\(cdr)")
        await interop.stop(server)
    }

    @Test func transferorHangingUpRightAfterTheReferDoesNotStopTheTransfer() async throws {
        let server = try await startServer()
        let bPort = SIPInteropTests.freePort(udp: true)
        let cPort = SIPInteropTests.freePort(udp: true)
        try await register(server, "200", from: bPort)
        try await register(server, "300", from: cPort)
        async let transferee = interop.sipp("transfer-uas-transferee.xml", port: server.udp, local: bPort, service: "200",
                                            extra: ["-rtp_echo", "-mp", mediaPort()], timeout: 30)
        async let target = interop.sipp("transfer-uas-target-late.xml", port: server.udp, local: cPort, service: "300",
                                        extra: ["-mp", mediaPort()], timeout: 30)
        let a = try await interop.sipp("transfer-blind-uac-early-bye.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                       service: "200", extra: transferor + ["-set", "target", "300"], timeout: 30)
        let b = try await transferee
        let c = try await target
        #expect(a.status == 0 && a.successful == 1, "transferor: \(a.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(b.status == 0 && b.successful == 1, "transferee: \(b.output.suffix(2500))")
        #expect(c.status == 0 && c.successful == 1, "target: \(c.output.suffix(2500))")
        #expect(try await interop.openLegsAfterSettling(server) == 0)
        let cdr = try #require(try interop.records(server).first)
        #expect(cdr.endReason == .transferred, "\(cdr)")
        await interop.stop(server)
    }

    @Test func referOutsideADialogIsForbidden() async throws {
        let server = try await startServer()
        let r = try await interop.sipp("transfer-refer-outside-dialog.xml", port: server.udp,
                                       local: SIPInteropTests.freePort(udp: true), service: "200")
        #expect(r.status == 0 && r.successful == 1, "\(r.output.suffix(2000))")
        #expect(try interop.records(server).isEmpty)
        await interop.stop(server)
    }
}
