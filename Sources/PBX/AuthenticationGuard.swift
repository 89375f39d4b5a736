import TandemBase

/// Failed-authentication protection, per source IP address (the packet's, not what Via claims):
/// - an address with `failureLimit` failed authentications within `failureWindowMilliseconds` is blocked for
///   `blockMilliseconds`;
/// - an address may hold at most `maximumOutstandingChallenges` unanswered 401/407 challenges; a challenge
///   counts as outstanding until answered with valid credentials or `challengeWindowMilliseconds` pass.
///
/// Pure and single-threaded; time comes in as `now`. Memory is bounded by `maximumTrackedSources`: when full,
/// idle entries are dropped first and then new sources go untracked (counted in `untrackedSources`).
public struct AuthenticationGuard: Sendable {
    /// The limits; all configurable.
    public struct Configuration: Sendable, Hashable {
        public var failureLimit: Int = 10
        public var failureWindowMilliseconds: Int64 = 10_000
        public var blockMilliseconds: Int64 = 3_600_000
        public var maximumOutstandingChallenges: Int = 32
        /// A legitimate client answers a challenge at once; 32 s is SIP's Timer F (64·T1).
        public var challengeWindowMilliseconds: Int64 = 32_000
        public var maximumTrackedSources: Int = 65_536

        public init() {}
    }

    private struct Record: Sendable {
        /// Times of recent failures, oldest first; at most `failureLimit`.
        var failures: [Instant] = []
        /// Issue times of outstanding challenges, oldest first.
        var challenges: [Instant] = []
        var blockedUntil: Instant?

        func isIdle(now: Instant, configuration: Configuration) -> Bool {
            if let until = blockedUntil, now < until { return false }
            if let last = failures.last, now.milliseconds(since: last) < configuration.failureWindowMilliseconds { return false }
            if let last = challenges.last, now.milliseconds(since: last) < configuration.challengeWindowMilliseconds { return false }
            return true
        }
    }

    public let configuration: Configuration
    private var records: [String: Record] = [:]
    /// Sources not tracked because the table was full of active ones.
    public private(set) var untrackedSources = 0
    /// Times an address became blocked.
    public private(set) var blocks = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Number of addresses tracked now.
    public var trackedSources: Int { records.count }

    /// True while `ip` is blocked.
    public func isBlocked(_ ip: String, now: Instant) -> Bool {
        guard let until = records[ip]?.blockedUntil else { return false }
        return now < until
    }

    /// The addresses blocked at `now`.
    public func blockedAddresses(now: Instant) -> [String] {
        records.compactMap { ip, r in r.blockedUntil.map { now < $0 } == true ? ip : nil }.sorted()
    }

    /// Records a failed authentication from `ip`; returns true when this failure blocks it.
    @discardableResult
    public mutating func recordFailure(_ ip: String, now: Instant) -> Bool {
        guard var r = record(ip, now: now) else { return false }
        r.failures.removeAll { now.milliseconds(since: $0) >= configuration.failureWindowMilliseconds }
        r.failures.append(now)
        var blocked = false
        if r.failures.count >= configuration.failureLimit {
            r.blockedUntil = now.adding(milliseconds: configuration.blockMilliseconds)
            r.failures.removeAll()
            blocks += 1
            blocked = true
        }
        records[ip] = r
        return blocked
    }

    /// True when `ip` may be sent one more challenge now (fewer than the limit are outstanding).
    public mutating func mayChallenge(_ ip: String, now: Instant) -> Bool {
        guard var r = records[ip] else { return true }
        r.challenges.removeAll { now.milliseconds(since: $0) >= configuration.challengeWindowMilliseconds }
        records[ip] = r
        return r.challenges.count < configuration.maximumOutstandingChallenges
    }

    /// Records a challenge sent to `ip`.
    public mutating func recordChallenge(_ ip: String, now: Instant) {
        guard var r = record(ip, now: now) else { return }
        r.challenges.append(now)
        if r.challenges.count > configuration.maximumOutstandingChallenges { r.challenges.removeFirst() }
        records[ip] = r
    }

    /// Records valid credentials from `ip`: its oldest outstanding challenge is answered.
    public mutating func recordSuccess(_ ip: String, now: Instant) {
        guard var r = records[ip] else { return }
        if !r.challenges.isEmpty { r.challenges.removeFirst() }
        if r.isIdle(now: now, configuration: configuration) && r.challenges.isEmpty { records.removeValue(forKey: ip) } else { records[ip] = r }
    }

    /// Drops idle entries (block over, no recent failures or challenges). Call from a timer; O(tracked).
    public mutating func sweep(now: Instant) {
        let configuration = configuration
        records = records.filter { !$0.value.isIdle(now: now, configuration: configuration) }
    }

    private mutating func record(_ ip: String, now: Instant) -> Record? {
        if let r = records[ip] { return r }
        if records.count >= configuration.maximumTrackedSources { sweep(now: now) }
        guard records.count < configuration.maximumTrackedSources else {
            untrackedSources += 1
            return nil
        }
        return Record()
    }
}
