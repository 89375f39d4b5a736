import Foundation
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Calls through the real `tandem serve` between SIPp instances: extension 200 registers (SIPp `register.xml`)
/// and is then played by a SIPp UAS on the same port; extension 100 calls it with a SIPp UAC that answers the
/// 407. Checked: the call flows (auth, 180, 200, ACK, BYE), both sides' SDP point at Tandem's RTP ports (SIPp
/// fails the call otherwise), RTP is relayed through the engine (its packet counters), busy, CANCEL, no answer,
/// unknown and unregistered extensions, a CDR per call in the store, and that every media port is back after
/// each scenario (`tandem_media_worker_legs` is 0).
@Suite(.serialized) struct B2BUAInteropTests {
    static let callerPassword = "caller-100-secret"
    static let calleePassword = "callee-200-secret"

    struct Server {
        let process: TandemProcess
        let udp: Int
        let http: Int
        let data: String
    }

    func startServer(ringTimeout: String = "30") async throws -> Server {
        let data = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        do {
            let store = try TandemStore(directory: data)
            let tenant = try store.createTenant(name: "Calls", domain: "127.0.0.1")
            try store.createExtension(tenantID: tenant.id, number: "100", sipPassword: Self.callerPassword)
            try store.createExtension(tenantID: tenant.id, number: "200", sipPassword: Self.calleePassword)
            try store.createExtension(tenantID: tenant.id, number: "300", sipPassword: "never-registers-300")
        }
        let process = try TandemProcess(
            arguments: ["serve", "--data", data, "--rtp-ports", "30000-30099", "--workers", "1"] + ephemeralListeners,
            environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1", "TANDEM_RING_TIMEOUT": ringTimeout])
        let httpLine = await process.stdout.line(where: { $0.contains("HTTP listening on") }, within: 60)
        try #require(httpLine != nil, "server did not start: \(process.stderr.all)")
        func port(_ marker: String) -> Int? {
            process.stdout.all.split(separator: "\n").first { $0.contains(marker) }
                .flatMap { Int($0.split(separator: ":").last ?? "") }
        }
        return Server(process: process, udp: try #require(port("SIP listening on udp ")),
                      http: try #require(port("HTTP listening on")), data: data)
    }

    func sipp(_ scenario: String, port: Int, local: Int, service: String, extra: [String] = [],
              timeout: Int = 20) async throws -> (status: Int32?, successful: Int, failed: Int, output: String) {
        let sipp = try #require(SIPInteropTests.sippPath(), "SIPp is not installed (Debian package sip-tester)")
        let args = ["-sf", SIPInteropTests.sippDirectory + "/" + scenario, "-t", "u1", "-m", "1", "-i", "127.0.0.1",
                    "-p", String(local), "-nostdin", "-timeout", String(timeout), "-timeout_error", "-max_recv_loops", "1000",
                    "-s", service] + extra + ["127.0.0.1:\(port)"]
        let (status, out, err) = try await runProcess(sipp, args, within: Double(timeout + 6))
        let c = SIPInteropTests().counts(out + err)
        return (status, c.successful, c.failed, out + err)
    }

    /// Registers extension 200 from `local` (the port its UAS will then use).
    func registerCallee(_ server: Server, local: Int) async throws {
        let r = try await sipp("register.xml", port: server.udp, local: local, service: "200",
                               extra: ["-au", "200", "-ap", Self.calleePassword])
        try #require(r.status == 0 && r.successful == 1, "callee registration: \(r.output.suffix(1500))")
    }

    /// The caller's arguments: extension 100 with its password.
    var caller: [String] { ["-set", "caller", "100", "-au", "100", "-ap", Self.callerPassword] }

    /// Sum of a per-worker gauge in /metrics.
    func metric(_ server: Server, _ name: String) async throws -> Int {
        let (_, body, _) = try await httpGet("http://127.0.0.1:\(server.http)/metrics")
        return body.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0) { $0 + Int($1) }
    }

    /// Waits (bounded, polling the metric) until every media leg is closed; returns the legs still open.
    func openLegsAfterSettling(_ server: Server) async throws -> Int {
        var legs = -1
        for _ in 0..<50 {
            legs = try await metric(server, "tandem_media_worker_legs")
            if legs == 0 { return 0 }
            try await Task.sleep(for: .milliseconds(100))
        }
        return legs
    }

    func records(_ server: Server) throws -> [CallDetailRecord] {
        try TandemStore(directory: server.data).callRecords()
    }

    func stop(_ server: Server) async {
        server.process.signal(SIGTERM)
        _ = await server.process.waitForExit()
        try? FileManager.default.removeItem(atPath: server.data)
    }

    @Test func answeredCallRelaysMediaThroughTheEngineAndWritesACDR() async throws {
        let server = try await startServer()
        let calleePort = SIPInteropTests.freePort(udp: true)
        try await registerCallee(server, local: calleePort)
        async let uas = sipp("b2bua-uas.xml", port: server.udp, local: calleePort, service: "200",
                             extra: ["-rtp_echo", "-mp", "16100"])
        let uac = try await sipp("b2bua-uac.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true), service: "200",
                                 extra: caller + ["-mp", "16000"])
        let callee = try await uas
        #expect(uac.status == 0 && uac.successful == 1, "caller: \(uac.output.suffix(2500))\nserver: \(server.process.stderr.all.suffix(3000))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        // The pcap's RTP reached the engine and was relayed (and echoed back through it).
        let received = try await metric(server, "tandem_media_worker_packets_received")
        let sent = try await metric(server, "tandem_media_worker_packets_sent")
        #expect(received > 20 && sent > 20, "engine packets in \(received), out \(sent)")
        #expect(try await openLegsAfterSettling(server) == 0)
        let cdr = try #require(try records(server).first)
        #expect(cdr.caller == "100" && cdr.callee == "200" && cdr.endReason == .normal && cdr.hungUpBy == .caller)
        #expect(cdr.answeredAt != nil && cdr.durationSeconds > 1 && cdr.targets.count == 1)
        #expect(cdr.callerCodec == "PCMA/8000" && cdr.calleeCodec == "PCMA/8000" && !cdr.transcoded)
        await stop(server)
    }

    @Test func busyCancelNoAnswerUnknownAndUnregistered() async throws {
        let server = try await startServer(ringTimeout: "2")
        let calleePort = SIPInteropTests.freePort(udp: true)
        try await registerCallee(server, local: calleePort)
        let callerPort = SIPInteropTests.freePort(udp: true)

        // Busy: the callee's 486 reaches the caller.
        async let busyUAS = sipp("b2bua-uas-busy.xml", port: server.udp, local: calleePort, service: "200")
        let busy = try await sipp("b2bua-uac-486.xml", port: server.udp, local: callerPort, service: "200", extra: caller)
        #expect(busy.successful == 1, "busy: \(busy.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(try await busyUAS.successful == 1)
        #expect(try await openLegsAfterSettling(server) == 0)

        // The caller cancels while the callee rings: 487 to the caller, CANCEL to the callee.
        async let ringUAS = sipp("b2bua-uas-ring.xml", port: server.udp, local: calleePort, service: "200")
        let cancel = try await sipp("b2bua-uac-cancel.xml", port: server.udp, local: callerPort, service: "200", extra: caller)
        #expect(cancel.successful == 1, "cancel: \(cancel.output.suffix(2000))\nserver: \(server.process.stderr.all.suffix(2000))")
        #expect(try await ringUAS.successful == 1)
        #expect(try await openLegsAfterSettling(server) == 0)

        // Nobody answers within the 2 s ring timeout: the branch is cancelled, the caller gets 480.
        async let silentUAS = sipp("b2bua-uas-ring.xml", port: server.udp, local: calleePort, service: "200")
        let noAnswer = try await sipp("b2bua-uac-480.xml", port: server.udp, local: callerPort, service: "200", extra: caller)
        #expect(noAnswer.successful == 1, "no answer: \(noAnswer.output.suffix(2000))")
        #expect(try await silentUAS.successful == 1)
        #expect(try await openLegsAfterSettling(server) == 0)

        // No such extension: 404; an extension with no registration: 480.
        let unknown = try await sipp("b2bua-uac-404.xml", port: server.udp, local: callerPort, service: "999", extra: caller)
        #expect(unknown.successful == 1, "unknown: \(unknown.output.suffix(2000))")
        let unregistered = try await sipp("b2bua-uac-480.xml", port: server.udp, local: callerPort, service: "300", extra: caller)
        #expect(unregistered.successful == 1, "unregistered: \(unregistered.output.suffix(2000))")
        #expect(try await openLegsAfterSettling(server) == 0)

        let reasons = try records(server).map(\.endReason)
        #expect(Set(reasons) == [.busy, .cancelled, .noAnswer, .notFound, .unavailable], "\(reasons)")
        #expect(reasons.count == 5)
        await stop(server)
    }
}
