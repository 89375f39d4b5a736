import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TandemBase

/// `tandem admin …`: common administration tasks against a running server's REST API.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administer a running Tandem server through its REST API.",
        discussion: """
            Log in once with 'tandem admin login' (the tokens are kept in $XDG_CONFIG_HOME/tandem/credentials.json, \
            or ~/.config/tandem/credentials.json, readable only by you), or pass --api-key (env TANDEM_API_KEY) to \
            every command. --server (env TANDEM_SERVER) names the server, e.g. http://127.0.0.1:8888.
            """,
        subcommands: [AdminLogin.self, AdminTenants.self, AdminExtensions.self, AdminCDRs.self, AdminCalls.self]
    )
}

/// Where and how to reach the API.
struct AdminConnection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Server base URL (default: the one logged in to). Env: TANDEM_SERVER.", valueName: "URL"))
    var server: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp("An API key (tk_…) instead of the stored login. Env: TANDEM_API_KEY.", valueName: "KEY"))
    var apiKey: String?

    @Flag(name: .long, help: "Print the server's JSON answer instead of a table.")
    var json = false

    /// The client for a command, from flags, environment and the stored login.
    func client() throws -> AdminHTTPClient {
        let env = ProcessInfo.processInfo.environment
        let stored = AdminCredentials.load()
        guard let base = server ?? env["TANDEM_SERVER"] ?? stored?.server else {
            throw Console.fail("no server: pass --server URL (or log in first with 'tandem admin login')")
        }
        if let key = apiKey ?? env["TANDEM_API_KEY"] { return AdminHTTPClient(base: base, credential: .apiKey(key)) }
        guard let stored, stored.server == base || server == nil else {
            throw Console.fail("not logged in to \(base): run 'tandem admin login --server \(base)' or pass --api-key")
        }
        return AdminHTTPClient(base: base, credential: .login(stored))
    }
}

/// The stored login: server, access and refresh token.
struct AdminCredentials: Codable {
    var server: String
    var accessToken: String
    var refreshToken: String

    enum CodingKeys: String, CodingKey { case server, accessToken = "access_token", refreshToken = "refresh_token" }

    static var path: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config")
        return (base as NSString).appendingPathComponent("tandem/credentials.json")
    }

    static func load() -> AdminCredentials? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(AdminCredentials.self, from: data)
    }

    /// Writes the file with mode 0600 (its directory 0700), replacing any earlier one.
    func save() throws {
        let dir = (Self.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder().encode(self)
        let tmp = Self.path + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: nil, attributes: [.posixPermissions: 0o600])
        guard let handle = FileHandle(forWritingAtPath: tmp) else { throw Console.fail("cannot write \(tmp)") }
        try handle.write(contentsOf: data)
        try handle.close()
        _ = try? FileManager.default.removeItem(atPath: Self.path)
        try FileManager.default.moveItem(atPath: tmp, toPath: Self.path)
    }
}

/// A small client of the REST API: JSON in and out, RFC 9457 problems printed as one line; a stored login's
/// access token is refreshed once on 401.
final class AdminHTTPClient {
    enum Credential { case apiKey(String), login(AdminCredentials), none }

    let base: String
    var credential: Credential

    init(base: String, credential: Credential) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.credential = credential
    }

    struct Answer {
        var status: Int
        var data: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: data) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    func send(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String? = nil,
              retry: Bool = true) async throws -> Answer {
        guard let url = URL(string: base + path) else { throw Console.fail("bad server URL \(base)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        switch credential {
        case .apiKey(let key): request.setValue(key, forHTTPHeaderField: "X-API-Key")
        case .login(let c): request.setValue("Bearer " + c.accessToken, forHTTPHeaderField: "Authorization")
        case .none: break
        }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Console.fail("cannot reach \(base): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if status == 401, retry, case .login(var stored) = credential {
            // The access token expired: trade the refresh token for a new pair once.
            let saved = credential
            credential = .none
            let r = try await send("POST", "/api/v1/auth/refresh", json: ["refresh_token": stored.refreshToken], retry: false)
            credential = saved
            if r.status == 200, let access = r.object["access_token"] as? String, let refresh = r.object["refresh_token"] as? String {
                stored.accessToken = access
                stored.refreshToken = refresh
                try? stored.save()
                credential = .login(stored)
                return try await send(method, path, json: json, body: body, contentType: contentType, retry: false)
            }
            throw Console.fail("the login has expired: run 'tandem admin login' again")
        }
        return Answer(status: status, data: data)
    }

    /// `send`, failing with the problem's detail and field errors unless the status is `expected`.
    func expect(_ expected: Int, _ method: String, _ path: String, json: Any? = nil, body: Data? = nil,
                contentType: String? = nil) async throws -> Answer {
        let a = try await send(method, path, json: json, body: body, contentType: contentType)
        guard a.status == expected else {
            let o = a.object
            var message = "\(method) \(path): \(a.status) \(o["title"] as? String ?? "")"
            if let d = o["detail"] as? String { message += ": " + d }
            for e in o["errors"] as? [[String: Any]] ?? [] {
                message += "; \(e["field"] as? String ?? "?"): \(e["message"] as? String ?? "")"
            }
            throw Console.fail(message)
        }
        return a
    }

    /// Every item of a paginated list.
    func all(_ path: String) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var cursor: String?
        repeat {
            var p = path + (path.contains("?") ? "&" : "?") + "limit=500"
            if let cursor { p += "&cursor=" + cursor }
            let page = try await expect(200, "GET", p).object
            items += page["items"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
        } while cursor != nil && items.count < 1_000_000
        return items
    }
}

