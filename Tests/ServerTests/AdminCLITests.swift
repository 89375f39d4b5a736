import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Starts `tandem serve` on ephemeral ports with a known administrator password; returns it with its base URL.
func startServerWithAdmin(data: String, password: String) async throws -> (TandemProcess, String) {
    let server = try TandemProcess(arguments: ["serve", "--data", data, "--rtp-ports", "30000-30099"] + ephemeralListeners,
                                   environment: ["TANDEM_ADMIN_PASSWORD": password])
    let line = await server.stdout.line(where: { $0.contains(ServeTests.listening) }, within: 60)
    let found = try #require(line, "server did not report listening; stderr: \(server.stderr.all)")
    return (server, String(found[found.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: .whitespaces))
}

/// `tandem admin …` run as a real process against a real server.
@Suite(.serialized) struct AdminCLITests {
    @Test(.timeLimit(.minutes(3)))
    func loginTenantsExtensionsAndCDRsThroughTheCLI() async throws {
        let data = temporaryDataDirectory()
        let config = temporaryDataDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: config)
        }
        let password = "cli-test-\(UUID().uuidString.prefix(8))"
        let (server, url) = try await startServerWithAdmin(data: data, password: password)
        defer { server.signal(SIGKILL) }
        let env = ["XDG_CONFIG_HOME": config]

        func admin(_ args: [String], _ extra: [String: String] = [:]) async throws -> (Int32?, String, String) {
            try await runTandem(["admin"] + args, environment: env.merging(extra) { _, b in b })
        }

        // A wrong password: one clear error line, nothing stored.
        var (status, out, err) = try await admin(["login", "--server", url, "--username", "admin"], ["TANDEM_PASSWORD": "wrong"])
        #expect(status == 1)
        #expect(err.contains("401"), "\(err)")
        #expect(!FileManager.default.fileExists(atPath: config + "/tandem/credentials.json"))

        (status, out, err) = try await admin(["login", "--server", url, "--username", "admin"], ["TANDEM_PASSWORD": password])
        #expect(status == 0, "\(err)")
        #expect(out.contains("logged in"))
        let attributes = try FileManager.default.attributesOfItem(atPath: config + "/tandem/credentials.json")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        (status, out, err) = try await admin(["tenants", "create", "--name", "Acme", "--domain", "acme.example",
                                              "--admin-username", "boss", "--admin-password", "boss-secret-1"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("created tenant acme.example"))
        (status, out, err) = try await admin(["tenants", "list"])
        #expect(status == 0 && out.contains("acme.example"), "\(out) \(err)")
        // A duplicate domain: the problem's detail, exit 1.
        (status, _, err) = try await admin(["tenants", "create", "--name", "Again", "--domain", "acme.example"])
        #expect(status == 1)
        #expect(err.contains("409") && err.contains("domain"), "\(err)")

        // The tenant administrator logs in over the admin's stored login.
        (status, _, err) = try await admin(["login", "--server", url, "--username", "boss@acme.example"], ["TANDEM_PASSWORD": "boss-secret-1"])
        #expect(status == 0, "\(err)")
        (status, out, err) = try await admin(["extensions", "add", "--number", "100", "--display-name", "Front desk"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("sip password: "))
        let csv = config + "/import.csv"
        try "number,sip_password,display_name\n101,pw101,Sales\n102,pw102,\"=SUM(1,2)\"\n".write(toFile: csv, atomically: true, encoding: .utf8)
        (status, out, err) = try await admin(["extensions", "import", csv])
        #expect(status == 0 && out.contains("imported 2"), "\(out) \(err)")
        (status, out, err) = try await admin(["extensions", "list"])
        #expect(status == 0)
        #expect(out.contains("Front desk") && out.contains("101") && out.contains("102"), "\(out)")
        (status, out, err) = try await admin(["extensions", "export"])
        #expect(status == 0)
        #expect(out.hasPrefix("number,display_name"))
        #expect(out.split(separator: "\r\n").count == 4)
        (status, out, err) = try await admin(["extensions", "reset-password", "101"])
        #expect(status == 0 && out.contains("sip password: "), "\(out) \(err)")
        (status, _, err) = try await admin(["extensions", "reset-password", "999"])
        #expect(status == 1 && err.contains("no extension 999"))
        (status, out, err) = try await admin(["cdrs", "list", "--extension", "100"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("started_at"))
        (status, _, err) = try await admin(["cdrs", "list", "--from", "yesterday"])
        #expect(status == 1 && err.contains("from"), "\(err)")

        // An API key instead of the stored login, and a bad one.
        let login = try await postJSON(url + "/api/v1/auth/login", ["username": "boss@acme.example", "password": "boss-secret-1"])
        let token = try #require(login["access_token"] as? String)
        let key = try await postJSON(url + "/api/v1/api-keys", ["name": "cli"], token: token)
        let secret = try #require(key["key"] as? String)
        let noLogin = temporaryDataDirectory()
        (status, out, err) = try await runTandem(["admin", "extensions", "list", "--server", url, "--api-key", secret],
                                                 environment: ["XDG_CONFIG_HOME": noLogin])
        #expect(status == 0 && out.contains("Front desk"), "\(err)")
        (status, _, err) = try await runTandem(["admin", "extensions", "list", "--server", url, "--api-key", "tk_bogus"],
                                               environment: ["XDG_CONFIG_HOME": noLogin])
        #expect(status == 1 && err.contains("401"))
        (status, _, err) = try await runTandem(["admin", "tenants", "list"], environment: ["XDG_CONFIG_HOME": noLogin])
        #expect(status == 1 && err.contains("--server"))
    }
}

/// POSTs JSON and returns the decoded object.
func postJSON(_ url: String, _ body: [String: Any], token: String? = nil) async throws -> [String: Any] {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    request.httpBody = try JSONSerialization.data(withJSONObject: body)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
    let (data, _) = try await URLSession.shared.data(for: request)
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}
