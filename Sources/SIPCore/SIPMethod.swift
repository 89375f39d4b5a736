/// A SIP request method (RFC 3261 §7.1 and extensions). Unknown methods are kept by name.
public enum SIPMethod: Hashable, Sendable, CustomStringConvertible {
    /// The RFC 3261 methods and common extensions (PRACK, SUBSCRIBE/NOTIFY, PUBLISH, INFO, REFER, MESSAGE, UPDATE).
    case invite, ack, bye, cancel, register, options, prack, subscribe, notify, publish, info, refer, message, update
    /// Any other method token, kept verbatim.
    case other(String)

    /// Parses a method token; methods are case-sensitive (RFC 3261 §7.1).
    public init(_ token: String) {
        switch token {
        case "INVITE": self = .invite
        case "ACK": self = .ack
        case "BYE": self = .bye
        case "CANCEL": self = .cancel
        case "REGISTER": self = .register
        case "OPTIONS": self = .options
        case "PRACK": self = .prack
        case "SUBSCRIBE": self = .subscribe
        case "NOTIFY": self = .notify
        case "PUBLISH": self = .publish
        case "INFO": self = .info
        case "REFER": self = .refer
        case "MESSAGE": self = .message
        case "UPDATE": self = .update
        default: self = .other(token)
        }
    }

    /// The method token as written on the wire.
    public var description: String {
        switch self {
        case .invite: "INVITE"
        case .ack: "ACK"
        case .bye: "BYE"
        case .cancel: "CANCEL"
        case .register: "REGISTER"
        case .options: "OPTIONS"
        case .prack: "PRACK"
        case .subscribe: "SUBSCRIBE"
        case .notify: "NOTIFY"
        case .publish: "PUBLISH"
        case .info: "INFO"
        case .refer: "REFER"
        case .message: "MESSAGE"
        case .update: "UPDATE"
        case .other(let name): name
        }
    }
}
