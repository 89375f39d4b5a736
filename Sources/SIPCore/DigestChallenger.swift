import TandemBase

/// What the server knows about a user, returned by a `DigestCredentialStore`.
public enum DigestSecret: Sendable, Equatable {
    /// The clear-text password.
    case password(String)
    /// The hex HA1 = H(username:realm:password) for the requested algorithm.
    case ha1(String)
}

/// Server-side credential lookup; the PBX implements it over its directory. Called on the verifying thread.
public protocol DigestCredentialStore {
    /// The secret for `username` in `realm` usable with `algorithm`, or nil for an unknown user.
    func secret(username: String, realm: String, algorithm: DigestAlgorithm) -> DigestSecret?
}

/// The outcome of checking credentials.
public enum DigestVerdict: Equatable, Sendable {
    /// The credentials are valid for this user.
    case authenticated(username: String)
    /// The response was right but the nonce expired or can no longer be checked for replay: challenge again with stale=true.
    case stale
    /// The credentials are wrong or replayed: challenge again (or 403).
    case rejected(DigestRejection)
}

/// Why credentials were rejected.
public enum DigestRejection: Equatable, Sendable {
    /// The realm is not this challenger's.
    case realmMismatch
    /// The nonce is not in this challenger's format.
    case malformedNonce
    /// The nonce's MAC does not verify or its timestamp is in the future.
    case forgedNonce
    /// The store does not know the user.
    case unknownUser
    /// The response does not match the expected digest.
    case wrongResponse
    /// The nonce-count is not above the highest seen for this nonce (RFC 7616 §3.4 replay protection).
    case replayedNonceCount
    /// Credentials without qop while qop is required.
    case qopRequired
    /// A qop other than auth (auth-int is not supported).
    case unsupportedQop
}

/// Issues and verifies Digest nonces statelessly: a nonce is `time.random.mac` where mac is an HMAC-SHA-256
/// over time, random and realm under a server secret, so any nonce can be checked without storing it. Only
/// the highest nonce-count per nonce in use is stored, bounded by `maximumTrackedNonces` (RFC 7616 §3.3, §5.5).
/// Not thread-safe: use from one thread (or one event loop) or guard externally.
public final class DigestChallenger {
    /// The realm in every challenge.
    public let realm: String
    /// Nonce lifetime in milliseconds of `Instant` time.
    public let nonceLifetimeMilliseconds: Int64
    /// Upper bound on tracked nonces (memory bound for replay detection).
    public let maximumTrackedNonces: Int
    /// When true, credentials without qop (RFC 2069 legacy) are rejected.
    public let requiresQop: Bool

    private let secret: [UInt8]
    private var highestNonceCount: [String: (nc: UInt32, issued: UInt64)] = [:]
    private var trackingOrder: [String] = []
    private var trackingHead = 0
    /// Nonces issued at or before this time may have been forgotten, so they are answered `stale`.
    private var forgottenBefore: UInt64 = 0

    /// A challenger for `realm`; `secret` should be at least 32 random bytes.
    public init(realm: String, secret: [UInt8], nonceLifetimeMilliseconds: Int64 = 300_000,
                maximumTrackedNonces: Int = 8192, requiresQop: Bool = true) {
        self.realm = realm
        self.secret = secret
        self.nonceLifetimeMilliseconds = nonceLifetimeMilliseconds
        self.maximumTrackedNonces = max(1, maximumTrackedNonces)
        self.requiresQop = requiresQop
    }

    /// Number of nonces currently tracked for replay detection.
    public var trackedNonceCount: Int { highestNonceCount.count }

    /// A fresh challenge (qop=auth) for a 401/407.
    public func challenge(algorithm: DigestAlgorithm = .md5, isStale: Bool = false, now: Instant) -> DigestChallenge {
        DigestChallenge(realm: realm, nonce: makeNonce(now: now), opaque: nil, algorithm: algorithm, qop: ["auth"], isStale: isStale)
    }

