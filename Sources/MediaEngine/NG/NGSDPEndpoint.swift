import Codecs
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

/// Codecs the engine can decode and encode, read from and written into SDP media sections.
enum NGAudioFormats {
    /// The codec Tandem implements for format `f` of `m`, if any.
    static func codec(_ f: String, in m: MediaDescription) -> CodecDescriptor? {
        guard let pt = UInt8(f) else { return nil }
        let name: String
        let rate: UInt32
        if let map = m.rtpMap(for: pt) {
            name = map.encodingName
            rate = map.clockRate
        } else if let s = NGCodecFilter.staticName(pt) {
            (name, rate) = s
        } else {
            return nil
        }
        switch name.lowercased() {
        case "pcmu" where rate == 8000: return .pcmu
        case "pcma" where rate == 8000: return .pcma
        case "g722" where rate == 8000: return .g722
        case "opus" where rate == 48000: return .opus
        case "l16": return L16.descriptor(sampleRate: Int(rate), channels: 1)
        default: return nil
        }
    }

    /// The payload type of the first `encodingName` rtpmap in `m`.
    static func payloadType(named encodingName: String, in m: MediaDescription) -> UInt8? {
        m.rtpMaps.first { $0.encodingName.lowercased() == encodingName }?.payloadType
    }

    /// What a party negotiated in media section `m` when it uses format `f`.
    static func endpointFormat(_ f: String, in m: MediaDescription) -> AudioEndpointFormat? {
        guard let codec = codec(f, in: m), let pt = UInt8(f) else { return nil }
        var format = AudioEndpointFormat(
            codec: codec, payloadType: pt, ptimeMilliseconds: m.ptime ?? 20,
            telephoneEventPayloadType: payloadType(named: "telephone-event", in: m),
            comfortNoisePayloadType: m.formats.contains("13") ? 13 : nil)
        if codec.name == "opus", let fmtp = m.formatParameters(for: f) {
            format.opus = try? OpusFormatParameters(parsing: fmtp)
        }
        return format
    }

    /// The first format of `m` Tandem can transcode.
    static func firstSupported(in m: MediaDescription) -> AudioEndpointFormat? {
        for f in m.formats { if let format = endpointFormat(f, in: m) { return format } }
        return nil
    }

    /// Appends the codecs named by `specs` (ng `codec-transcode`) that `m` lacks, with static payload
    /// types where RFC 3551 has them and free dynamic ones otherwise.
    static func addTranscodable(_ specs: [String], to m: inout MediaDescription) {
        for spec in specs {
            let name = spec.split(separator: "/").first.map { $0.lowercased() } ?? ""
            let codec: CodecDescriptor
            switch name {
            case "pcmu": codec = .pcmu
            case "pcma": codec = .pcma
            case "g722": codec = .g722
            case "opus": codec = .opus
            default: continue
            }
            if m.formats.contains(where: { self.codec($0, in: m)?.name == codec.name }) { continue }
            let pt: UInt8
            if let s = codec.staticPayloadType {
                pt = s
            } else {
                let used = Set(m.formats.compactMap { UInt8($0) })
                guard let free = (96...127).map({ UInt8($0) }).first(where: { !used.contains($0) }) else { continue }
                pt = free
            }
            // Before telephone-event and CN, so a receiver that takes the first audio codec still can.
            let audioEnd = m.formats.firstIndex { f in
                guard let p = UInt8(f) else { return false }
                let name = m.rtpMap(for: p)?.encodingName.lowercased()
                return name == "telephone-event" || name == "cn" || p == 13
            } ?? m.formats.count
            m.formats.insert(String(pt), at: audioEnd)
            m.attributes.append(.rtpMap(SDPRTPMap(
                payloadType: pt, encodingName: codec.name, clockRate: UInt32(codec.rtpClockRate),
                channels: codec.name == "opus" ? 2 : nil)))
            if let fmtp = codec.formatParameters {
                m.attributes.append(.formatParameters(SDPFormatParameters(format: String(pt), parameters: fmtp)))
            }
        }
    }

    /// Narrows an answer section to `format` (plus its telephone-event and CN payload types) for a
    /// party that never offered what the answerer chose.
    static func restrict(_ m: inout MediaDescription, to format: AudioEndpointFormat, offer: MediaDescription) {
        var keep = [String(format.payloadType)]
        if let te = format.telephoneEventPayloadType { keep.append(String(te)) }
        if let cn = format.comfortNoisePayloadType { keep.append(String(cn)) }
        m.formats = keep
        m.attributes.removeAll { a in
            switch a {
            case .rtpMap, .formatParameters, .rtcpFeedback: true
            default: false
            }
        }
        // The offerer's own rtpmap/fmtp lines for what it gets.
        for a in offer.attributes {
            switch a {
            case .rtpMap(let r) where keep.contains(String(r.payloadType)): m.attributes.append(a)
            case .formatParameters(let p) where keep.contains(p.format): m.attributes.append(a)
            default: break
            }
        }
    }
}
