/// One codec both sides agreed on, with the payload type used in each direction.
public struct NegotiatedCodec: Sendable, Hashable {
    /// The encoding name as we know it.
    public var encodingName: String
    /// The RTP clock rate in Hz.
    public var clockRate: UInt32
    /// The channel count.
    public var channels: Int
    /// The payload type to put in packets we send: the number the remote side receives with.
    public var sendPayloadType: UInt8
    /// The payload type of packets we receive: the number we declared.
    public var receivePayloadType: UInt8
    /// The remote side's fmtp: how it wants to receive.
    public var sendFormatParameters: String?
    /// Our fmtp: how we want to receive.
    public var receiveFormatParameters: String?

    /// Creates a negotiated codec.
    public init(encodingName: String, clockRate: UInt32, channels: Int, sendPayloadType: UInt8, receivePayloadType: UInt8,
                sendFormatParameters: String? = nil, receiveFormatParameters: String? = nil) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
        self.sendPayloadType = sendPayloadType
        self.receivePayloadType = receivePayloadType
        self.sendFormatParameters = sendFormatParameters
        self.receiveFormatParameters = receiveFormatParameters
    }

    /// Whether this is RFC 4733 telephone-event.
    public var isTelephoneEvent: Bool { encodingName.lowercased() == "telephone-event" }
}

/// The SDES crypto both sides agreed on (RFC 4568).
public struct NegotiatedCrypto: Sendable, Hashable {
    /// The tag of the chosen offered line.
    public var tag: UInt32
    /// The crypto suite.
    public var suite: String
    /// The key we protect outgoing packets with (the one we wrote).
    public var localKey: SDPCryptoKey
    /// The key the remote side protects its packets with (the one it wrote).
    public var remoteKey: SDPCryptoKey

    /// Creates a negotiated crypto.
    public init(tag: UInt32, suite: String, localKey: SDPCryptoKey, remoteKey: SDPCryptoKey) {
        self.tag = tag
        self.suite = suite
        self.localKey = localKey
        self.remoteKey = remoteKey
    }
}

/// The outcome of offer/answer for one `m=` line: what the media engine needs to run the stream.
public struct NegotiatedMedia: Sendable, Hashable {
    /// The index of the `m=` line.
    public var index: Int
    /// The media type.
    public var media: String
    /// The `a=mid` value, if any.
    public var mid: String?
    /// Whether the stream was accepted; false for port 0 in the offer or answer.
    public var isAccepted: Bool
    /// The transport profile, such as `RTP/AVP` or `RTP/SAVP`.
    public var proto: String
    /// The agreed codecs, the first being the one to send, telephone-event excluded.
    public var codecs: [NegotiatedCodec]
    /// The agreed telephone-event formats, one per clock rate.
    public var telephoneEvents: [NegotiatedCodec]
    /// Our direction on the stream after offer/answer.
    public var direction: SDPDirection
    /// Where to send RTP.
    public var remoteAddress: String?
    /// The remote RTP port.
    public var remoteRTPPort: UInt16
    /// Where to send RTCP (RFC 3605 `a=rtcp` or the RTP address).
    public var remoteRTCPAddress: String?
    /// The remote RTCP port: the RTP port when multiplexed, `a=rtcp` when given, else RTP port + 1.
    public var remoteRTCPPort: UInt16
    /// Whether RTP and RTCP share one port (RFC 5761).
    public var isRTCPMuxed: Bool
    /// The SDES crypto, or nil for plain RTP.
    public var crypto: NegotiatedCrypto?
    /// The packetisation interval the remote side asked for: use it when sending.
    public var sendPtime: Int?
    /// The largest packetisation interval the remote side accepts.
    public var sendMaxPtime: Int?
    /// The packetisation interval we asked for.
    public var receivePtime: Int?
    /// The remote side's bandwidth lines for this stream (media level, else session level).
    public var remoteBandwidths: [SDPBandwidth]
    /// Whether the remote side put this stream on hold (`c=0.0.0.0`, sendonly or inactive).
    public var isRemoteHold: Bool

    /// A rejected stream.
    static func rejected(index: Int, media: MediaDescription) -> NegotiatedMedia {
        NegotiatedMedia(index: index, media: media.media, mid: media.mid, isAccepted: false, proto: media.proto, codecs: [],
                        telephoneEvents: [], direction: .inactive, remoteAddress: nil, remoteRTPPort: 0, remoteRTCPAddress: nil,
                        remoteRTCPPort: 0, isRTCPMuxed: false, crypto: nil, sendPtime: nil, sendMaxPtime: nil,
                        receivePtime: nil, remoteBandwidths: [], isRemoteHold: false)
    }
}
