/// Real-world-shaped SDP samples used across the tests.
enum Samples {
    /// A desk phone (Polycom/Yealink style) offer: G.722, PCMU, PCMA, telephone-event, LF-only line ends.
    static let deskPhoneOffer = """
    v=0
    o=- 20518 0 IN IP4 192.168.1.50
    s=SDP data
    c=IN IP4 192.168.1.50
    t=0 0
    m=audio 11780 RTP/AVP 9 0 8 18 101
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=ptime:20
    a=sendrecv

    """

    /// A WebRTC-style offer: opus 111, ICE, DTLS, extmap, ssrc, rtcp-fb, group bundle.
    static let webRTCOffer = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0",
        "a=ice-ufrag:Oyef",
        "a=ice-pwd:d8Lq9yKsUyBAsTq8MKcKfWyU",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:98:55:E6:C2:83:6F:49:4B:8C:3D:26:FA:0B:49:A6:B9:4D:54:13:8F:4B",
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:2/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=sendrecv",
        "a=msid:- 1c4a0e5e-5a43-4b52-9e55-d4b3e6b0c3a1",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:3570614608 cname:4TOk42mSjXCkVIa6",
        "",
    ].joined(separator: "\r\n")

    /// An SDP rewritten by Kamailio with rtpengine: public address, a=rtcp with address, direction at session level.
    static let rtpengineRewritten = [
        "v=0",
        "o=root 1923853951 1923853951 IN IP4 203.0.113.10",
        "s=Asterisk PBX 18.0.0",
        "c=IN IP4 203.0.113.10",
        "b=CT:384",
        "t=0 0",
        "a=sendrecv",
        "m=audio 30112 RTP/AVP 0 8 101",
        "b=AS:80",
        "b=TIAS:64000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=maxptime:150",
        "a=rtcp:30113 IN IP4 203.0.113.10",
        "a=oldmediaip:10.0.0.5",
        "",
    ].joined(separator: "\r\n")

    /// An SDES SRTP offer with two crypto lines (RFC 4568 §8.1-style), the first with lifetime and MKI.
    static let sdesOffer = [
        "v=0",
        "o=alice 2890844526 2890844526 IN IP4 198.51.100.7",
        "s=-",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 49170 RTP/SAVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj",
        "a=sendrecv",
        "",
    ].joined(separator: "\r\n")

    /// An offer with audio and video.
    static let audioVideoOffer = [
        "v=0",
        "o=bob 1 1 IN IP6 2001:db8::5",
        "s=call",
        "c=IN IP6 2001:db8::5",
        "t=0 0",
        "m=audio 5004 RTP/AVP 96 101",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:101 telephone-event/48000",
        "a=fmtp:101 0-15",
        "m=video 5006 RTP/AVPF 97",
        "a=rtpmap:97 H264/90000",
        "a=fmtp:97 profile-level-id=42e01f;packetization-mode=1",
        "a=rtcp-fb:97 nack pli",
        "",
    ].joined(separator: "\r\n")
}

/// A deterministic key source: bytes 0, 1, 2, ... so expected base64 is known.
struct CountingKeys: SDESKeyGenerator {
    var next: UInt8 = 0
    mutating func keySalt(count: Int) -> [UInt8] {
        (0..<count).map { _ in
            defer { next &+= 1 }
            return next
        }
    }
}

/// A small fixed-seed PRNG (SplitMix64) so the fuzz test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import SDP
