import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SIPp (a real, independent SIP implementation) against `sip-testpeer`, a UAS/registrar built on
/// Tandem's SIP stack, over UDP and TCP; Python's OpenSSL-backed `ssl` client over TLS, since
/// Debian's SIPp is built without TLS. Every peer is started on loopback, bounded and stopped by PID.
@Suite(.serialized) struct SIPInteropTests {
    static let sippDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InteropTests/sipp").path
    static let tlsClient = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("InteropTests/sip_tls_client.py").path

    static func sippPath() -> String? {
        ["/usr/bin/sipp", "/usr/local/bin/sipp"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A free local port of the given socket type, found by binding port 0.
    static func freePort(udp: Bool) -> Int {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                bind(fd, sp, len) == 0 ? getsockname(fd, sp, &len) : -1
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Starts sip-testpeer on UDP, TCP and TLS ephemeral ports; returns it with the ports.
    func startPeer() async throws -> (TandemProcess, [String: Int], String) {
        let certs = NSTemporaryDirectory() + "tandem-sip-\(UUID().uuidString)"
        let peer = try TandemProcess(executable: builtExecutable("sip-testpeer"), arguments: [
            "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--tls", "127.0.0.1:0", "--cert-dir", certs,
            "--user", "alice", "--password", "wonderland-42", "--realm", "tandem.test",
        ])
        let last = await peer.stdout.line(where: { $0.hasPrefix("listening tls") }, within: 30)
        try #require(last != nil, "sip-testpeer did not start: \(peer.stderr.all)")
        var ports: [String: Int] = [:]
        for line in peer.stdout.all.split(separator: "\n") where line.hasPrefix("listening ") {
            let parts = line.split(separator: " ")
            ports[String(parts[1])] = Int(parts[3])
        }
        return (peer, ports, certs)
    }

    /// Runs one SIPp scenario to completion and returns its exit status and output.
    func sipp(_ scenario: String, transport: String, port: Int, calls: Int = 3, extra: [String] = []) async throws -> (Int32?, String) {
        let sipp = try #require(Self.sippPath(), "SIPp is not installed (Debian package sip-tester; scripts/setup installs it)")
        let local = Self.freePort(udp: transport == "u1")
        let args = ["-sf", Self.sippDirectory + "/" + scenario, "-t", transport, "-m", String(calls), "-r", "10",
                    "-i", "127.0.0.1", "-p", String(local), "-nostdin", "-timeout", "20", "-timeout_error",
                    "-max_recv_loops", "1000"] + extra + ["127.0.0.1:\(port)"]
        let (status, out, err) = try await runProcess(sipp, args, within: 40)
        return (status, out + err)
    }

    /// SIPp's summary: successful and failed call counts.
    func counts(_ output: String) -> (successful: Int, failed: Int) {
        func count(_ label: String) -> Int {
            guard let line = output.split(separator: "\n").last(where: { $0.contains(label) }) else { return -1 }
            return Int(line.split(separator: "|").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
        }
        return (count("Successful call"), count("Failed call"))
    }

    @Test(arguments: ["u1", "t1"])
    func sippScenariosSucceed(transport: String) async throws {
        let (peer, ports, certs) = try await startPeer()
        defer { peer.signal(SIGTERM); try? FileManager.default.removeItem(atPath: certs) }
        let port = try #require(ports[transport == "u1" ? "udp" : "tcp"])
        for (scenario, extra) in [("options.xml", [String]()),
                                  ("register.xml", ["-s", "alice", "-au", "alice", "-ap", "wonderland-42"]),
                                  ("invite.xml", ["-s", "echo"]),
                                  ("cancel.xml", [String]())] {
            let (status, output) = try await sipp(scenario, transport: transport, port: port, extra: extra)
            let c = counts(output)
            #expect(status == 0 && c.successful == 3 && c.failed == 0,
                    "\(scenario) over \(transport): status \(String(describing: status)), \(c)\n\(output.suffix(1500))")
        }
        // A wrong password is refused (403), so SIPp's register scenario fails.
        let (_, bad) = try await sipp("register.xml", transport: transport, port: port, calls: 1,
                                      extra: ["-s", "alice", "-au", "alice", "-ap", "not-the-password"])
        #expect(counts(bad).successful == 0)
        peer.signal(SIGTERM)
        #expect(await peer.waitForExit() == 0)
    }

    @Test func tlsClientRegistersWithDigest() async throws {
        let (peer, ports, certs) = try await startPeer()
        defer { peer.signal(SIGTERM); try? FileManager.default.removeItem(atPath: certs) }
        let port = try #require(ports["tls"])
        let (status, output, err) = try await runProcess("/usr/bin/env", ["python3", Self.tlsClient, "127.0.0.1", String(port),
                                                                          "alice", "wonderland-42"], within: 30)
        #expect(status == 0, "client failed: \(err)")
        #expect(output.contains("tls TLSv1."))
        #expect(!output.contains("tls TLSv1.1") && !output.contains("tls TLSv1\n"))
        #expect(output.contains("options 200"))
        #expect(output.contains("register-challenge 401"))
        #expect(output.contains("register 200"))
    }
}
