/// Why a byte sequence is not valid bencode; every case carries the byte offset where parsing stopped.
public enum BencodeError: Error, Hashable, Sendable {
    /// The input ended inside a value.
    case truncated(offset: Int)
    /// A byte that cannot start or continue a value at this point.
    case unexpectedByte(UInt8, offset: Int)
    /// An integer with no digits, a leading zero, `-0`, or a non-digit before `e`.
    case invalidInteger(offset: Int)
    /// An integer that does not fit in 64 bits.
    case integerOverflow(offset: Int)
    /// A string length prefix with a leading zero, no digits or no `:`.
    case invalidStringLength(offset: Int)
    /// A string longer than the limit or than the remaining input.
    case stringTooLong(offset: Int)
    /// Lists and dictionaries nested deeper than the limit.
    case depthExceeded(offset: Int)
    /// More values in the whole document than the limit.
    case tooManyElements(offset: Int)
    /// A dictionary key that is not a byte string.
    case nonStringKey(offset: Int)
    /// The same key twice in one dictionary.
    case duplicateKey(offset: Int)
    /// Bytes left over after the top-level value.
    case trailingBytes(offset: Int)
}

/// Why an ng datagram could not be framed: no cookie could be read, so nothing can be answered.
public enum NGFramingError: Error, Hashable, Sendable {
    /// The datagram is empty or starts with a space.
    case missingCookie
    /// The cookie is longer than the limit (rtpengine cookies are short tokens).
    case cookieTooLong
    /// No space separates the cookie from the dictionary.
    case missingSeparator
}

/// Why a well-framed ng request is rejected; each maps to the `error-reason` of an ng error reply.
public enum NGRequestError: Error, Hashable, Sendable {
    /// The body after the cookie is not valid bencode.
    case invalidBencode(BencodeError)
    /// The body is valid bencode but not a dictionary.
    case notADictionary
    /// The dictionary has no `command` key.
    case missingCommand
    /// The `command` value is not one this codec knows.
    case unrecognizedCommand(String)
    /// A command that needs a call-id has none.
    case missingCallID
    /// A command that needs a from-tag has none.
    case missingFromTag
    /// An `answer` without a to-tag.
    case missingToTag
    /// An `offer` or `answer` without an SDP body.
    case missingSDP
    /// A known key whose value has the wrong type or an unknown keyword.
    case invalidValue(key: String)

    /// The human-readable `error-reason` sent back, worded like rtpengine's where it has one.
    public var reason: String {
        switch self {
        case .invalidBencode: return "Failed to decode bencode dictionary"
        case .notADictionary: return "Could not decode dictionary"
        case .missingCommand: return "No command in message"
        case .unrecognizedCommand: return "Unrecognized command"
        case .missingCallID: return "No call-id in message"
        case .missingFromTag: return "No from-tag in message"
        case .missingToTag: return "No to-tag in message"
        case .missingSDP: return "No SDP body in message"
        case .invalidValue(let key): return "Invalid value for key '\(key)'"
        }
    }
}
