/// Why an RTP packet was rejected by `RTPPacket(parsing:)` (RFC 3550 §5.1, RFC 8285).
public enum RTPParseError: Error, Equatable, Hashable, Sendable {
    /// Fewer bytes than the fixed header, CSRC list or extension header declare.
    case truncated
    /// The version field is not 2.
    case wrongVersion
    /// The padding flag is set but the last byte is zero or exceeds the bytes after the header.
    case badPadding
    /// The header extension length runs past the end of the packet.
    case badExtensionLength
}

/// Why an RTCP packet or compound packet was rejected (RFC 3550 §6.4, RFC 4585 §6.1, RFC 5104 §4.3).
public enum RTCPParseError: Error, Equatable, Hashable, Sendable {
    /// Fewer bytes than the common header or the declared contents need.
    case truncated
    /// The version field is not 2.
    case wrongVersion
    /// The length field runs past the datagram, or the contents do not fit the declared length.
    case badLength
    /// The padding flag is set but the padding count is zero or larger than the packet.
    case badPadding
    /// The packet type does not match the view it was parsed as.
    case wrongPacketType
}

/// Why an RTP payload format (RFC 4733 telephone event, RFC 3389 comfort noise) was rejected.
public enum RTPPayloadParseError: Error, Equatable, Hashable, Sendable {
    /// The payload is shorter than the format's fixed part.
    case truncated
    /// A field holds a value the format reserves (e.g. a comfort noise level above 127).
    case invalidValue
}

/// Why a writer could not serialise into the caller's buffer.
public enum RTPWriteError: Error, Equatable, Hashable, Sendable {
    /// The output buffer is smaller than `serializedSize`.
    case bufferTooSmall
    /// A field is out of range for the wire format (e.g. more than 15 CSRCs, extension id 15 in the
    /// one-byte form, more than 31 report blocks).
    case invalidField
}

/// Per-kind counts of dropped packets; a worker owns one and records every parse failure.
///
/// Plain integers, no allocation: safe on the hot path of the thread that owns it.
public struct RTPDropCounters: Equatable, Sendable {
    /// RTP packets shorter than their declared header.
    public var rtpTruncated: UInt64 = 0
    /// RTP packets whose version is not 2.
    public var rtpWrongVersion: UInt64 = 0
    /// RTP packets with an inconsistent padding count.
    public var rtpBadPadding: UInt64 = 0
    /// RTP packets whose header extension overruns the packet.
    public var rtpBadExtensionLength: UInt64 = 0
    /// RTCP packets shorter than their declared contents.
    public var rtcpTruncated: UInt64 = 0
    /// RTCP packets whose version is not 2.
    public var rtcpWrongVersion: UInt64 = 0
    /// RTCP packets whose length field is inconsistent.
    public var rtcpBadLength: UInt64 = 0
    /// RTCP packets with an inconsistent padding count.
    public var rtcpBadPadding: UInt64 = 0
    /// RTCP packets parsed as the wrong type.
    public var rtcpWrongPacketType: UInt64 = 0
    /// Payloads (telephone event, comfort noise) that were too short.
    public var payloadTruncated: UInt64 = 0
    /// Payloads holding reserved values.
    public var payloadInvalidValue: UInt64 = 0

    /// Creates counters all at zero.
    public init() {}

    /// Total of every counter.
    public var total: UInt64 {
        rtpTruncated &+ rtpWrongVersion &+ rtpBadPadding &+ rtpBadExtensionLength
            &+ rtcpTruncated &+ rtcpWrongVersion &+ rtcpBadLength &+ rtcpBadPadding &+ rtcpWrongPacketType
            &+ payloadTruncated &+ payloadInvalidValue
    }

    /// Counts one RTP packet dropped for `error`.
    public mutating func record(_ error: RTPParseError) {
        switch error {
        case .truncated: rtpTruncated &+= 1
        case .wrongVersion: rtpWrongVersion &+= 1
        case .badPadding: rtpBadPadding &+= 1
        case .badExtensionLength: rtpBadExtensionLength &+= 1
        }
    }

    /// Counts one RTCP packet dropped for `error`.
    public mutating func record(_ error: RTCPParseError) {
        switch error {
        case .truncated: rtcpTruncated &+= 1
        case .wrongVersion: rtcpWrongVersion &+= 1
        case .badLength: rtcpBadLength &+= 1
        case .badPadding: rtcpBadPadding &+= 1
        case .wrongPacketType: rtcpWrongPacketType &+= 1
        }
    }

    /// Counts one payload dropped for `error`.
    public mutating func record(_ error: RTPPayloadParseError) {
        switch error {
        case .truncated: payloadTruncated &+= 1
        case .invalidValue: payloadInvalidValue &+= 1
        }
    }
}
