import SIPCore
import TandemBase

/// The Subscription-State header value (RFC 6665 §8.2.3): `active;expires=600`, `terminated;reason=noresource`.
public struct SubscriptionStateValue: Equatable, Sendable, CustomStringConvertible {
    /// The substate.
    public enum Substate: Equatable, Sendable {
        /// Waiting for authorisation.
        case pending
        /// Authorised and running.
        case active
        /// Over; `reason` is e.g. "noresource", "timeout", "rejected", "deactivated" (RFC 6665 §4.2.2).
        case terminated(reason: String?)
    }

    /// The substate.
    public var state: Substate
    /// Seconds left (`expires` parameter), for pending/active.
    public var expires: UInt32?
    /// `retry-after` in seconds, for terminated.
    public var retryAfter: UInt32?

    /// A value from parts.
    public init(state: Substate, expires: UInt32? = nil, retryAfter: UInt32? = nil) {
        self.state = state
        self.expires = expires
        self.retryAfter = retryAfter
    }

    /// Parses the header value; nil when the substate is missing.
    public init?(parsing text: String) {
        let parts = text.split(separator: ";").map { String($0.filter { $0 != " " && $0 != "\t" }) }
        guard let first = parts.first?.lowercased(), !first.isEmpty else { return nil }
        var params: [String: String] = [:]
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1)
            guard let k = kv.first else { continue }
            params[k.lowercased()] = kv.count > 1 ? String(kv[1]) : ""
        }
        switch first {
        case "pending": state = .pending
        case "active": state = .active
        case "terminated": state = .terminated(reason: params["reason"])
        default: return nil  // RFC 6665 §4.1.3: unknown substates are treated as... the caller decides.
        }
        expires = params["expires"].flatMap { UInt32($0) }
        retryAfter = params["retry-after"].flatMap { UInt32($0) }
    }

    /// The header value.
    public var description: String {
        switch state {
        case .pending: "pending" + (expires.map { ";expires=" + String($0) } ?? "")
        case .active: "active" + (expires.map { ";expires=" + String($0) } ?? "")
        case .terminated(let reason):
            "terminated" + (reason.map { ";reason=" + $0 } ?? "") + (retryAfter.map { ";retry-after=" + String($0) } ?? "")
        }
    }
}

/// One RFC 6665 subscription, from either side: state (pending/active/terminated), expiry and refresh.
/// It does not own a dialog (a REFER subscription shares the INVITE dialog): the owner builds requests with
/// `Dialog.makeRequest` and adds the headers this type gives. Pure; time injected; control plane.
public struct Subscription: Equatable, Sendable {
    /// Which side we are.
    public enum Role: Equatable, Sendable {
        /// We sent SUBSCRIBE (or REFER) and receive NOTIFYs.
        case subscriber
        /// We received it and send NOTIFYs.
        case notifier
    }

    /// What the owner must do.
    public enum Action: Equatable, Sendable {
        /// Subscriber: refresh with a SUBSCRIBE carrying `Expires: seconds`.
        case refresh(expires: UInt32)
        /// Notifier: the subscription ran out; send a final NOTIFY with `terminated;reason=timeout`.
        case sendFinalNotify(SubscriptionStateValue)
        /// Subscriber: it ran out without a refresh or final NOTIFY; consider it terminated.
        case expired
    }

    /// How a notifier answers a SUBSCRIBE.
    public enum SubscribeVerdict: Equatable, Sendable {
        /// 200 with `Expires: granted`; then NOTIFY at once (RFC 6665 §4.2.1.2).
        case accept(granted: UInt32)
        /// 423 Interval Too Brief with `Min-Expires` (RFC 6665 §4.2.1.1).
        case intervalTooBrief(minimum: UInt32)
        /// 489 Bad Event: the package or Event header is missing or unknown.
        case badEvent
    }

    /// Our side.
    public let role: Role
    /// The event package and id (matches NOTIFY to SUBSCRIBE, RFC 6665 §4.1.2).
    public let event: SIPEvent
    /// Current substate.
    public private(set) var state: SubscriptionStateValue.Substate
    /// When the subscription ends without a refresh.
    public private(set) var expiresAt: Instant?
    /// Subscriber: when to send the refresh.
    public private(set) var refreshAt: Instant?
    /// The duration we ask for (subscriber) or grant at most (notifier), in seconds.
    public let requestedExpires: UInt32

    /// A subscription from parts.
    public init(role: Role, event: SIPEvent, requestedExpires: UInt32, state: SubscriptionStateValue.Substate = .pending) {
        self.role = role
        self.event = event
        self.requestedExpires = requestedExpires
        self.state = state
    }

    /// True once terminated.
    public var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    /// Seconds left at `now` (for NOTIFY `expires`).
    public func remaining(at now: Instant) -> UInt32 {
        guard let e = expiresAt, e > now else { return 0 }
        return UInt32(clamping: (e.milliseconds(since: now) + 999) / 1000)
    }

