/// Why a SIP message, header value or URI could not be parsed.
public enum SIPParseError: Error, Equatable, Sendable {
    /// The input was empty or only line breaks.
    case empty
    /// The request or status line does not follow RFC 3261 §7.1 / §7.2.
    case malformedStartLine
    /// The SIP-Version is not SIP/2.0 (answer 505, RFC 3261 §8.2.2... §21.5.6).
    case unsupportedVersion
    /// The status code is not three digits in 100...699.
    case invalidStatusCode
    /// The method is not a token.
    case invalidMethod
    /// The Request-URI is malformed or carries components it may not (RFC 3261 §19.1.1).
    case invalidRequestURI
    /// A header line has no colon or an invalid name.
    case malformedHeaderLine
    /// The header section is not ended by an empty line.
    case missingHeaderTerminator
    /// Content-Length is not a non-negative decimal number.
    case invalidContentLength
    /// Content-Length promises more body than the message carries (RFC 3261 §18.3).
    case contentLengthExceedsMessage
    /// A header RFC 3261 §8.1.1 requires is absent.
    case missingMandatoryHeader(String)
    /// A header value does not follow its grammar; carries the canonical header name.
    case invalidHeaderValue(String)
    /// The CSeq method differs from the request method (RFC 3261 §8.2.6... §12.2.1.1).
    case cseqMethodMismatch
    /// A numeric field is larger than its grammar allows; carries the header name.
    case valueOutOfRange(String)
    /// A SIP, SIPS or tel URI is malformed.
    case invalidURI
    /// The message is larger than the configured maximum.
    case messageTooLarge

    /// The response status code a UAS should answer with, when a response is possible.
    public var suggestedStatusCode: Int {
        switch self {
        case .unsupportedVersion: 505
        default: 400
        }
    }
}

/// Why a byte stream could not be framed into SIP messages; the connection should be closed.
public enum SIPFramingError: Error, Equatable, Sendable {
    /// A message (headers plus body) would exceed the framer's maximum size.
    case messageTooLarge
    /// A message on a stream has no Content-Length (RFC 3261 §18.3 requires it on streams).
    case missingContentLength
    /// The framed message failed to parse.
    case invalidMessage(SIPParseError)
}

/// Why a message could not be serialised.
public enum SIPSerializeError: Error, Equatable, Sendable {
    /// The output buffer is smaller than `serializedSize`.
    case bufferTooSmall(needed: Int)
}

/// Why a Digest challenge or credentials could not be used (RFC 2617, RFC 7616).
public enum DigestError: Error, Equatable, Sendable {
    /// The header value is not a Digest challenge or credentials.
    case malformed
    /// The algorithm is neither MD5 nor SHA-256 (or their -sess forms).
    case unsupportedAlgorithm(String)
    /// The challenge offers only qop values other than auth.
    case unsupportedQop
    /// A required parameter is absent; carries its name.
    case missingParameter(String)
}
