import MediaControl
import SDP
import SRTP

/// What one party's SDP says about one of its media sections, as the relay needs it: where to send,
/// in which direction, with which payload types and keys.
struct NGSDPEndpoint: Sendable {
    /// The RTP address, nil when the section is on hold with 0.0.0.0 or has no usable address.
    var rtp: MediaAddress?
    /// The RTCP address from `a=rtcp`, when given.
    var rtcp: MediaAddress?
    /// The party's direction attribute (media level, else session level, else sendrecv).
    var direction: SDPDirection
    /// Whether `a=rtcp-mux` is present.
    var rtcpMux: Bool
    /// `RTP/SAVP`-style profile with at least one `a=crypto` line.
    var isSDES: Bool
    /// The clock rate of the first format (statistics).
    var clockRate: Int
    /// Payload types mapped to telephone-event.
    var telephoneEventPayloadTypes: [UInt8]

    /// Reads media section `index` of `sdp`; `override` replaces the SDP address (ng `media address`,
    /// or the SIP source address when asked to).
    init(_ sdp: SessionDescription, index: Int, override: String?) {
        let m = sdp.media[index]
        let connection = sdp.connection(of: index)
        let host = override ?? connection?.address
        if let host, host != "0.0.0.0", host != "::", m.port != 0 {
            rtp = MediaAddress(host: host, port: Int(m.port))
        }
        if let a = m.rtcp, a.port != 0, let base = host, base != "0.0.0.0" {
            rtcp = MediaAddress(host: override ?? a.connection?.address ?? base, port: Int(a.port))
        }
        direction = sdp.direction(of: index)
        rtcpMux = m.hasRTCPMux
        isSDES = m.isSecureProfile && !m.cryptos.isEmpty
        var rate = 8000
        if let first = m.formats.first, let pt = UInt8(first), let map = m.rtpMap(for: pt) {
            rate = Int(map.clockRate)
        }
        clockRate = rate
        telephoneEventPayloadTypes = m.rtpMaps.filter { $0.encodingName.lowercased() == "telephone-event" }
            .map(\.payloadType)
    }

    /// The relay's view of the party's direction.
    var mediaDirection: MediaDirection {
        switch direction {
        case .sendrecv: .sendrecv
        case .sendonly: .sendonly
        case .recvonly: .recvonly
        case .inactive: .inactive
        }
    }
}

/// SDES (RFC 4568) helpers for the ng controller.
enum NGSDES {
    /// The suites Tandem offers, strongest-compatible first as rtpengine orders them.
    static let offeredSuites: [SRTPSuite] = [.aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM, .aeadAES256GCM]

    /// The first `a=crypto` line of `m` whose suite Tandem supports, with its keying.
    static func firstSupported(in m: MediaDescription) -> (attribute: SDPCryptoAttribute, keying: SRTPKeying)? {
        for c in m.cryptos {
            if let k = keying(c) { return (c, k) }
        }
        return nil
    }

    /// The keying of one `a=crypto` line, or nil for an unknown suite or a key of the wrong length.
    static func keying(_ c: SDPCryptoAttribute) -> SRTPKeying? {
        guard let suite = SRTPSuite(rawValue: c.suite), let first = c.keys.first,
              let bytes = first.keySaltBytes, bytes.count == suite.keyLength + suite.saltLength
        else { return nil }
        return SRTPKeying(suite: suite, keyParameters: SDESKeyParameters(
            masterKey: Array(bytes[0..<suite.keyLength]), masterSalt: Array(bytes[suite.keyLength...])))
    }

    /// An `a=crypto` line carrying `keying` under `tag`.
    static func attribute(tag: UInt32, _ keying: SRTPKeying) -> SDPAttribute {
        .crypto(SDPCryptoAttribute(
            tag: tag, suite: keying.suite.rawValue,
            keys: [SDPCryptoKey(keySaltBytes: keying.keyParameters.masterKey + keying.keyParameters.masterSalt)]))
    }

