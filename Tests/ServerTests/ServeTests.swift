import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every listener of `tandem serve` on an ephemeral loopback port.
let ephemeralListeners = ["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0",
                          "--sip-ws", "127.0.0.1:0", "--sip-wss", "127.0.0.1:0"]

/// `tandem serve` as an operator runs it: a real process on ephemeral loopback ports.
@Suite(.serialized) struct ServeTests {
    static let listening = "HTTP listening on http://"

    /// Starts a server on 127.0.0.1:0 and returns it with its base URL.
    func start(data: String, environment: [String: String] = [:], extra: [String] = []) async throws -> (TandemProcess, String) {
        let server = try TandemProcess(
            arguments: ["serve", "--data", data, "--rtp-ports", "30000-30099"] + ephemeralListeners + extra,
            environment: environment)
        let line = await server.stdout.line(where: { $0.contains(Self.listening) }, within: 60)
        let found = try #require(line, "server did not report listening; stderr: \(server.stderr.all)")
        let url = String(found[found.range(of: "http://")!.lowerBound...])
        return (server, url)
    }

    @Test func servesHealthAndMetricsAndStopsCleanlyOnSIGTERM() async throws {
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (server, base) = try await start(data: data, environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1"])

        let (status, body, _) = try await httpGet(base + "/health")
        #expect(status == 200)
        let health = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(health["status"] as? String == "ok")
        #expect(health["version"] as? String == "0.1.0")
        #expect((health["uptime_seconds"] as? Double ?? -1) >= 0)
        // jemalloc is the allocator of the server executable.
        #expect((health["allocator"] as? String ?? "").hasPrefix("jemalloc 5."))

        let (mStatus, metrics, contentType) = try await httpGet(base + "/metrics")
        #expect(mStatus == 200)
        #expect(contentType?.hasPrefix("text/plain") == true)
        #expect(metrics.contains("tandem_build_info{version=\"0.1.0\"} 1"))
        #expect(metrics.contains("# TYPE tandem_uptime_seconds gauge"))
        // Hummingbird's metrics middleware counted the /health request.
        #expect(metrics.contains("hb_requests"))

        let (missing, _, _) = try await httpGet(base + "/no-such-path")
        #expect(missing == 404)

        // The supplied password was used: nothing printed about a generated one.
        #expect(!server.stdout.all.contains("password:"))

        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
        #expect(server.stderr.all.contains("stopped cleanly"))
        #expect(FileManager.default.fileExists(atPath: data + "/tandem.sqlite"))
    }

    @Test func firstStartPrintsAGeneratedPasswordOnceAndSIGINTStops() async throws {
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (first, _) = try await start(data: data)
        let line = try #require(first.stdout.all.split(separator: "\n").first { $0.contains("password:") })
        let password = line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)
        #expect(password.count == 20)
        first.signal(SIGINT)
        #expect(await first.waitForExit() == 0)

        // Second start on the same data: no new password, and the hash on disk is not the password.
        let (second, _) = try await start(data: data, environment: ["TANDEM_ADMIN_PASSWORD": "ignored-because-exists"])
        #expect(!second.stdout.all.contains("password:"))
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        let db = try Data(contentsOf: URL(fileURLWithPath: data + "/tandem.sqlite"))
        #expect(db.range(of: Data(password.utf8)) == nil)
    }

    @Test func answersSIPOptionsOverUDPAndKeepsItsTLSCertificate() async throws {
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (server, _) = try await start(data: data, environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1"])
        let udpLine = try #require(await server.stdout.line(where: { $0.contains("SIP listening on udp") }, within: 30))
        let port = try #require(Int(udpLine.split(separator: ":").last ?? ""))
        for kind in ["tcp", "tls", "ws", "wss"] {
            #expect(server.stdout.all.contains("SIP listening on \(kind) 127.0.0.1:"), "no \(kind) listener")
        }
        // A real SIP peer (SIPp) sends OPTIONS and expects 200.
        let sipp = try #require(SIPInteropTests.sippPath(), "SIPp is not installed")
        let (status, out, err) = try await runProcess(sipp, [
            "-sf", SIPInteropTests.sippDirectory + "/options.xml", "-t", "u1", "-m", "2", "-r", "10",
            "-i", "127.0.0.1", "-p", String(SIPInteropTests.freePort(udp: true)), "-nostdin", "-timeout", "15",
            "-timeout_error", "127.0.0.1:\(port)"], within: 30)
        #expect(status == 0, "SIPp: \(out) \(err)")
        // The self-signed TLS identity was generated in the data directory and its fingerprint logged.
        #expect(FileManager.default.fileExists(atPath: data + "/tls"))
        #expect(server.stderr.all.contains("sha256_fingerprint"))
        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
    }

    @Test func jsonLogFormatWritesOneObjectPerLine() async throws {
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (server, _) = try await start(data: data, environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1",
                                                                    "TANDEM_LOG_FORMAT": "json"])
        let starting = await server.stderr.line(where: { $0.contains("\"message\":\"starting\"") }, within: 30)
        let json = try #require(starting)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["rtp_ports"] as? String == "30000-30099")
        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
    }
}

