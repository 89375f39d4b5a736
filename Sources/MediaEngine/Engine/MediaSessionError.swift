/// Why a control call on the media engine failed. Each maps to one answer at the control boundary.
public enum MediaSessionError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The engine is not running (never started, or stopped).
    case notRunning
    /// `start()` was called on a running engine.
    case alreadyRunning
    /// A session with this id already exists.
    case sessionExists
    /// No such session (never created, or deleted).
    case unknownSession
    /// No such leg, or it belongs to a deleted session.
    case unknownLeg
    /// Linked legs must belong to the same session (and hence the same worker).
    case legsInDifferentSessions
    /// The worker's slice of the RTP port range has no free even/odd pair.
    case portsExhausted
    /// A host is not a numeric IPv4/IPv6 address, or is of the wrong family for the leg.
    case invalidAddress(String)
    /// The SRTP key or salt does not fit the suite.
    case invalidSRTPKey
    /// A socket, epoll, timerfd or eventfd call failed, with the negative errno.
    case system(operation: String, errno: Int32)
    /// The worker's command queue is full; try again.
    case busy

    public var description: String {
        switch self {
        case .notRunning: "the media engine is not running"
        case .alreadyRunning: "the media engine is already running"
        case .sessionExists: "a media session with this id already exists"
        case .unknownSession: "unknown media session"
        case .unknownLeg: "unknown media leg"
        case .legsInDifferentSessions: "legs must belong to the same session"
        case .portsExhausted: "no free RTP port pair"
        case .invalidAddress(let a): "invalid address '\(a)'"
        case .invalidSRTPKey: "SRTP key or salt does not fit the suite"
        case .system(let op, let e): "\(op) failed (errno \(-e))"
        case .busy: "the media worker is busy"
        }
    }
}