/// Prints rows as aligned columns (or the raw JSON).
func printTable(_ items: [[String: Any]], columns: [String], json: Bool) {
    if json {
        let data = (try? JSONSerialization.data(withJSONObject: items, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        Console.out(String(decoding: data, as: UTF8.self))
        return
    }
    func text(_ v: Any?) -> String {
        switch v {
        case nil, is NSNull: "-"
        case let s as String: s
        case let b as Bool: b ? "true" : "false"
        case let n as NSNumber: n.stringValue
        default: v.map { "\($0)" } ?? "-"
        }
    }
    let rows = [columns] + items.map { item in columns.map { text(item[$0]) } }
    let widths = columns.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
    for row in rows {
        Console.out(row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  "))
    }
}

func query(_ pairs: [(String, String?)]) -> String {
    let parts = pairs.compactMap { k, v in
        v.map { k + "=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? $0) }
    }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}

struct AdminLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in and keep the tokens for later commands (file mode 0600).")

    @Option(name: .long, help: ArgumentHelp("Server base URL, e.g. http://127.0.0.1:8888. Env: TANDEM_SERVER.", valueName: "URL"))
    var server: String?

    @Option(name: .long, help: "admin, or name@tenant-domain, or extension@tenant-domain.")
    var username: String

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (else env TANDEM_PASSWORD).")
    var passwordStdin = false

    func run() async throws {
        guard let server = server ?? ProcessInfo.processInfo.environment["TANDEM_SERVER"] else {
            throw Console.fail("pass --server URL")
        }
        var password = ProcessInfo.processInfo.environment["TANDEM_PASSWORD"]
        if passwordStdin { password = readLine(strippingNewline: true) }
        guard let password, !password.isEmpty else {
            throw Console.fail("no password: pass --password-stdin or set TANDEM_PASSWORD")
        }
        let client = AdminHTTPClient(base: server, credential: .none)
        let a = try await client.expect(200, "POST", "/api/v1/auth/login", json: ["username": username, "password": password])
        guard let access = a.object["access_token"] as? String, let refresh = a.object["refresh_token"] as? String else {
            throw Console.fail("the server's answer has no tokens")
        }
        try AdminCredentials(server: client.base, accessToken: access, refreshToken: refresh).save()
        Console.out("logged in to \(client.base) as \(username) (\(a.object["role"] as? String ?? "?")); tokens in \(AdminCredentials.path)")
    }
}

struct AdminTenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenants", abstract: "Create and list tenants.",
                                                    subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant (system administrator).")
        @OptionGroup var connection: AdminConnection
        @Option(name: .long, help: "Display name.") var name: String
        @Option(name: .long, help: "SIP domain.") var domain: String
        @Option(name: .customLong("max-extensions")) var maxExtensions: Int?
        @Option(name: .customLong("admin-username"), help: "Also create this tenant administrator.") var adminUsername: String?
        @Option(name: .customLong("admin-password"), help: "Its password (at least 8 characters).") var adminPassword: String?

        func run() async throws {
            var body: [String: Any] = ["name": name, "domain": domain]
            if let maxExtensions { body["max_extensions"] = maxExtensions }
            if let adminUsername { body["admin_username"] = adminUsername }
            if let adminPassword { body["admin_password"] = adminPassword }
            let a = try await connection.client().expect(201, "POST", "/api/v1/tenants", json: body)
            if connection.json { Console.out(a.text) } else {
                Console.out("created tenant \(a.object["domain"] as? String ?? domain) id \(a.object["id"] as? String ?? "?")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var connection: AdminConnection

        func run() async throws {
            printTable(try await connection.client().all("/api/v1/tenants"), columns: ["id", "domain", "name", "max_extensions"],
                       json: connection.json)
        }
    }
}

struct AdminExtensions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extensions", abstract: "Add, list, import, export extensions and reset their passwords.",
        subcommands: [Add.self, List.self, Import.self, Export.self, ResetPassword.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an extension.")
        @OptionGroup var connection: AdminConnection
        @Option(name: .long) var number: String
        @Option(name: .customLong("sip-password"), help: "Default: a generated one, printed once.") var sipPassword: String?
        @Option(name: .customLong("web-password")) var webPassword: String?
        @Option(name: .customLong("display-name")) var displayName: String?
        @Option(name: .customLong("tenant-id"), help: "System administrator: the tenant.") var tenantID: String?

        func run() async throws {
            let sip = sipPassword ?? SecureRandom.password(length: 16)
            var body: [String: Any] = ["number": number, "sip_password": sip]
            if let webPassword { body["web_password"] = webPassword }
            if let displayName { body["display_name"] = displayName }
            if let tenantID { body["tenant_id"] = tenantID }
            let a = try await connection.client().expect(201, "POST", "/api/v1/extensions", json: body)
            if connection.json { Console.out(a.text); return }
            Console.out("created extension \(number) id \(a.object["id"] as? String ?? "?")")
            if sipPassword == nil { Console.out("sip password: \(sip)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List extensions.")
        @OptionGroup var connection: AdminConnection
        @Option(name: .customLong("tenant-id")) var tenantID: String?

        func run() async throws {
            let items = try await connection.client().all("/api/v1/extensions" + query([("tenant_id", tenantID)]))
            printTable(items, columns: ["number", "display_name", "enabled", "id", "tenant_id"], json: connection.json)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import extensions from a CSV file (all or none).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "CSV with a header row: number,sip_password[,display_name,email,web_password,…].") var file: String
        @Option(name: .customLong("tenant-id")) var tenantID: String?

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw Console.fail("cannot read \(file)") }
            let a = try await connection.client().expect(201, "POST", "/api/v1/extensions/import" + query([("tenant_id", tenantID)]),
                                                          body: data, contentType: "text/csv")
            if connection.json { Console.out(a.text) } else { Console.out("imported \(a.object["created"] as? Int ?? 0) extensions") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export extensions as CSV (password columns empty).")
        @OptionGroup var connection: AdminConnection
        @Option(name: .customLong("tenant-id")) var tenantID: String?
        @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            let a = try await connection.client().expect(200, "GET", "/api/v1/extensions/export" + query([("tenant_id", tenantID)]))
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: a.data) else { throw Console.fail("cannot write \(output)") }
            } else {
                FileHandle.standardOutput.write(a.data)
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set an extension's SIP and/or web password (default: a new generated SIP password, printed once).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "Extension number (or id).") var number: String
        @Option(name: .customLong("sip-password")) var sipPassword: String?
        @Option(name: .customLong("web-password")) var webPassword: String?
        @Option(name: .customLong("tenant-id")) var tenantID: String?

        func run() async throws {
            let client = try connection.client()
            let matches = try await client.all("/api/v1/extensions" + query([("tenant_id", tenantID)]))
                .filter { $0["number"] as? String == number || $0["id"] as? String == number }
            guard matches.count == 1, let id = matches[0]["id"] as? String else {
                throw Console.fail(matches.isEmpty ? "no extension \(number)" : "extension \(number) is in several tenants: pass --tenant-id")
            }
            var body: [String: Any] = [:]
            var generated: String?
            if let sipPassword { body["sip_password"] = sipPassword }
            if let webPassword { body["web_password"] = webPassword }
            if body.isEmpty {
                generated = SecureRandom.password(length: 16)
                body["sip_password"] = generated
            }
            _ = try await client.expect(200, "PATCH", "/api/v1/extensions/\(id)", json: body)
            Console.out("reset the password of extension \(number)")
            if let generated { Console.out("sip password: \(generated)") }
        }
    }
}

struct AdminCDRs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cdrs", abstract: "Call records (finished calls).",
                                                    subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List call records, newest first.")
        @OptionGroup var connection: AdminConnection
        @Option(name: .long, help: "ISO 8601 start of the range.") var from: String?
        @Option(name: .long, help: "ISO 8601 end of the range.") var to: String?
        @Option(name: .long, help: "Calls of this extension number.") var `extension`: String?
        @Option(name: .long, help: "inbound, outbound or internal (with --extension).") var direction: String?
        @Option(name: .long, help: "answered or unanswered.") var result: String?
        @Option(name: .long, help: "At most this many (default 100).") var limit: Int = 100
        @Option(name: .customLong("tenant-id")) var tenantID: String?

        func run() async throws {
            let q = query([("from", from), ("to", to), ("extension", `extension`), ("direction", direction), ("result", result),
                           ("tenant_id", tenantID), ("limit", String(min(max(limit, 1), 500)))])
            let page = try await connection.client().expect(200, "GET", "/api/v1/cdrs" + q).object
            printTable(page["items"] as? [[String: Any]] ?? [],
                       columns: ["started_at", "caller", "callee", "end_reason", "duration_seconds", "id"], json: connection.json)
        }
    }
}
