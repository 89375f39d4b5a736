import SIPCore
import SIPStack
import TandemBase

/// The registrar (RFC 3261 §10.3) with digest authentication per tenant, the location service, RFC 5626
/// outbound flows and failed-authentication protection.
///
/// The tenant is the one whose domain is the To (address-of-record) domain; its domain is the digest realm.
/// Answers, in order of the checks:
/// - blocked source, or too many outstanding challenges from it: no answer (dropped and counted: an answer
///   would only feed a scanner or a flood);
/// - malformed request, Contact `*` with other contacts or a non-zero Expires: 400; unknown Require: 420;
/// - unknown domain: 404 (domains are public, nothing leaks);
/// - no credentials for the realm, or a stale/unknown nonce: 401 with a fresh challenge;
/// - wrong password or unknown extension: 403 with the same reason for both, so the answers never tell which
///   extensions exist; either counts as a failure against the source address;
/// - credentials of another extension than the To user: 403; disabled extension: 403 (after valid credentials);
/// - an expiry below the minimum: 423 with Min-Expires; above the maximum: shortened to it;
/// - a CSeq not above the stored one for the same Call-ID and contact: 500 (RFC 3261 §10.3 step 7 says only
///   that the update fails; 500 is what the common registrars send), nothing changes;
/// - otherwise 200 with every live binding and its remaining expiry.
///
/// Threading: not thread-safe; confine it to one thread (the SIP endpoint's event loop). Control plane:
/// allocates, and does one directory lookup (a SQLite read) per authenticated REGISTER.
public final class Registrar: @unchecked Sendable {
    /// Registrar policy; every value configurable.
    public struct Configuration: Sendable, Hashable {
        /// Shorter requested expiries are refused with 423 (the seeds use 300 s).
        public var minimumExpires: UInt32 = 300
        /// Longer requested expiries are shortened to this.
        public var maximumExpires: UInt32 = 7200
        /// Used when the request gives no expiry (RFC 3261 §10.3 step 7 leaves it to the registrar).
        public var defaultExpires: UInt32 = 3600
        /// Most contacts per address of record; a new one over the limit displaces the oldest.
        public var maximumContactsPerAddress: Int = 10
        /// Algorithms offered in challenges, one WWW-Authenticate each, preferred first (RFC 8760 §2.4).
        public var challengeAlgorithms: [DigestAlgorithm] = [.md5]
        /// Nonce lifetime.
        public var nonceLifetimeMilliseconds: Int64 = 300_000
        /// Flow-Timer for RFC 5626 outbound registrations (seconds between the phone's keep-alives).
        public var flowTimerSeconds: UInt32 = 120
        /// Failed-authentication protection.
        public var guardConfiguration = AuthenticationGuard.Configuration()

        public init() {}
    }

    /// Counters of what the registrar answered and dropped.
    public struct Counters: Sendable, Hashable {
        public var requests = 0
        public var registered = 0
        public var refreshed = 0
        public var unregistered = 0
        public var expired = 0
        public var queries = 0
        public var challenges = 0
        public var authenticationFailures = 0
        public var droppedBlocked = 0
        public var droppedChallengeLimit = 0
        public var unknownDomain = 0
        public var forbidden = 0
        public var intervalTooBrief = 0
        public var outOfOrder = 0
        public var badRequests = 0
        public var directoryErrors = 0
    }

    /// What to do with a REGISTER.
    public enum Outcome {
        /// Send this response.
        case respond(SIPMessageBuilder)
        /// Send nothing (blocked source or challenge flood); counted.
        case drop
    }

    public let configuration: Configuration
    /// The location service.
    public private(set) var location = LocationService()
    /// The failed-authentication guard.
    public internal(set) var authenticationGuard: AuthenticationGuard
    /// What happened so far.
    public internal(set) var counters = Counters()
    /// Registration events (registered, refreshed, unregistered, expired, flow closed) for the event feed. Keeps
    /// the newest 4096 when nobody reads.
    public let events: AsyncStream<RegistrationEvent>

    let directory: any RegistrarDirectory
    private let nonceSecret: [UInt8]
    private var challengers: [String: DigestChallenger] = [:]
    private let continuation: AsyncStream<RegistrationEvent>.Continuation

