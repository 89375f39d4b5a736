import SIPCore
import SIPStack
import TandemBase

/// Digest authentication of calls (RFC 3261 §22.3, proxy-style 407) against the registrar's directory, nonce
/// secret and failed-authentication guard, so a scanner trying passwords by INVITE is blocked like one trying
/// them by REGISTER.
extension Registrar {
    /// What to do with an INVITE's credentials.
    enum CallAuthentication {
        /// The caller is this enabled extension of `tenant`.
        case authenticated(tenant: DirectoryTenant, user: DirectoryUser)
        /// Send this response (407 challenge, 403, 404, 500).
        case respond(SIPMessageBuilder)
        /// Send nothing (blocked source or challenge flood).
        case drop
    }

    /// Authenticates `request` (an INVITE) from `source`: the tenant is the From domain's (else the
    /// Request-URI's); the credentials must be the From user's.
    func authenticateCall(_ request: SIPMessage, source: SIPTransportSource, now: Instant) -> CallAuthentication {
        let ip = Self.address(of: source)
        if authenticationGuard.isBlocked(ip, now: now) { return .drop }
        guard let from = try? request.from, let fromUser = from.uri.user else { return respond(request, 400) }
        let tenant: DirectoryTenant
        do {
            if let t = try directory.tenant(domain: from.uri.host) {
                tenant = t
            } else if let host = request.requestURI?.host, let t = try directory.tenant(domain: host) {
                tenant = t
            } else {
                return respond(request, 404)
            }
        } catch {
            counters.directoryErrors += 1
            return respond(request, 500)
        }
        let challenger = challenger(for: tenant.domain)
        guard let credentials = (try? request.proxyAuthorization)?.first(where: { $0.realm == challenger.realm }) else {
            return challengeCall(request, challenger: challenger, ip: ip, stale: false, now: now)
        }
        let user: DirectoryUser?
        do {
            user = try directory.user(tenantID: tenant.id, number: credentials.username)
        } catch {
            counters.directoryErrors += 1
            return respond(request, 500)
        }
        switch challenger.verify(credentials, method: "INVITE", store: CallerSecret(user: user), now: now) {
        case .authenticated:
            authenticationGuard.recordSuccess(ip, now: now)
        case .stale:
            return challengeCall(request, challenger: challenger, ip: ip, stale: true, now: now)
        case .rejected(.wrongResponse), .rejected(.unknownUser):
            counters.authenticationFailures += 1
            authenticationGuard.recordFailure(ip, now: now)
            return respond(request, 403)
        case .rejected:
            return challengeCall(request, challenger: challenger, ip: ip, stale: false, now: now)
        }
        guard let user, user.number == fromUser, user.isEnabled else { return respond(request, 403) }
        return .authenticated(tenant: tenant, user: user)
    }

    private func challengeCall(_ request: SIPMessage, challenger: DigestChallenger, ip: String, stale: Bool,
                               now: Instant) -> CallAuthentication {
        guard authenticationGuard.mayChallenge(ip, now: now) else {
            counters.droppedChallengeLimit += 1
            return .drop
        }
        guard var b = try? SIPMessageBuilder.response(to: request, statusCode: 407, toTag: TransactionLayer.makeTag()) else {
            return .drop
        }
        for algorithm in configuration.challengeAlgorithms {
            b.add(name: "Proxy-Authenticate", value: challenger.challenge(algorithm: algorithm, isStale: stale, now: now).description)
        }
        authenticationGuard.recordChallenge(ip, now: now)
        counters.challenges += 1
        return .respond(b)
    }

    private func respond(_ request: SIPMessage, _ status: Int) -> CallAuthentication {
        guard let b = try? SIPMessageBuilder.response(to: request, statusCode: status, toTag: TransactionLayer.makeTag()) else {
            return .drop
        }
        return .respond(b)
    }
}

/// The digest secret of the one extension looked up for a call.
private struct CallerSecret: DigestCredentialStore {
    let user: DirectoryUser?

    func secret(username: String, realm: String, algorithm: DigestAlgorithm) -> DigestSecret? {
        guard let user, user.number == username else { return nil }
        switch algorithm {
        case .md5, .md5Session: return .ha1(user.ha1MD5)
        case .sha256, .sha256Session: return .ha1(user.ha1SHA256)
        }
    }
}
