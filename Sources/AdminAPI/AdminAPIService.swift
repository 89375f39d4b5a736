import Foundation
import Hummingbird
import NIOPosix
import Prometheus
import Store
import TandemBase

/// The REST API's state: the store, the token signer, the login rate limiter, the event hub and the
/// registration source. One per server; any thread.
public final class AdminAPIService: Sendable {
    /// Settings, every one injectable for tests.
    public struct Configuration: Sendable {
        /// Access token lifetime (15 minutes).
        public var accessTokenLifetime: TimeInterval = 15 * 60
        /// Refresh token lifetime (30 days).
        public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
        /// Failed logins allowed per client address and per user name within `loginWindow`.
        public var maximumFailedLogins = 5
        public var loginWindow: TimeInterval = 60
        /// PBKDF2 iterations of the stand-in hash checked when the user does not exist, so that answer takes as long
        /// as a wrong password. Match `PasswordHash.defaultIterations` in production.
        public var decoyHashIterations: UInt32 = PasswordHash.defaultIterations
        /// Web passwords of imported or created extensions and tenant administrators are hashed with this many
        /// PBKDF2 iterations.
        public var passwordHashIterations: UInt32 = PasswordHash.defaultIterations
        /// The server's version, shown by the system status.
        public var version: String = TandemVersion.current
        /// Webhook delivery: attempts, backoff, timeouts.
        public var webhooks = WebhookDispatcher.Configuration()

        public init() {}
    }

    let store: TandemStore
    let configuration: Configuration
    let signer: JWTSigner
    let limiter: LoginRateLimiter
    /// Live events for the event websocket.
    public let events: EventHub
    let registrations: any RegistrationSource
    /// Active calls (list, hang up).
    let calls: any CallControlSource
    /// Each media worker's load, for the system status.
    let mediaLoad: @Sendable () -> [MediaWorkerLoadInfo]
    /// Delivers the webhook outbox; run it (`webhooks.run()`) for as long as the server runs.
    public let webhooks: WebhookDispatcher
    /// Wall clock (injected: token expiry is tested by moving it).
    let now: @Sendable () -> Date
    let startedAt: Date
    private let decoyHash: String
    private let failedLogins: Prometheus.Counter
    private let refusedLogins: Prometheus.Counter

    /// Creates the service; reads (or on first start creates) the installation's token key in the store.
    public init(store: TandemStore, registrations: any RegistrationSource, calls: any CallControlSource = NoCalls(),
                mediaLoad: @escaping @Sendable () -> [MediaWorkerLoadInfo] = { [] }, events: EventHub = EventHub(),
                metrics: PrometheusCollectorRegistry, configuration: Configuration = Configuration(),
                startedAt: Date = Date(), now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.store = store
        self.configuration = configuration
        self.signer = JWTSigner(key: try store.apiSecret(named: "jwt-hs256"))
        self.limiter = LoginRateLimiter(configuration: .init(maximumFailures: configuration.maximumFailedLogins,
                                                             window: configuration.loginWindow))
        self.events = events
        self.registrations = registrations
        self.calls = calls
        self.mediaLoad = mediaLoad
        // Delivery is scheduled on the real wall clock, whatever clock the API's tokens use.
        self.webhooks = WebhookDispatcher(store: store, metrics: metrics, configuration: configuration.webhooks)
        self.now = now
        self.startedAt = startedAt
        self.decoyHash = try PasswordHash.make(SecureRandom.password(length: 20), iterations: configuration.decoyHashIterations)
        self.failedLogins = metrics.makeCounter(
            descriptor: .init(namespace: "tandem", subsystem: "api", metricName: "failed_logins", unitName: "total",
                              helpText: "Logins refused for a wrong user name or password."))
        self.refusedLogins = metrics.makeCounter(
            descriptor: .init(namespace: "tandem", subsystem: "api", metricName: "rate_limited_logins", unitName: "total",
                              helpText: "Logins refused unchecked because of too many recent failures."))
        // Live events also feed the tenant's webhooks (CDRs enter the outbox with their record, in `recordCall`).
        let store = store, dispatcher = webhooks
        events.setWebhookTap { event in
            guard event.topic != "cdr", let hook = WebhookPayload.event(event) else { return }
            do {
                if try store.enqueueWebhookEvent(hook) > 0 { dispatcher.notify() }
            } catch {
                // Logged by the dispatcher's logger: the event itself still reached the websocket.
                dispatcher.logger.error("cannot queue a webhook event", metadata: ["type": "\(hook.type)", "error": "\(error)"])
            }
        }
    }
}

// MARK: Identity

extension AdminAPIService {
    /// Who a login name designates and the hash to check.
    private struct Principal {
        var kind: String
        var id: String
        var tenantID: String
        var role: AccountRole
        var name: String
        var passwordHash: String
    }

