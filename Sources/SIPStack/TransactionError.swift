import SIPCore

/// Why the transaction layer refused a message from the TU.
public enum TransactionError: Error, Equatable, Sendable {
    /// `sendRequest` was given a response.
    case notARequest
    /// `sendResponse` was given a request.
    case notAResponse
    /// ACK is never a client transaction (§17.1.1.3: the non-2xx ACK is built by the INVITE transaction,
    /// the 2xx ACK is sent by the TU directly).
    case ackIsNotATransaction
    /// The request's top Via has no RFC 3261 branch (z9hG4bK...).
    case missingBranch
    /// A live transaction already has this key.
    case duplicateTransaction
    /// No live server transaction matches the response.
    case noSuchTransaction
    /// The message lacks what keying needs (Via, CSeq).
    case invalidMessage(SIPParseError)
}