/// Configuration precedence and bad input, through the real binary.
@Suite struct ConfigurationTests {
    func effective(_ args: [String], env: [String: String] = [:]) async throws -> [String: Any] {
        let (status, out, err) = try await runTandem(["config"] + args, environment: env)
        #expect(status == 0, "stderr: \(err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    @Test func defaultsAreTheDocumentedOnes() async throws {
        let c = try await effective([])
        #expect(c["http"] as? String == "0.0.0.0:8888")
        #expect(c["sip"] as? String == "0.0.0.0:5060")
        #expect(c["sip_tls"] as? String == "0.0.0.0:5061")
        #expect(c["sip_ws"] as? String == "0.0.0.0:5062")
        #expect(c["sip_wss"] as? String == "0.0.0.0:5065")
        #expect(c["rtp_ports"] as? String == "20000-39999")
        #expect(c["data"] as? String == "./data")
        #expect(c["log_format"] as? String == "text")
    }

    @Test func flagsOverrideEnvironmentWhichOverridesTheFile() async throws {
        let file = NSTemporaryDirectory() + "tandem-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(#"{"http": "127.0.0.1:1111", "sip": "127.0.0.1:2222", "rtp_ports": "40000-40999", "workers": 3}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let env = ["TANDEM_CONFIG": file, "TANDEM_SIP": "127.0.0.2:3333", "TANDEM_RTP_PORTS": "41000-41999",
                   "TANDEM_DATA": "/tmp/from-env"]
        let c = try await effective(["--rtp-ports", "42000-42999", "--data", "/tmp/from-flag"], env: env)
        #expect(c["http"] as? String == "127.0.0.1:1111")      // file only
        #expect(c["sip"] as? String == "127.0.0.2:3333")       // env beats file
        #expect(c["rtp_ports"] as? String == "42000-42999")    // flag beats env and file
        #expect(c["data"] as? String == "/tmp/from-flag")
        #expect(c["workers"] as? Int == 3)
        let v6 = try await effective(["--http", "[::1]:9000"])
        #expect(v6["http"] as? String == "[::1]:9000")
    }

    /// Each bad input yields one clear line on stderr and a non-zero exit.
    @Test(arguments: [
        (["config", "--bogus"], "Unknown option"),
        (["config", "--config", "/nonexistent/tandem.json"], "cannot read configuration file"),
        (["config", "--http", "nonsense"], "invalid value 'nonsense' for http"),
        (["config", "--rtp-ports", "9-5"], "invalid value '9-5' for rtp_ports"),
        (["config", "--log-format", "xml"], "expected text or json"),
        (["config", "--workers", "0"], "worker count"),
    ])
    func badInputIsOneClearLine(args: [String], message: String) async throws {
        let (status, _, err) = try await runTandem(args)
        #expect(status != 0)
        #expect(err.contains(message), "stderr was: \(err)")
    }

    @Test func malformedAndUnknownFileSettingsAreRejected() async throws {
        let file = NSTemporaryDirectory() + "tandem-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data(#"{"htp": "1.2.3.4:5"}"#.utf8).write(to: URL(fileURLWithPath: file))
        var (status, _, err) = try await runTandem(["config", "--config", file])
        #expect(status != 0 && err.contains("unknown setting 'htp'"))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: file))
        (status, _, err) = try await runTandem(["config", "--config", file])
        #expect(status != 0 && err.contains("is not a JSON object"))
    }

    @Test func portInUseFailsBeforeWritingAnything() async throws {
        // Hold a listening TCP socket on an ephemeral loopback port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &addr) { p in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                try #require(bind(fd, sp, len) == 0)
                try #require(listen(fd, 1) == 0)
                try #require(getsockname(fd, sp, &len) == 0)
            }
        }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (status, out, err) = try await runTandem(["serve", "--data", data, "--http", "127.0.0.1:\(port)"])
        #expect(status == 1)
        #expect(err.contains("already in use"), "stderr was: \(err)")
        #expect(err.split(separator: "\n").count == 1)
        #expect(!out.contains("password"))
        #expect(!FileManager.default.fileExists(atPath: data))
    }

    @Test func unusableDataDirectoryFailsClearly() async throws {
        // A path below a regular file can never be created, even by root.
        let file = NSTemporaryDirectory() + "tandem-file-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let (status, _, err) = try await runTandem(["serve", "--data", file + "/data"] + ephemeralListeners)
        #expect(status == 1)
        #expect(err.contains("data directory") && err.contains("--data"), "stderr was: \(err)")
        let (status2, _, err2) = try await runTandem(["serve", "--data", file] + ephemeralListeners)
        #expect(status2 == 1)
        #expect(err2.contains("not a directory"), "stderr was: \(err2)")
    }

    @Test func versionAndHelpReadWell() async throws {
        let (status, out, _) = try await runTandem(["--version"])
        #expect(status == 0 && out.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let (hstatus, help, _) = try await runTandem(["serve", "--help"])
        #expect(hstatus == 0)
        for flag in ["--data", "--http", "--sip", "--rtp-ports", "TANDEM_HTTP", "TANDEM_ADMIN_PASSWORD"] {
            #expect(help.contains(flag), "help lacks \(flag)")
        }
    }
}
