/// Where an offer or answer travelled (RFC 3264, RFC 6337 §2 table 1).
public enum OfferAnswerCarrier: Equatable, Sendable {
    /// The INVITE (initial or re-INVITE).
    case invite
    /// A reliable 18x (RFC 3262).
    case reliableProvisional
    /// The 2xx to an INVITE (the late-offer case for an INVITE without a body).
    case success
    /// The ACK (answer to an offer in a 2xx).
    case ack
    /// A PRACK.
    case prack
    /// An UPDATE (RFC 3311).
    case update
}

/// Offer/answer state of one session (RFC 3264 §4, RFC 6337 §2): at most one offer outstanding.
public struct OfferAnswerState: Equatable, Sendable {
    /// The negotiation phase.
    public enum Phase: Equatable, Sendable {
        /// No offer outstanding.
        case idle
        /// We sent an offer and wait for the answer.
        case localOfferSent(OfferAnswerCarrier)
        /// The peer sent an offer we have not answered.
        case remoteOfferReceived(OfferAnswerCarrier)
    }

    /// The current phase.
    public private(set) var phase: Phase = .idle
    /// True once one offer/answer exchange has completed (the session has media parameters).
    public private(set) var hasCompletedExchange = false

    /// An idle state.
    public init() {}

    /// True when a new offer may be sent or accepted (RFC 3264 §4: not while one is outstanding).
    public var isIdle: Bool { phase == .idle }

    /// Records an offer we sent; false (and no change) when an offer is already outstanding.
    public mutating func sendOffer(in carrier: OfferAnswerCarrier) -> Bool {
        guard phase == .idle else { return false }
        phase = .localOfferSent(carrier)
        return true
    }

    /// Records an offer we received; false when one is outstanding (the caller answers 491 or 500).
    public mutating func receiveOffer(in carrier: OfferAnswerCarrier) -> Bool {
        guard phase == .idle else { return false }
        phase = .remoteOfferReceived(carrier)
        return true
    }

    /// Records our answer to the peer's offer; false when there is no remote offer.
    public mutating func sendAnswer() -> Bool {
        guard case .remoteOfferReceived = phase else { return false }
        phase = .idle
        hasCompletedExchange = true
        return true
    }

    /// Records the peer's answer to our offer; false when we had no offer outstanding.
    public mutating func receiveAnswer() -> Bool {
        guard case .localOfferSent = phase else { return false }
        phase = .idle
        hasCompletedExchange = true
        return true
    }

    /// The outstanding offer was rejected (488, 491, other failure): the previous session stays (RFC 3264 §8).
    public mutating func rollBack() { phase = .idle }
}
