import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Prometheus
import Store
import TandemBase
import Testing
@testable import AdminAPI

/// A wall clock the test moves.
final class TestClock: Sendable {
    private let value = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { value.withLockedValue { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLockedValue { $0 += seconds } }
}

/// Registrations the test sets.
final class FakeRegistrations: RegistrationSource {
    let list = NIOLockedValueBox<[RegistrationSnapshot]>([])
    func registrations() async -> [RegistrationSnapshot] { list.withLockedValue { $0 } }
}

/// A store in a temporary directory with the system tenant and admin, tenants A and B each with an administrator,
/// an extension (A: 100 with a web password, 101; B: 200) and a group; and the API over it.
struct Fixture {
    static let iterations: UInt32 = 1000
    let directory: String
    let store: TandemStore
    let clock = TestClock()
    let registrations = FakeRegistrations()
    let calls = FakeCalls()
    let metrics: PrometheusCollectorRegistry
    let service: AdminAPIService
    let tenantA: Tenant, tenantB: Tenant
    let ext100: Extension, ext101: Extension, ext200: Extension
    let groupA: ExtensionGroup, groupB: ExtensionGroup

    init(metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
         configure: (inout AdminAPIService.Configuration) -> Void = { _ in }) throws {
        self.metrics = metrics
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try TandemStore(directory: directory)
        let system = Tenant(id: SecureRandom.identifier(), name: "System", domain: "system.tandem.invalid", isSystem: true)
        _ = try store.bootstrapSystem(tenant: system, administrator: Account(
            id: SecureRandom.identifier(), tenantID: system.id, username: "admin",
            passwordHash: try PasswordHash.make("system-secret", iterations: Self.iterations), role: .systemAdministrator))
        tenantA = try store.createTenant(name: "A", domain: "a.example")
        tenantB = try store.createTenant(name: "B", domain: "b.example")
        try store.createAccount(tenantID: tenantA.id, username: "alice", password: "alice-secret", role: .tenantAdministrator, iterations: Self.iterations)
        try store.createAccount(tenantID: tenantB.id, username: "bob", password: "bob-secret", role: .tenantAdministrator, iterations: Self.iterations)
        ext100 = try store.createExtension(tenantID: tenantA.id, number: "100", sipPassword: "sip100", webPassword: "web-100-pass",
                                           settings: .init(displayName: "Hundred"), webPasswordIterations: Self.iterations)
        ext101 = try store.createExtension(tenantID: tenantA.id, number: "101", sipPassword: "sip101")
        ext200 = try store.createExtension(tenantID: tenantB.id, number: "200", sipPassword: "sip200", webPassword: "web-200-pass",
                                           webPasswordIterations: Self.iterations)
        groupA = try store.createGroup(tenantID: tenantA.id, name: "Sales")
        groupB = try store.createGroup(tenantID: tenantB.id, name: "Support")
        try store.addExtension(ext200.id, toGroup: groupB.id)
        var configuration = AdminAPIService.Configuration()
        configuration.decoyHashIterations = Self.iterations
        configuration.passwordHashIterations = Self.iterations
        configure(&configuration)
        let clock = clock
        service = try AdminAPIService(store: store, registrations: registrations, calls: calls, metrics: metrics,
                                      configuration: configuration, startedAt: clock.now, now: { clock.now })
    }

    var dependencies: AdminHTTPServer.Dependencies {
        AdminHTTPServer.Dependencies(metrics: metrics, health: { HealthReport(version: "test", uptimeSeconds: 1, allocator: "system") },
                                     onListening: { _, _ in }, api: service)
    }

    func application() -> some ApplicationProtocol {
        AdminHTTPServer.makeApplication(host: "127.0.0.1", port: 0, dependencies: dependencies, logger: Logger(label: "test"))
    }

    /// Runs `body` against the router (no sockets).
    func withClient<T>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await application().test(.router) { client in try await body(client) }
    }
}

/// A decoded response.
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var text: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    var fieldErrors: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, raw: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer " + token }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        return try await execute(uri: path, method: method, headers: headers, body: body) { r in
            Reply(status: r.status, headers: r.headers, text: String(buffer: r.body))
        }
    }

    /// Logs in and returns the access token (failing the test otherwise).
    func token(_ username: String, _ password: String) async throws -> String {
        let r = try await call(.post, "/api/v1/auth/login", json: ["username": username, "password": password])
        #expect(r.status == .ok, "login \(username): \(r.text)")
        return r.json["access_token"] as? String ?? ""
    }
}
