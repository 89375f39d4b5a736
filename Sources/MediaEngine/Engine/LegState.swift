import CBatchIO
import RTP
import SRTP

/// A learned or signalled peer address for one socket of a leg (symmetric RTP, RFC 4961).
struct PeerLatch {
    /// The peer packets are accepted from and sent to; family 0 when unknown.
    var address = tdm_addr()
    /// Whether `address` was learned from received packets (as opposed to unknown).
    var isLatched = false
    /// A different source seen in a row while strict, and how many times.
    var candidate = tdm_addr()
    var candidateCount = 0
}

/// What the source check decided for one datagram.
enum SourceVerdict {
    /// From the latched peer.
    case accept
    /// Accept and latch to the source once the datagram has been validated.
    case acceptAndLatch
    /// From another source while strict.
    case drop
}

extension PeerLatch {
    /// The source check: latch on the first packet; on a change, re-latch at once unless strict,
    /// in which case only after `threshold` packets in a row from the same new source.
    @inline(__always)
    mutating func check(_ source: UnsafeMutablePointer<tdm_addr>, strict: Bool, threshold: Int) -> SourceVerdict {
        guard isLatched else { return .acceptAndLatch }
        if tdm_addr_equal(&address, source) == 1 {
            candidateCount = 0
            return .accept
        }
        guard strict else { return .acceptAndLatch }
        if candidateCount > 0, tdm_addr_equal(&candidate, source) == 1 {
            candidateCount += 1
        } else {
            candidate = source.pointee
            candidateCount = 1
        }
        return candidateCount >= threshold ? .acceptAndLatch : .drop
    }

    @inline(__always)
    mutating func latch(_ source: UnsafeMutablePointer<tdm_addr>) {
        address = source.pointee
        isLatched = true
        candidateCount = 0
    }
}

/// A leg as its worker holds it: one slot of a preallocated table, indexed by epoll data.
struct LegState {
    var isActive = false
    var generation: UInt32 = 0
    var sessionNumber: UInt64 = 0
    var rtpFD: Int32 = -1
    var rtcpFD: Int32 = -1
    var pairIndex: Int32 = -1
    var rtpPort: UInt16 = 0
    var isRTCPMux = false
    /// Slot of the linked leg, or -1.
    var linked: Int32 = -1
    var rtpPeer = PeerLatch()
    var rtcpPeer = PeerLatch()
    /// Addresses from signalling, used until latching learns better; family 0 when absent.
    var signalledRTP = tdm_addr()
    var signalledRTCP = tdm_addr()
    var isStrictSource = false
    /// Produces what this leg's endpoint receives instead of relayed packets (transcoding, playback,
    /// recording taps); its input is the linked leg's RTP.
    var outPipeline: AudioPipeline?
    /// The playback feeding `outPipeline`, watched for its end.
    var playback: PlaybackSource?
    /// In-band DTMF found in the linked leg's audio by `outPipeline`'s tap.
    var inBandDetector: InBandDTMFTap?
    /// Symmetric RTP (RFC 4961): learn the peer from received packets. Off for ng `asymmetric`.
    var learnsSource = true
    var direction = MediaDirection.sendrecv
    var inboundSRTP: SRTPContext?
    var outboundSRTP: SRTPContext?
    var clockRate: UInt64 = 8000
    var isMediaBlocked = false
    var isDTMFBlocked = false
    var telephoneEventMask: UInt128 = 0
    var rewritesOutboundStream = false
    /// Output SSRC/sequence/timestamp state while `rewritesOutboundStream` is on.
    var rewriter = StreamRewriter()

    var packetsIn: UInt64 = 0
    var bytesIn: UInt64 = 0
    var packetsOut: UInt64 = 0
    var bytesOut: UInt64 = 0
    var rtcpPacketsIn: UInt64 = 0
    var drops = DropCounters()
    var receiveStatistics = ReceiveStatistics()
    var ssrc: UInt32 = 0
    var hasSSRC = false
    var lastRTPTick: UInt64 = 0
    /// The middle 32 NTP bits of the last SR forwarded to this leg's endpoint (0: none) and when it
    /// was queued (monotonic ns): the endpoint's reports echo them as LSR (RFC 3550 §6.4.1).
    var lastForwardedSR: UInt32 = 0
    /// What the pipeline feeding this leg has sent, for the SRs Tandem generates in its place.
    var generatedPackets: UInt32 = 0
    var generatedOctets: UInt32 = 0
    var generatedSSRC: UInt32 = 0
    var generatedTimestamp: UInt32 = 0
    var generatedAt: UInt64 = 0
    var nextReportTick: UInt64 = 0
    /// The endpoint's last SR (NTP middle 32 bits) and when it arrived, for LSR/DLSR in our reports.
    var lastReceivedSR: UInt32 = 0
    var lastReceivedSRAt: UInt64 = 0
    /// RTP timestamp of the last RFC 4733 event seen from the endpoint (one event per timestamp, §2.5).
    var lastEventTimestamp: UInt32 = 0
    var hasSeenEvent = false
    var lastForwardedSRAt: UInt64 = 0
    /// The last round-trip time between the worker and this leg's endpoint, in ns; valid when `hasRoundTrip`.
    var roundTripNanoseconds: UInt64 = 0
    var hasRoundTrip = false
    var isTimedOut = false
    /// The conference room this leg is a participant's audio or video leg in; its packets go to the room, not to
    /// a linked leg.
    var room: WorkerRoom?
    var participant: Int32 = -1
    var isVideoParticipant = false

    /// Where RTP to this leg's endpoint goes, or nil while unknown.
    @inline(__always)
    var rtpDestination: tdm_addr? {
        if rtpPeer.isLatched { return rtpPeer.address }
        return signalledRTP.family != 0 ? signalledRTP : nil
    }

    /// Where RTCP to this leg's endpoint goes: the RTP destination with rtcp-mux, else the latched or
    /// signalled RTCP address, else RTP port + 1 (RFC 3550 §11).
    @inline(__always)
    var rtcpDestination: tdm_addr? {
        if isRTCPMux { return rtpDestination }
        if rtcpPeer.isLatched { return rtcpPeer.address }
        if signalledRTCP.family != 0 { return signalledRTCP }
        guard var a = rtpDestination, a.port < 65535 else { return nil }
        a.port += 1
        return a
    }
}