    /// The suites to offer under the request's `SDES` options (`only-…`, `no-…`).
    static func suites(for options: [NGSDESOption]) -> [SRTPSuite] {
        var suites = offeredSuites
        let only = options.compactMap { if case .only(let s) = $0 { s } else { nil } }
        if !only.isEmpty { suites = suites.filter { only.contains($0.rawValue) } }
        let excluded = options.compactMap { if case .exclude(let s) = $0 { s } else { nil } }
        return suites.filter { !excluded.contains($0.rawValue) }
    }
}

/// Codec manipulation of an outgoing media section (ng `codec` strip/offer/mask).
enum NGCodecFilter {
    /// Static payload types of RFC 3551 §6 that appear without `a=rtpmap`.
    static func staticName(_ pt: UInt8) -> (String, UInt32)? {
        switch pt {
        case 0: ("PCMU", 8000)
        case 3: ("GSM", 8000)
        case 4: ("G723", 8000)
        case 8: ("PCMA", 8000)
        case 9: ("G722", 8000)
        case 13: ("CN", 8000)
        case 18: ("G729", 8000)
        default: nil
        }
    }

    /// Whether format `f` of `m` matches codec specification `spec` (`PCMU`, `opus/48000`, `opus/48000/2`,
    /// or a payload type number), case-insensitively on the name.
    static func matches(_ f: String, in m: MediaDescription, spec: String) -> Bool {
        guard let pt = UInt8(f) else { return false }
        if let n = UInt8(spec) { return n == pt }
        let name: String
        let rate: UInt32
        if let map = m.rtpMap(for: pt) {
            name = map.encodingName
            rate = map.clockRate
        } else if let s = staticName(pt) {
            (name, rate) = s
        } else {
            return false
        }
        let parts = spec.split(separator: "/")
        guard let wanted = parts.first, wanted.lowercased() == name.lowercased() else { return false }
        if parts.count > 1, let r = UInt32(parts[1]), r != rate { return false }
        return true
    }

    /// Applies `strip` (and `mask`, which without transcoding also removes), keeping codecs named in
    /// `except`, then moves `offer` codecs to the front. Attributes of removed payload types go too.
    /// Returns false when nothing would be left.
    static func apply(strip: [String], mask: [String], except: [String], offer: [String], to m: inout MediaDescription) -> Bool {
        let removing = strip + mask
        guard !removing.isEmpty || !offer.isEmpty else { return true }
        func removed(_ f: String) -> Bool {
            if except.contains(where: { matches(f, in: m, spec: $0) }) { return false }
            return removing.contains { $0 == "all" || $0 == "full" || matches(f, in: m, spec: $0) }
        }
        var kept = m.formats.filter { !removed($0) }
        guard !kept.isEmpty else { return false }
        if !offer.isEmpty {
            var front: [String] = []
            for spec in offer {
                for f in kept where !front.contains(f) && matches(f, in: m, spec: spec) { front.append(f) }
            }
            kept = front + kept.filter { !front.contains($0) }
        }
        let gone = Set(m.formats).subtracting(kept)
        m.formats = kept
        m.attributes.removeAll { a in
            switch a {
            case .rtpMap(let r): gone.contains(String(r.payloadType))
            case .formatParameters(let p): gone.contains(p.format)
            case .rtcpFeedback(let fb): gone.contains(fb.format)
            default: false
            }
        }
        return true
    }
}

/// ICE attributes (RFC 8839) the relay removes: it answers for itself on plain ports.
enum NGICE {
    static let attributeNames: Set<String> = [
        "candidate", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "ice-mismatch", "remote-candidates",
        "end-of-candidates", "ice-pacing",
    ]

    static func strip(_ attributes: inout [SDPAttribute]) {
        attributes.removeAll { attributeNames.contains($0.name) }
    }
}
