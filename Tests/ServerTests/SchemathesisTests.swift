import Foundation
import Testing

/// schemathesis (PyPI; `scripts/setup` installs it into a virtualenv under ~/.cache/tandem) run against the
/// served OpenAPI document of a real server.
enum Schemathesis {
    /// The `st` executable: $TANDEM_SCHEMATHESIS (a path), the setup script's virtualenv, or nil.
    static var executable: String? {
        let env = ProcessInfo.processInfo.environment
        let venv = env["TANDEM_SCHEMATHESIS_VENV"] ?? (NSHomeDirectory() + "/.cache/tandem/schemathesis")
        for candidate in [env["TANDEM_SCHEMATHESIS"], venv + "/bin/st"].compactMap({ $0 })
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }
}

@Suite(.serialized) struct SchemathesisTests {
    /// Every operation, a bounded number of generated requests each (valid and invalid), as the system
    /// administrator: no 5xx, and every response matches the document (status, content type, schema).
    @Test(.enabled(if: Schemathesis.executable != nil,
                   "schemathesis is not installed: run scripts/setup (virtualenv ~/.cache/tandem/schemathesis) or set TANDEM_SCHEMATHESIS"),
          .timeLimit(.minutes(8)))
    func servedDocumentHoldsUnderGeneratedRequests() async throws {
        let st = try #require(Schemathesis.executable)
        let data = temporaryDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let password = "st-\(UUID().uuidString.prefix(12))"
        let (server, url) = try await startServerWithAdmin(data: data, password: password)
        defer { server.signal(SIGKILL) }
        let login = try await postJSON(url + "/api/v1/auth/login", ["username": "admin", "password": password])
        let token = try #require(login["access_token"] as? String)
        let report = data + "/schemathesis.json"
        let examples = ProcessInfo.processInfo.environment["TANDEM_SCHEMATHESIS_EXAMPLES"] ?? "25"
        let (status, out, err) = try await runProcess(st, [
            "run", url + "/api/v1/openapi.json", "--url", url,
            "--header", "Authorization: Bearer \(token)",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples", examples, "--seed", "1", "--workers", "1", "--request-timeout", "10",
            "--phases", "examples,coverage,fuzzing", "--generation-database", "none", "--no-color",
            // Logins with generated names fail and would lock the rate limiter for the run; logout would revoke nothing.
            "--exclude-path", "/api/v1/auth/login", "--exclude-path", "/api/v1/events",
            "--report", "junit", "--report-junit-path", report,
        ], environment: ["NO_COLOR": "1"], within: 420)
        #expect(status == 0, "schemathesis failed:\n\(out.suffix(6000))\n\(err.suffix(2000))")
        // "Test cases: N generated, N passed": it really ran (about 2200 cases over 40 operations with 25 examples).
        #expect(out.contains(" generated, ") && out.contains(" passed"), "\(out.suffix(2000))")
    }
}
