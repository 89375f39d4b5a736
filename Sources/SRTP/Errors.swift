/// Why a packet could not be protected or unprotected. Callers count these per kind and drop the packet.
public enum SRTPError: Error, Equatable, Hashable, Sendable {
    /// The packet is shorter than its header, the RTCP fixed part, or header plus tag.
    case tooShort
    /// The packet is not RTP/RTCP version 2, or its header (CSRC list, extension) overruns it.
    case malformed
    /// The caller's buffer has no room for the tag and trailer protection appends.
    case bufferTooSmall
    /// The authentication tag did not verify (RFC 3711 §3.3 step 5, RFC 7714 §10).
    case authenticationFailed
    /// The packet index was already received inside the replay window (RFC 3711 §3.3.2).
    case replayed
    /// The packet index is older than the 128-packet replay window.
    case tooOld
    /// The stream has used all 2^31 SRTCP indices or 2^48 SRTP indices under this key (RFC 3711 §9.2).
    case keyExhausted
    /// The context already tracks its maximum number of SSRCs.
    case tooManyStreams
    /// The key or salt length does not match the suite, or OpenSSL failed to set up a cipher.
    case invalidKey
    /// OpenSSL reported a failure while processing a packet.
    case cryptoFailure
}

/// Why `SDESKeyParameters(parsing:suite:)` rejected an a=crypto key-params field (RFC 4568 §6.1).
public enum SDESParseError: Error, Equatable, Hashable, Sendable {
    /// The key method is not `inline:`.
    case unsupportedKeyMethod
    /// The key-salt is not valid base64.
    case badBase64
    /// The decoded key-salt is not master key length plus master salt length for the suite.
    case wrongKeyLength
    /// The lifetime or MKI part is malformed.
    case badParameter
}

/// Per-kind counts of SRTP failures; a worker owns one. Plain integers, no allocation.
public struct SRTPDropCounters: Equatable, Sendable {
    /// Packets shorter than their header or tag.
    public var tooShort: UInt64 = 0
    /// Packets with a malformed header.
    public var malformed: UInt64 = 0
    /// Packets whose tag did not verify.
    public var authenticationFailed: UInt64 = 0
    /// Duplicate packets.
    public var replayed: UInt64 = 0
    /// Packets older than the replay window.
    public var tooOld: UInt64 = 0
    /// Any other failure (buffer, key exhaustion, stream limit, library).
    public var other: UInt64 = 0

    /// Creates counters all at zero.
    public init() {}

    /// Counts one failure of the given kind.
    public mutating func record(_ error: SRTPError) {
        switch error {
        case .tooShort: tooShort &+= 1
        case .malformed: malformed &+= 1
        case .authenticationFailed: authenticationFailed &+= 1
        case .replayed: replayed &+= 1
        case .tooOld: tooOld &+= 1
        case .bufferTooSmall, .keyExhausted, .tooManyStreams, .invalidKey, .cryptoFailure: other &+= 1
        }
    }
}