    /// `admin` is an account of the system tenant; `name@domain` is an account of the tenant with that SIP
    /// domain, or else its extension `name` (web password), when enabled.
    private func principal(for username: String) throws -> Principal? {
        guard let at = username.lastIndex(of: "@") else {
            guard let system = try store.systemTenant(), let account = try store.account(tenantID: system.id, username: username)
            else { return nil }
            return Principal(kind: "account", id: account.id, tenantID: system.id, role: account.role, name: username,
                             passwordHash: account.passwordHash)
        }
        let local = String(username[..<at]), domain = String(username[username.index(after: at)...])
        guard !local.isEmpty, !domain.isEmpty, let tenant = try store.tenant(domain: domain) else { return nil }
        if let account = try store.account(tenantID: tenant.id, username: local) {
            return Principal(kind: "account", id: account.id, tenantID: tenant.id, role: account.role, name: username,
                             passwordHash: account.passwordHash)
        }
        if let ext = try store.extensionRecord(tenantID: tenant.id, number: local), ext.isEnabled, let hash = ext.webPasswordHash {
            return Principal(kind: "extension", id: ext.id, tenantID: tenant.id, role: .extensionUser,
                             name: ext.number + "@" + tenant.domain, passwordHash: hash)
        }
        return nil
    }

    /// The principal a refresh token was issued to, if it still may log in.
    private func principal(kind: String, id: String) throws -> Principal? {
        switch kind {
        case "account":
            guard let a = try store.account(id: id) else { return nil }
            let name: String
            if a.role == .systemAdministrator { name = a.username } else {
                name = a.username + "@" + ((try store.tenant(id: a.tenantID))?.domain ?? "")
            }
            return Principal(kind: kind, id: a.id, tenantID: a.tenantID, role: a.role, name: name, passwordHash: a.passwordHash)
        case "extension":
            guard let e = try store.extensionRecord(id: id), e.isEnabled, let hash = e.webPasswordHash,
                  let tenant = try store.tenant(id: e.tenantID) else { return nil }
            return Principal(kind: kind, id: e.id, tenantID: e.tenantID, role: .extensionUser,
                             name: e.number + "@" + tenant.domain, passwordHash: hash)
        default:
            return nil
        }
    }

    /// What login and refresh return.
    struct TokenPair: Encodable {
        var accessToken: String
        var tokenType = "Bearer"
        var expiresIn: Int
        var refreshToken: String
        var refreshExpiresIn: Int
        var role: AccountRole
        var tenantID: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
            case refreshToken = "refresh_token", refreshExpiresIn = "refresh_expires_in", role, tenantID = "tenant_id"
        }
    }

    private func issue(_ p: Principal) throws -> TokenPair {
        let now = now()
        let iat = Int64(now.timeIntervalSince1970)
        let claims = JWTSigner.Claims(sub: p.id, kind: p.kind, tid: p.tenantID, role: p.role.rawValue, name: p.name, iat: iat,
                                      exp: iat + Int64(configuration.accessTokenLifetime), jti: SecureRandom.identifier())
        let refresh = "rt_" + SecureRandom.bytes(32).hexString
        try store.insertRefreshToken(RefreshTokenRecord(
            tokenHash: Self.tokenHash(refresh), subjectKind: p.kind, subjectID: p.id, tenantID: p.tenantID,
            expiresAt: now.addingTimeInterval(configuration.refreshTokenLifetime), createdAt: now))
        return TokenPair(accessToken: signer.sign(claims), expiresIn: Int(configuration.accessTokenLifetime),
                         refreshToken: refresh, refreshExpiresIn: Int(configuration.refreshTokenLifetime),
                         role: p.role, tenantID: p.tenantID)
    }

    static func tokenHash(_ value: String) -> String { Digest.sha256.hash(value).hexString }

    /// Checks a login. Refuses unchecked (429) after too many recent failures from the address or for the name;
    /// otherwise one slow hash check (on the NIO thread pool) whether or not the name exists.
    func login(username: String, password: String, clientAddress: String) async throws -> TokenPair {
        let keys = ["ip:" + clientAddress, "user:" + username.lowercased()]
        if let wait = limiter.retryAfter(keys, now: now()) {
            refusedLogins.increment()
            throw Problem.tooManyRequests(retryAfterSeconds: wait)
        }
        let p = try principal(for: username)
        let hash = p?.passwordHash ?? decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { (try? PasswordHash.verify(password, against: hash)) ?? false }
        guard let p, matches else {
            limiter.recordFailure(keys, now: now())
            failedLogins.increment()
            throw Problem.unauthorized("invalid username or password")
        }
        return try issue(p)
    }

    /// Exchanges a refresh token for a new pair; the old one is spent (rotation).
    func refresh(token: String) throws -> TokenPair {
        guard let record = try store.takeRefreshToken(hash: Self.tokenHash(token)), now() < record.expiresAt,
              let p = try principal(kind: record.subjectKind, id: record.subjectID)
        else { throw Problem.unauthorized("invalid or expired refresh token") }
        return try issue(p)
    }

    /// Revokes a refresh token (unknown ones are ignored: the answer is the same).
    func logout(refreshToken: String) throws {
        _ = try store.takeRefreshToken(hash: Self.tokenHash(refreshToken))
    }

    /// Resolves a bearer token or API key.
    func authenticate(token: String) throws -> Caller {
        if token.hasPrefix("tk_") {
            guard let key = try store.apiKey(hash: Self.tokenHash(token)) else { throw Problem.unauthorized("invalid API key") }
            return Caller(role: key.role, tenantID: key.tenantID, subjectID: key.id, kind: "api_key", name: key.name,
                          credential: .apiKey)
        }
        let claims: JWTSigner.Claims
        do {
            claims = try signer.verify(token, now: Int64(now().timeIntervalSince1970))
        } catch {
            throw Problem.unauthorized(error == .expired ? "the access token has expired" : "invalid access token")
        }
        guard let role = AccountRole(rawValue: claims.role) else { throw Problem.unauthorized("invalid access token") }
        return Caller(role: role, tenantID: claims.tid, subjectID: claims.sub, kind: claims.kind, name: claims.name,
                      credential: .accessToken)
    }

    /// The credential of a request: `Authorization: Bearer …`, `X-API-Key`, or (event websocket only, where
    /// browsers cannot set headers) `?access_token=`.
    func authenticate(_ request: Request, allowQueryToken: Bool) throws -> Caller {
        if let auth = request.headers[.authorization] {
            let parts = auth.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw Problem.unauthorized("the Authorization header must be 'Bearer <token>'")
            }
            return try authenticate(token: String(parts[1]).trimmingCharacters(in: .whitespaces))
        }
        if let key = request.headers.first(where: { $0.name.canonicalName == "x-api-key" })?.value {
            return try authenticate(token: key)
        }
        if allowQueryToken, let token = request.uri.queryParameters.get("access_token") {
            return try authenticate(token: token)
        }
        throw Problem.unauthorized("no credentials: send 'Authorization: Bearer <token>' or 'X-API-Key'")
    }
}

