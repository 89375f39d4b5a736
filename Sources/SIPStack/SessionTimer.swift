import SIPCore
import TandemBase

/// The product's session-timer settings (RFC 4028): Session-Expires 120 s, Min-SE 90 s.
public struct SessionTimerPolicy: Equatable, Sendable {
    /// The interval we ask for, in seconds.
    public var sessionExpires: UInt32
    /// The smallest interval we accept, in seconds (never below RFC 4028 §4's 90 s floor).
    public var minimumSE: UInt32

    /// The defaults: 120 s asked, 90 s minimum. `floor` is RFC 4028's 90 s lower bound on Min-SE; only tests
    /// lower it (a refresh or an expiry in seconds).
    public init(sessionExpires: UInt32 = 120, minimumSE: UInt32 = 90, floor: UInt32 = 90) {
        self.minimumSE = max(max(1, floor), minimumSE)
        self.sessionExpires = max(sessionExpires, self.minimumSE)
    }
}

/// RFC 4028 negotiation and timing for one session. Negotiation is a set of pure functions on messages;
/// the running timer is a state machine: the refresher refreshes at half the interval, the other side
/// (and the refresher when its refreshes go unanswered) sends BYE at interval − min(32, interval/3).
/// Control plane; allocates only when building headers.
public struct SessionTimer: Equatable, Sendable {
    /// What the UAS does with a session-timer request.
    public enum UASDecision: Equatable, Sendable {
        /// Accept; put these headers in the 2xx and start a timer with the values.
        case accept(SessionTimer)
        /// Session-Expires below our minimum: answer 422 with `Min-SE: minimumSE` (RFC 4028 §8.1).
        case reject422(minimumSE: UInt32)
    }

    /// What the owner must do when the timer fires.
    public enum Action: Equatable, Sendable {
        /// We are the refresher and half the interval has passed: send a re-INVITE or UPDATE (RFC 4028 §10).
        case refresh
        /// No refresh arrived in time: send BYE (RFC 4028 §10).
        case expired
    }

    /// The negotiated interval in seconds.
    public private(set) var interval: UInt32
    /// Who refreshes.
    public private(set) var refresher: SessionExpires.Refresher
    /// The side this UA plays in the dialog.
    public let role: Dialog.Role
    /// True when the peer listed `timer` in Supported (it knows the mechanism).
    public let peerSupportsTimer: Bool
    /// When to refresh (refresher only), and when to give up.
    public private(set) var refreshAt: Instant?
    /// When the session expires without a refresh.
    public private(set) var expireAt: Instant?

    /// A timer with negotiated values, not yet started.
    public init(interval: UInt32, refresher: SessionExpires.Refresher, role: Dialog.Role, peerSupportsTimer: Bool) {
        self.interval = interval
        self.refresher = refresher
        self.role = role
        self.peerSupportsTimer = peerSupportsTimer
    }

    /// True when this UA sends the refreshes.
    public var isLocalRefresher: Bool { (refresher == .uac) == (role == .uac) }

    // MARK: Negotiation

    /// Headers for a UAC's INVITE: `Session-Expires`, `Min-SE` and `Supported: timer` (RFC 4028 §7.1).
    /// `sessionExpires` overrides the policy after a 422.
    public static func addRequestHeaders(to builder: inout SIPMessageBuilder, policy: SessionTimerPolicy,
                                         sessionExpires: UInt32? = nil) {
        builder.set("session-expires", String(sessionExpires ?? policy.sessionExpires))
        builder.set("min-se", String(policy.minimumSE))
        builder.add(.init("supported"), "timer")
    }

    /// The Session-Expires to retry with after a 422: the larger of its Min-SE and ours (RFC 4028 §7.1).
    public static func intervalAfter422(_ response: SIPMessage, policy: SessionTimerPolicy) -> UInt32? {
        guard response.statusCode == 422, let minSE = (try? response.minSE) ?? nil else { return nil }
        return max(minSE, policy.minimumSE, policy.sessionExpires)
    }

