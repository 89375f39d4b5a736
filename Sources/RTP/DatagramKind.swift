/// What a datagram on a multiplexed media port carries (RFC 7983 §7, RFC 5761 §4).
public enum DatagramKind: Hashable, Sendable {
    /// STUN (first byte 0...3).
    case stun
    /// ZRTP (first byte 16...19).
    case zrtp
    /// DTLS (first byte 20...63).
    case dtls
    /// TURN ChannelData (first byte 64...79).
    case turnChannel
    /// RTP (first byte 128...191, second byte outside 192...223).
    case rtp
    /// RTCP (first byte 128...191, second byte 192...223).
    case rtcp
    /// Anything else, including datagrams too short to classify; RFC 7983 says drop it.
    case unknown

    /// Classifies a datagram from its first two bytes; O(1), never traps.
    public init(classifying bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else {
            self = .unknown
            return
        }
        switch first {
        case 0...3: self = .stun
        case 16...19: self = .zrtp
        case 20...63: self = .dtls
        case 64...79: self = .turnChannel
        case 128...191:
            guard bytes.count >= 2 else {
                self = .unknown
                return
            }
            // RFC 5761 §4: RTCP packet types 192...223 (FIR/NACK/SR/RR/SDES/BYE/APP/RTPFB/PSFB…)
            // occupy the second octet where RTP has marker + payload type 64...95.
            self = (192...223).contains(bytes.u8(1)) ? .rtcp : .rtp
        default: self = .unknown
        }
    }
}
