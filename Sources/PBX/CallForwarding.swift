import Store

/// Where a forwarding rule sends a call.
public enum ForwardDestination: Hashable, Sendable, CustomStringConvertible {
    /// Another extension of the same tenant.
    case `extension`(String)
    /// The voicemail of an extension (not served yet: the call ends as unavailable).
    case voicemail(String)

    /// Parses the stored form: "201" or "voicemail:201"; nil for empty text.
    public init?(stored: String?) {
        guard let stored, !stored.isEmpty else { return nil }
        if stored.hasPrefix("voicemail:") {
            let number = String(stored.dropFirst("voicemail:".count))
            guard !number.isEmpty else { return nil }
            self = .voicemail(number)
        } else {
            self = .extension(stored)
        }
    }

    public var description: String {
        switch self {
        case .extension(let n): return n
        case .voicemail(let n): return "voicemail:" + n
        }
    }
}

/// An extension's forwarding rules and do-not-disturb, as call control uses them.
public struct CallForwarding: Hashable, Sendable {
    public var doNotDisturb = false
    public var always: ForwardDestination?
    public var onBusy: ForwardDestination?
    public var onNoAnswer: ForwardDestination?
    public var onUnavailable: ForwardDestination?
    /// How long to ring before the no-answer rule applies (seconds); nil: the server's ring timeout.
    public var noAnswerSeconds: Int?

    public init(doNotDisturb: Bool = false, always: ForwardDestination? = nil, onBusy: ForwardDestination? = nil,
                onNoAnswer: ForwardDestination? = nil, onUnavailable: ForwardDestination? = nil, noAnswerSeconds: Int? = nil) {
        self.doNotDisturb = doNotDisturb
        self.always = always
        self.onBusy = onBusy
        self.onNoAnswer = onNoAnswer
        self.onUnavailable = onUnavailable
        self.noAnswerSeconds = noAnswerSeconds
    }

    public init(_ stored: ExtensionCallFeatures) {
        self.init(doNotDisturb: stored.doNotDisturb, always: ForwardDestination(stored: stored.forwardAlways),
                  onBusy: ForwardDestination(stored: stored.forwardOnBusy),
                  onNoAnswer: ForwardDestination(stored: stored.forwardOnNoAnswer),
                  onUnavailable: ForwardDestination(stored: stored.forwardOnUnavailable),
                  noAnswerSeconds: stored.noAnswerSeconds)
    }
}

/// Why a target was left for the next one.
public enum ForwardCondition: String, Hashable, Sendable {
    case always, busy, noAnswer = "no_answer", unavailable, doNotDisturb = "dnd"
}

/// Follows one call's forwarding chain: which extension to ring next, with a visited set and a hop limit so
/// that rules pointing at each other (A→B→A) end the call with a clear status instead of looping.
///
/// Pure logic over a directory lookup; the B2BUA asks it once when the call arrives and again whenever the
/// current target is busy or does not answer.
public struct ForwardingChain: Sendable {
    /// What to do next.
    public enum Step: Hashable, Sendable {
        /// Ring this extension's contacts; `noAnswerSeconds` is its own ring time when it has a no-answer rule.
        case ring(number: String, forwarding: CallForwarding)
        /// End the call: `status` to the caller, `reason` in the CDR, `warning` as a Warning header text.
        case end(status: Int, reason: CallDetailRecord.EndReason, warning: String)
    }

    /// The most forwards followed for one call (the first target is not a forward).
    public let hopLimit: Int
    /// Extensions already tried (and the caller), in order of trial.
    public private(set) var visited: [String]
    /// One extension the chain reached, and why it was left (nil while it is the current one).
    public struct Trial: Hashable, Sendable {
        public var number: String
        public var leftBecause: ForwardCondition?
    }

    /// Every extension the chain reached, in order.
    public private(set) var tried: [Trial] = []
    public private(set) var hops = 0

    public init(caller: String, hopLimit: Int = 5) {
        self.hopLimit = hopLimit
        visited = [caller]
    }

    /// The first target: `number` as dialled. `lookup` gives the extension (nil: no such extension);
    /// `isRegistered` whether it has a live contact.
    public mutating func start(number: String, lookup: (String) throws -> DirectoryUser?,
                               isRegistered: (String) -> Bool) rethrows -> Step {
        guard let user = try lookup(number), user.isEnabled else {
            return .end(status: 404, reason: .notFound, warning: "no such extension")
        }
        return try enter(user, lookup: lookup, isRegistered: isRegistered)
    }

    /// The current target left because of `condition` (busy, no answer): where the call goes next.
    /// `fallback` is what the caller gets when the target has no rule for it.
    public mutating func next(after condition: ForwardCondition, current: DirectoryUser, fallback: Step,
                              lookup: (String) throws -> DirectoryUser?, isRegistered: (String) -> Bool) rethrows -> Step {
        let rule: ForwardDestination?
        switch condition {
        case .always: rule = current.forwarding.always
        case .busy, .doNotDisturb: rule = current.forwarding.onBusy
        case .noAnswer: rule = current.forwarding.onNoAnswer
        case .unavailable: rule = current.forwarding.onUnavailable
        }
        if let i = tried.lastIndex(where: { $0.number == current.number }) { tried[i].leftBecause = condition }
        guard let rule else { return fallback }
        return try follow(rule, lookup: lookup, isRegistered: isRegistered)
    }

    private mutating func follow(_ destination: ForwardDestination, lookup: (String) throws -> DirectoryUser?,
                                 isRegistered: (String) -> Bool) rethrows -> Step {
        hops += 1
        guard hops <= hopLimit else {
            return .end(status: 483, reason: .forwardLoop, warning: "too many forwards")
        }
        switch destination {
        case .voicemail:
            return .end(status: 480, reason: .unavailable, warning: "voicemail is not available")
        case .extension(let number):
            guard !visited.contains(number) else {
                return .end(status: 482, reason: .forwardLoop, warning: "forwarding loop")
            }
            guard let user = try lookup(number), user.isEnabled else {
                return .end(status: 404, reason: .notFound, warning: "forward target does not exist")
            }
            return try enter(user, lookup: lookup, isRegistered: isRegistered)
        }
    }

    /// Arrives at `user`: its always rule, DND and availability decide whether it rings or the chain moves on.
    private mutating func enter(_ user: DirectoryUser, lookup: (String) throws -> DirectoryUser?,
                                isRegistered: (String) -> Bool) rethrows -> Step {
        visited.append(user.number)
        tried.append(Trial(number: user.number, leftBecause: nil))
        if user.forwarding.always != nil {
            return try next(after: .always, current: user, fallback: .end(status: 480, reason: .unavailable, warning: ""),
                            lookup: lookup, isRegistered: isRegistered)
        }
        if user.forwarding.doNotDisturb {
            return try next(after: .doNotDisturb, current: user,
                            fallback: .end(status: 486, reason: .busy, warning: "do not disturb"),
                            lookup: lookup, isRegistered: isRegistered)
        }
        if !isRegistered(user.number) {
            return try next(after: .unavailable, current: user,
                            fallback: .end(status: 480, reason: .unavailable, warning: "not registered"),
                            lookup: lookup, isRegistered: isRegistered)
        }
        return .ring(number: user.number, forwarding: user.forwarding)
    }
}