    /// The UAS decision for a dialog-creating or refreshing request (RFC 4028 §9).
    public static func negotiateAsUAS(_ request: SIPMessage, policy: SessionTimerPolicy) -> UASDecision {
        let supports = ((try? request.supported) ?? []).contains { $0.lowercased() == "timer" }
        let requestMin = max(((try? request.minSE) ?? nil) ?? 90, policy.minimumSE)
        let asked = (try? request.sessionExpires) ?? nil
        if let asked {
            if asked.seconds < policy.minimumSE { return .reject422(minimumSE: policy.minimumSE) }
            // The UAS may shorten the interval but not below either Min-SE (RFC 4028 §9).
            let interval = max(min(asked.seconds, policy.sessionExpires), requestMin)
            // Without `Supported: timer` the UAC cannot refresh, so we must (RFC 4028 §9).
            let refresher = supports ? (asked.refresher ?? .uac) : .uas
            return .accept(SessionTimer(interval: interval, refresher: refresher, role: .uas, peerSupportsTimer: supports))
        }
        // No Session-Expires: we still want one, so we add it ourselves (RFC 4028 §9).
        return .accept(SessionTimer(interval: max(policy.sessionExpires, requestMin), refresher: supports ? .uac : .uas,
                                    role: .uas, peerSupportsTimer: supports))
    }

    /// The UAC's timer from the 2xx (RFC 4028 §7.2); nil when the 2xx has no Session-Expires and we do not
    /// want to act alone. A 2xx without a refresher parameter makes us (the UAC) the refresher.
    public static func negotiateAsUAC(response: SIPMessage) -> SessionTimer? {
        guard let se = (try? response.sessionExpires) ?? nil else { return nil }
        let supports = ((try? response.require) ?? []).contains { $0.lowercased() == "timer" }
            || ((try? response.supported) ?? []).contains { $0.lowercased() == "timer" }
        return SessionTimer(interval: se.seconds, refresher: se.refresher ?? .uac, role: .uac, peerSupportsTimer: supports)
    }

    /// The UAS's 2xx headers: `Session-Expires: n;refresher=x`, plus `Require: timer` when the UAC
    /// supports it (RFC 4028 §9).
    public func addResponseHeaders(to builder: inout SIPMessageBuilder) {
        builder.set("session-expires", SessionExpires(seconds: interval, refresher: refresher).description)
        if peerSupportsTimer { builder.add(.init("require"), "timer") }
    }

    // MARK: Running

    /// Starts (or restarts after a successful refresh) the timer at `now`.
    public mutating func start(now: Instant) {
        let ms = Int64(interval) * 1000
        refreshAt = isLocalRefresher ? now.adding(milliseconds: ms / 2) : nil
        // RFC 4028 §10: BYE at the expiration minus min(32 s, interval/3).
        expireAt = now.adding(milliseconds: ms - min(32_000, ms / 3))
    }

    /// A refresh (2xx to re-INVITE/UPDATE) may change the interval and refresher (RFC 4028 §10).
    public mutating func renegotiated(interval: UInt32, refresher: SessionExpires.Refresher, now: Instant) {
        self.interval = interval
        self.refresher = refresher
        start(now: now)
    }

    /// When `poll(now:)` next has work.
    public var nextDeadline: Instant? {
        [refreshAt, expireAt].compactMap { $0 }.min()
    }

    /// Runs due timers.
    public mutating func poll(now: Instant) -> [Action] {
        if let e = expireAt, now >= e {
            refreshAt = nil
            expireAt = nil
            return [.expired]
        }
        if let r = refreshAt, now >= r {
            refreshAt = nil
            return [.refresh]
        }
        return []
    }

    /// Stops the timer (session ended).
    public mutating func stop() {
        refreshAt = nil
        expireAt = nil
    }
}