/// Authenticates every route after it; sets `context.caller`.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let service: AdminAPIService

    func handle(_ request: Request, context: APIRequestContext,
                next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try service.authenticate(request, allowQueryToken: request.uri.path == "/api/v1/events")
        return try await next(request, context)
    }
}

// MARK: Scoping

extension Caller {
    var isSystemAdmin: Bool { role == .systemAdministrator }

    /// Administrators only; an extension user gets 403 (for resources of its own tenant).
    func requireAdministrator() throws(Problem) {
        if role == .extensionUser { throw Problem.forbidden("extension users cannot do this") }
    }

    func requireSystemAdministrator() throws(Problem) {
        if role != .systemAdministrator { throw Problem.forbidden("only the system administrator can do this") }
    }

    /// Whether the caller may see objects of `tenantID` at all.
    func sees(tenantID: String) -> Bool { isSystemAdmin || tenantID == self.tenantID }
}

extension AdminAPIService {
    /// The tenant a request acts in: the caller's own, or for the system administrator the one it names. Naming
    /// a tenant one may not see is answered exactly as naming one that does not exist.
    func tenantScope(_ caller: Caller, requested: String?) throws -> String {
        guard let requested, requested != caller.tenantID else { return caller.tenantID }
        guard caller.isSystemAdmin, try store.tenant(id: requested) != nil else { throw Problem.notFound("tenant") }
        return requested
    }

    /// The extension `id` when the caller may see it (an extension user only itself); 404 otherwise.
    func visibleExtension(_ caller: Caller, id: String) throws -> Extension {
        guard let ext = try store.extensionRecord(id: id), caller.sees(tenantID: ext.tenantID),
              caller.role != .extensionUser || ext.id == caller.subjectID
        else { throw Problem.notFound("extension") }
        return ext
    }

    func visibleGroup(_ caller: Caller, id: String) throws -> ExtensionGroup {
        guard let group = try store.group(id: id), caller.sees(tenantID: group.tenantID) else { throw Problem.notFound("extension group") }
        return group
    }

    func visibleTenant(_ caller: Caller, id: String) throws -> Tenant {
        guard let tenant = try store.tenant(id: id), caller.sees(tenantID: tenant.id) else { throw Problem.notFound("tenant") }
        return tenant
    }
}

extension StoreError {
    /// The HTTP answer for a store error; `field` names the request field a validation failure is about.
    func problem(field: String) -> Problem {
        switch self {
        case .duplicateDomain: Problem.conflict(description, field: "domain")
        case .duplicateExtension: Problem.conflict(description, field: "number")
        case .duplicateGroup: Problem.conflict(description, field: "name")
        case .duplicateAccount: Problem.conflict(description, field: "admin_username")
        case .extensionLimitReached: Problem.conflict(description)
        case .notFound(let what): Problem.notFound(what.split(separator: " ").first.map(String.init) ?? "object")
        case .cannotDeleteSystemTenant: Problem.conflict(description)
        case .domainChangeWithExtensions: Problem.conflict(description, field: "domain")
        case .invalid(let reason): Problem.invalid(field, reason)
        case .cannotOpen, .database: Problem.internalError
        }
    }
}

/// Runs a store call, mapping its typed error to a problem.
func storeCall<T>(field: String = "body", _ body: () throws(StoreError) -> T) throws(Problem) -> T {
    do { return try body() } catch { throw error.problem(field: field) }
}
