/// Why a session description was rejected by `SessionDescription(parsing:)` (RFC 8866).
///
/// `line` is the 1-based line number in the input, so a log can point at the bad line.
public enum SDPParseError: Error, Sendable, Hashable {
    /// The input is longer than `SessionDescription.maximumLength` or has too many lines.
    case tooLarge
    /// The input holds no lines.
    case empty
    /// The first line is not `v=` (RFC 8866 §5: the description starts with `v=`).
    case versionNotFirst
    /// The `v=` value is not 0 (RFC 8866 §5.1).
    case unsupportedVersion
    /// A line is not `<letter>=<value>`.
    case malformedLine(line: Int)
    /// A line's type letter is not one RFC 8866 defines (§5: a parser must ignore or reject it; we reject).
    case unknownType(line: Int)
    /// A line of this type is not allowed where it appears (for example `o=` twice, `t=` after `m=`).
    case unexpectedLine(line: Int)
    /// A mandatory session line is missing: the letter that is missing (`o`, `s`, `t`).
    case missingField(Character)
    /// The `o=` value does not have six fields or its version is not a number.
    case invalidOrigin(line: Int)
    /// The `c=` value is not `<nettype> <addrtype> <address>` with a known address type.
    case invalidConnection(line: Int)
    /// The `b=` value is not `<type>:<number>`.
    case invalidBandwidth(line: Int)
    /// The `t=` or `r=` value is malformed.
    case invalidTiming(line: Int)
    /// The `m=` value is not `<media> <port>[/<count>] <proto> <fmt> ...`.
    case invalidMedia(line: Int)
    /// The `a=` line has an empty attribute name.
    case invalidAttribute(line: Int)
}

/// Why an offer or answer could not be negotiated (RFC 3264); answered with 488 at the SIP boundary.
public enum SDPNegotiationError: Error, Sendable, Hashable {
    /// The answer does not have one `m=` line per offered `m=` line (RFC 3264 §6).
    case mediaCountMismatch(offered: Int, answered: Int)
    /// The answer's `m=` line at this index has another media type than the offer's.
    case mediaTypeMismatch(index: Int)
    /// The answer accepts a stream but names no format that was offered (RFC 3264 §6.1).
    case noCommonFormat(index: Int)
    /// The offer's stream is SRTP (`RTP/SAVP`) but the answer has no crypto line matching an offered tag and suite.
    case cryptoMismatch(index: Int)
}