    /// A registrar over `directory`. `nonceSecret` keys the nonce MACs (32 random bytes by default; nonces from
    /// before a restart are then answered with a fresh challenge).
    public init(directory: any RegistrarDirectory, configuration: Configuration = Configuration(),
                nonceSecret: [UInt8] = SecureRandom.bytes(32)) {
        self.directory = directory
        self.configuration = configuration
        self.nonceSecret = nonceSecret
        self.authenticationGuard = AuthenticationGuard(configuration: configuration.guardConfiguration)
        (events, continuation) = AsyncStream.makeStream(of: RegistrationEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    deinit { continuation.finish() }

    /// True while `source`'s address is blocked for failed authentications; the SIP service drops every
    /// request from it.
    public func isBlocked(_ source: SIPTransportSource, now: Instant) -> Bool {
        authenticationGuard.isBlocked(Self.address(of: source), now: now)
    }

    /// The live bindings of `aor`, highest q first.
    public func bindings(for aor: AddressOfRecord, now: Instant) -> [ContactBinding] {
        location.bindings(for: aor, now: now)
    }

    /// Timer work: removes lapsed bindings (emitting `expired`) and idle guard entries. Call about once a second.
    public func tick(now: Instant) {
        for b in location.removeExpired(now: now) {
            counters.expired += 1
            continuation.yield(RegistrationEvent(kind: .expired, binding: b))
        }
        authenticationGuard.sweep(now: now)
    }

    /// The stream connection `id` closed: bindings reachable only over it are removed (RFC 5626 §5.3: the flow failed).
    public func flowClosed(_ id: SIPTransportConnectionID) {
        for b in location.removeFlow(id) { continuation.yield(RegistrationEvent(kind: .flowClosed, binding: b)) }
    }

    /// Handles a REGISTER received from `source` at `now`.
    public func handle(_ request: SIPMessage, source: SIPTransportSource, now: Instant) -> Outcome {
        counters.requests += 1
        let ip = Self.address(of: source)
        if authenticationGuard.isBlocked(ip, now: now) {
            counters.droppedBlocked += 1
            return .drop
        }
        // Parse everything the decision needs up front; malformed input is a 400, never a trap.
        let to: NameAddress, callID: String, cseq: CSeq, contacts: ContactValue?, expiresHeader: UInt32?
        let requires: [String], supported: [String]
        do {
            to = try request.to
            callID = try request.callID
            cseq = try request.cseq
            contacts = try request.contact
            expiresHeader = try request.expires
            requires = try request.require
            supported = try request.supported
        } catch {
            return reject(request, 400, reason: "Bad Request")
        }
        guard to.uri.scheme == .sip || to.uri.scheme == .sips, let user = to.uri.user, !user.isEmpty else {
            return reject(request, 400, reason: "Bad Request")
        }
        let unsupported = requires.filter { !["outbound", "path"].contains($0.lowercased()) }
        if !unsupported.isEmpty {
            counters.badRequests += 1
            var b = response(request, 420)
            b?.add(name: "Unsupported", value: unsupported.joined(separator: ", "))
            return b.map { .respond($0) } ?? .drop
        }

        // The tenant.
        let tenant: DirectoryTenant
        do {
            guard let t = try directory.tenant(domain: to.uri.host) else {
                counters.unknownDomain += 1
                return reject(request, 404, reason: "Not Found")
            }
            tenant = t
        } catch {
            counters.directoryErrors += 1
            return reject(request, 500, reason: "Server Internal Error")
        }

        // Digest authentication (RFC 3261 §22.4, RFC 7616).
        let challenger = challenger(for: tenant.domain)
        let credentials: DigestCredentials?
        do {
            credentials = try request.authorization.first { $0.realm == challenger.realm }
        } catch {
            return reject(request, 400, reason: "Bad Request")
        }
        guard let credentials else { return challenge(request, challenger: challenger, ip: ip, stale: false, now: now) }
        let lookedUp: DirectoryUser?
        do {
            lookedUp = try directory.user(tenantID: tenant.id, number: credentials.username)
        } catch {
            counters.directoryErrors += 1
            return reject(request, 500, reason: "Server Internal Error")
        }
        switch challenger.verify(credentials, method: "REGISTER", store: UserSecret(user: lookedUp), now: now) {
        case .authenticated:
            authenticationGuard.recordSuccess(ip, now: now)
        case .stale:
            return challenge(request, challenger: challenger, ip: ip, stale: true, now: now)
        case .rejected(.wrongResponse), .rejected(.unknownUser):
            counters.authenticationFailures += 1
            authenticationGuard.recordFailure(ip, now: now)
            return reject(request, 403, reason: "Forbidden")
        case .rejected:
            // Not this server's nonce (restart, another realm), a replayed count, or a qop we need: a fresh
            // challenge lets an honest client recover, and its next failure is counted.
            return challenge(request, challenger: challenger, ip: ip, stale: false, now: now)
        }
        guard let account = lookedUp, account.number == user else {
            counters.forbidden += 1
            return reject(request, 403, reason: "Forbidden")
        }
        guard account.isEnabled else {
            counters.forbidden += 1
            return reject(request, 403, reason: "Forbidden")
        }

        let aor = AddressOfRecord(tenantID: tenant.id, user: account.number, domain: tenant.domain)
        return updateBindings(request, aor: aor, contacts: contacts, expiresHeader: expiresHeader, callID: callID,
                              cseq: cseq.number, supportsOutbound: supported.contains { $0.lowercased() == "outbound" },
                              source: source, now: now)
    }

    // MARK: Bindings (RFC 3261 §10.3 steps 6–8)

    private func updateBindings(_ request: SIPMessage, aor: AddressOfRecord, contacts: ContactValue?, expiresHeader: UInt32?,
                                callID: String, cseq: UInt32, supportsOutbound: Bool, source: SIPTransportSource,
                                now: Instant) -> Outcome {
        var bindings = location.stored(aor).filter { now < $0.expiresAt }
        var events: [RegistrationEvent] = []
        var usesOutbound = false

        switch contacts {
        case nil:
            counters.queries += 1
        case .wildcard?:
            guard expiresHeader == 0 else { return reject(request, 400, reason: "Bad Request") }
            for b in bindings where b.callID == callID && cseq <= b.cseq {
                counters.outOfOrder += 1
                return reject(request, 500, reason: "Out of Order")
            }
            events = bindings.map { RegistrationEvent(kind: .unregistered, binding: $0) }
            bindings = []
        case .addresses(let addresses)?:
            // Validate every contact before changing anything: the update is all or nothing.
            var planned: [(contact: NameAddress, expires: UInt32, instance: String?, regID: UInt32?)] = []
            for address in addresses {
                guard address.uri.scheme == .sip || address.uri.scheme == .sips else {
                    return reject(request, 400, reason: "Bad Request")
                }
                var expires = address.expires ?? expiresHeader ?? configuration.defaultExpires
                if address.parameters.contains("expires"), address.expires == nil {
                    return reject(request, 400, reason: "Bad Request")
                }
                if expires != 0 && expires < configuration.minimumExpires {
                    counters.intervalTooBrief += 1
                    var b = response(request, 423)
                    b?.add(name: "Min-Expires", value: String(configuration.minimumExpires))
                    return b.map { .respond($0) } ?? .drop
                }
                expires = min(expires, configuration.maximumExpires)
                var contact = address
                contact.parameters.remove("expires")
                let instance = contact.parameters["+sip.instance"]
                // RFC 5626 §6: reg-id counts only with an instance and when the client supports outbound.
                let regID = supportsOutbound && instance != nil
                    ? contact.parameters["reg-id"].flatMap { UInt32($0) } : nil
                if regID != nil { usesOutbound = true }
                planned.append((contact, expires, instance, regID))
            }
            for p in planned {
                let index = bindings.firstIndex { b in
                    if let regID = p.regID { return b.regID == regID && b.instanceID == p.instance }
                    return b.regID == nil && b.uri.isEquivalent(to: p.contact.uri)
                }
                if let index, bindings[index].callID == callID, cseq <= bindings[index].cseq {
                    counters.outOfOrder += 1
                    return reject(request, 500, reason: "Out of Order")
                }
            }
            let userAgent = request.value("user-agent")
            for p in planned {
                let index = bindings.firstIndex { b in
                    if let regID = p.regID { return b.regID == regID && b.instanceID == p.instance }
                    return b.regID == nil && b.uri.isEquivalent(to: p.contact.uri)
                }
                if p.expires == 0 {
                    if let index { events.append(RegistrationEvent(kind: .unregistered, binding: bindings.remove(at: index))) }
                    continue
                }
                var binding = ContactBinding(aor: aor, contact: p.contact, callID: callID, cseq: cseq,
                                             expiresAt: now.adding(milliseconds: Int64(p.expires) * 1000),
                                             registeredAt: now, source: source, instanceID: p.instance, regID: p.regID,
                                             userAgent: userAgent)
                if let index {
                    binding.registeredAt = bindings[index].registeredAt
                    bindings[index] = binding
                    events.append(RegistrationEvent(kind: .refreshed, binding: binding))
                } else {
                    bindings.append(binding)
                    events.append(RegistrationEvent(kind: .registered, binding: binding))
                }
            }
            // Over the limit: the oldest registrations give way (a rebooted phone's stale contact, usually).
            while bindings.count > configuration.maximumContactsPerAddress {
                let oldest = bindings.indices.min { bindings[$0].registeredAt < bindings[$1].registeredAt }!
                events.append(RegistrationEvent(kind: .unregistered, binding: bindings.remove(at: oldest)))
            }
        }

        location.replace(aor, with: bindings)
        for e in events {
            switch e.kind {
            case .registered: counters.registered += 1
            case .refreshed: counters.refreshed += 1
            case .unregistered: counters.unregistered += 1
            case .expired, .flowClosed: break
            }
            continuation.yield(e)
        }

        guard var ok = response(request, 200) else { return .drop }
        for b in location.bindings(for: aor, now: now) {
            var contact = b.contact
            contact.parameters["expires"] = String(b.remainingSeconds(now: now))
            ok.add(.contact, contact.description)
        }
        if usesOutbound {
            // RFC 5626 §6: confirm outbound and tell the phone how often to send keep-alives.
            ok.add(name: "Require", value: "outbound")
            ok.add(name: "Flow-Timer", value: String(configuration.flowTimerSeconds))
        }
        ok.add(name: "Supported", value: "outbound, path")
        return .respond(ok)
    }

    // MARK: Helpers

    func challenger(for realm: String) -> DigestChallenger {
        if let c = challengers[realm] { return c }
        let c = DigestChallenger(realm: realm, secret: nonceSecret, nonceLifetimeMilliseconds: configuration.nonceLifetimeMilliseconds)
        challengers[realm] = c
        return c
    }

    private func challenge(_ request: SIPMessage, challenger: DigestChallenger, ip: String, stale: Bool, now: Instant) -> Outcome {
        guard authenticationGuard.mayChallenge(ip, now: now) else {
            counters.droppedChallengeLimit += 1
            return .drop
        }
        guard var b = response(request, 401) else { return .drop }
        for algorithm in configuration.challengeAlgorithms {
            b.add(name: "WWW-Authenticate", value: challenger.challenge(algorithm: algorithm, isStale: stale, now: now).description)
        }
        authenticationGuard.recordChallenge(ip, now: now)
        counters.challenges += 1
        return .respond(b)
    }

    private func reject(_ request: SIPMessage, _ status: Int, reason: String) -> Outcome {
        if status == 400 { counters.badRequests += 1 }
        guard let b = response(request, status, reasonPhrase: reason) else { return .drop }
        return .respond(b)
    }

    private func response(_ request: SIPMessage, _ status: Int, reasonPhrase: String? = nil) -> SIPMessageBuilder? {
        try? SIPMessageBuilder.response(to: request, statusCode: status, reasonPhrase: reasonPhrase, toTag: TransactionLayer.makeTag())
    }

    /// The source IP address as text (the key of the failed-authentication guard).
    static func address(of source: SIPTransportSource) -> String {
        source.remote.ipAddress ?? source.remote.description
    }
}

/// The digest secret of the one extension looked up for a request.
private struct UserSecret: DigestCredentialStore {
    let user: DirectoryUser?

    func secret(username: String, realm: String, algorithm: DigestAlgorithm) -> DigestSecret? {
        guard let user, user.number == username else { return nil }
        switch algorithm {
        case .md5, .md5Session: return .ha1(user.ha1MD5)
        case .sha256, .sha256Session: return .ha1(user.ha1SHA256)
        }
    }
}