    /// Starts the expiry clock at `now` (implicit subscriptions such as REFER's, RFC 3515 §2.4.4, or a
    /// subscriber that sent its SUBSCRIBE); the subscriber also schedules its refresh.
    public mutating func start(expires seconds: UInt32, now: Instant) {
        if role == .subscriber {
            schedule(seconds, now: now)
        } else {
            expiresAt = now.adding(milliseconds: Int64(seconds) * 1000)
        }
    }

    // MARK: Notifier

    /// Judges a SUBSCRIBE (initial or refresh) for `packages`: `Expires` 0 unsubscribes (the owner then
    /// sends a final NOTIFY), below `minimum` gets 423, above `maximum` is shortened (RFC 6665 §4.2.1.1).
    public mutating func receiveSubscribe(_ request: SIPMessage, minimum: UInt32, maximum: UInt32, now: Instant) -> SubscribeVerdict {
        guard let ev = (try? request.event) ?? nil, ev.package.lowercased() == event.package.lowercased(), ev.id == event.id else {
            return .badEvent
        }
        let asked = ((try? request.expires) ?? nil) ?? requestedExpires
        if asked == 0 {
            // An unsubscribe (or a fetch): 200, then a final NOTIFY (RFC 6665 §4.2.1.4).
            state = .terminated(reason: "timeout")
            expiresAt = nil
            return .accept(granted: 0)
        }
        if asked < minimum { return .intervalTooBrief(minimum: minimum) }
        let granted = min(asked, maximum)
        expiresAt = now.adding(milliseconds: Int64(granted) * 1000)
        return .accept(granted: granted)
    }

    /// Notifier: authorise (`pending` → `active`) or change state; returns the Subscription-State to send
    /// in the NOTIFY (with the seconds left for pending/active).
    public mutating func notifyState(_ newState: SubscriptionStateValue.Substate, now: Instant) -> SubscriptionStateValue {
        if !isTerminated { state = newState }
        if case .terminated = state {
            expiresAt = nil
            return SubscriptionStateValue(state: state)
        }
        return SubscriptionStateValue(state: state, expires: remaining(at: now))
    }

    // MARK: Subscriber

    /// Subscriber: a 2xx to our SUBSCRIBE sets the expiry from its `Expires` (RFC 6665 §4.1.2.1);
    /// 423 gives the interval to retry with; other finals end the subscription.
    public mutating func receiveSubscribeResponse(_ response: SIPMessage, now: Instant) -> UInt32? {
        guard let code = response.statusCode, code >= 200 else { return nil }
        if code < 300 {
            let granted = ((try? response.expires) ?? nil) ?? requestedExpires
            schedule(granted, now: now)
            return nil
        }
        if code == 423, let min = (try? response.minExpires) ?? nil { return min }
        state = .terminated(reason: "rejected")
        expiresAt = nil
        refreshAt = nil
        return nil
    }

    /// Subscriber: applies a NOTIFY's Subscription-State (RFC 6665 §4.1.3); returns the status to answer
    /// (200, or 489 when the Event does not match, 400 when the state header is missing or unknown).
    public mutating func receiveNotify(_ request: SIPMessage, now: Instant) -> Int {
        guard let ev = (try? request.event) ?? nil, ev.package.lowercased() == event.package.lowercased(), ev.id == event.id else {
            return 489
        }
        guard let text = request.value("subscription-state"), let value = SubscriptionStateValue(parsing: text) else { return 400 }
        state = value.state
        switch value.state {
        case .terminated:
            expiresAt = nil
            refreshAt = nil
        case .pending, .active:
            // The notifier may shorten the subscription (RFC 6665 §4.1.3).
            if let e = value.expires {
                let proposed = now.adding(milliseconds: Int64(e) * 1000)
                if expiresAt.map({ proposed < $0 }) ?? true { schedule(e, now: now) }
            }
        }
        return 200
    }

    private mutating func schedule(_ seconds: UInt32, now: Instant) {
        let ms = Int64(seconds) * 1000
        expiresAt = now.adding(milliseconds: ms)
        // Refresh ahead of expiry: with a margin of a third of the interval, capped at 32 s like RFC 4028.
        refreshAt = seconds == 0 ? nil : now.adding(milliseconds: ms - min(32_000, ms / 3))
    }

    // MARK: Time

    /// When `poll(now:)` next has work.
    public var nextDeadline: Instant? { [refreshAt, expiresAt].compactMap { $0 }.min() }

    /// Runs due timers.
    public mutating func poll(now: Instant) -> [Action] {
        guard !isTerminated else { return [] }
        if let e = expiresAt, now >= e {
            expiresAt = nil
            refreshAt = nil
            state = .terminated(reason: "timeout")
            switch role {
            case .notifier: return [.sendFinalNotify(SubscriptionStateValue(state: state))]
            case .subscriber: return [.expired]
            }
        }
        if role == .subscriber, let r = refreshAt, now >= r {
            refreshAt = nil
            return [.refresh(expires: requestedExpires)]
        }
        return []
    }
}