    func makeNonce(now: Instant) -> String {
        let ms = now.nanoseconds / 1_000_000
        let body = String(ms, radix: 16) + "." + SecureRandom.bytes(8).hexString
        return body + "." + mac(body)
    }

    private func mac(_ body: String) -> String {
        Array(TandemBase.Digest.sha256.hmac(key: secret, data: Array((body + ":" + realm).utf8)).prefix(16)).hexString
    }

    /// Checks `credentials` for a request with `method`. Records the nonce-count only when the response is right.
    public func verify(_ credentials: DigestCredentials, method: String, store: some DigestCredentialStore, now: Instant) -> DigestVerdict {
        guard credentials.realm == realm else { return .rejected(.realmMismatch) }
        // Nonce structure and MAC.
        let parts = credentials.nonce.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let issued = UInt64(parts[0], radix: 16) else { return .rejected(.malformedNonce) }
        let body = parts[0] + "." + parts[1]
        guard constantTimeEqual(mac(String(body)), String(parts[2])) else { return .rejected(.forgedNonce) }
        let nowMs = now.nanoseconds / 1_000_000
        guard issued <= nowMs else { return .rejected(.forgedNonce) }

        if let qop = credentials.qop {
            guard qop.lowercased() == "auth" else { return .rejected(.unsupportedQop) }
        } else if requiresQop {
            return .rejected(.qopRequired)
        }
        guard let secret = store.secret(username: credentials.username, realm: realm, algorithm: credentials.algorithm) else {
            return .rejected(.unknownUser)
        }
        let ha1: String
        switch secret {
        case .password(let p): ha1 = DigestComputation.ha1(username: credentials.username, realm: realm, password: p, algorithm: credentials.algorithm)
        case .ha1(let h): ha1 = h.lowercased()
        }
        let expected = DigestComputation.response(ha1: ha1, algorithm: credentials.algorithm, method: method, uri: credentials.uri,
                                                  nonce: credentials.nonce, qop: credentials.qop, nonceCount: credentials.nonceCount,
                                                  cnonce: credentials.cnonce)
        guard constantTimeEqual(expected, credentials.response.lowercased()) else { return .rejected(.wrongResponse) }

        // RFC 7616 §3.3 stale: right credentials, old nonce.
        if nowMs - issued > UInt64(max(0, nonceLifetimeMilliseconds)) { return .stale }

        guard credentials.qop != nil, let nc = credentials.nonceCount else {
            return .authenticated(username: credentials.username)
        }
        if let entry = highestNonceCount[credentials.nonce] {
            guard nc > entry.nc else { return .rejected(.replayedNonceCount) }
            highestNonceCount[credentials.nonce] = (nc, entry.issued)
        } else {
            // An untracked nonce issued before the forgetting horizon may have been evicted: its history is lost.
            guard issued > forgottenBefore else { return .stale }
            track(credentials.nonce, nc: nc, issued: issued, nowMs: nowMs)
        }
        return .authenticated(username: credentials.username)
    }

    private func track(_ nonce: String, nc: UInt32, issued: UInt64, nowMs: UInt64) {
        while highestNonceCount.count >= maximumTrackedNonces, trackingHead < trackingOrder.count {
            let oldest = trackingOrder[trackingHead]
            trackingHead += 1
            if let removed = highestNonceCount.removeValue(forKey: oldest) {
                forgottenBefore = max(forgottenBefore, removed.issued)
            }
        }
        // Drop expired entries from the front cheaply; they can only ever be answered stale.
        while trackingHead < trackingOrder.count, let e = highestNonceCount[trackingOrder[trackingHead]],
              nowMs - e.issued > UInt64(max(0, nonceLifetimeMilliseconds)) {
            highestNonceCount.removeValue(forKey: trackingOrder[trackingHead])
            trackingHead += 1
        }
        if trackingHead > 1024, trackingHead * 2 > trackingOrder.count {
            trackingOrder.removeFirst(trackingHead)
            trackingHead = 0
        }
        highestNonceCount[nonce] = (nc, issued)
        trackingOrder.append(nonce)
    }
}

/// Compares two strings without an early exit on the first difference.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}
