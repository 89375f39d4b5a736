import SDP

/// One audio codec offered or answered in an SDP media section.
public struct CallCodec: Sendable, Hashable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: Int
    public var channels: Int
    public var formatParameters: String?

    public init(payloadType: UInt8, name: String, clockRate: Int, channels: Int = 1, formatParameters: String? = nil) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.formatParameters = formatParameters
    }

    /// Same codec (name and clock rate, case-insensitive name), whatever the payload type.
    func isSameCodec(as other: CallCodec) -> Bool {
        name.lowercased() == other.name.lowercased() && clockRate == other.clockRate
    }
}

/// What one party's SDP says about its (first) audio stream: where it receives, in which direction, with which
/// codecs in preference order, and its RFC 4733 telephone-event payload types.
public struct CallAudioDescription: Sendable, Hashable {
    /// The whole description as received.
    public var sdp: SessionDescription
    /// Index of the audio media section in `sdp.media`.
    public var index: Int
    /// Audio codecs in the party's order (telephone-event and CN excluded).
    public var codecs: [CallCodec]
    /// telephone-event payload types with their clock rates.
    public var telephoneEvents: [CallCodec]
    public var remote: CallMediaRemote
    public var ptime: Int?
    /// The SDES key the party offered or answered for an `RTP/SAVP` stream (nil: plain RTP/AVP).
    public var srtp: CallSRTPKey?

    /// Errors reading a party's SDP.
    public enum ReadError: Error, Equatable, Sendable {
        /// Not parseable SDP.
        case malformed
        /// No usable RTP/AVP audio section (none, rejected, or SRTP/DTLS which this B2BUA does not anchor yet).
        case noAudio
        /// The audio is secured in a way Tandem does not terminate: DTLS-SRTP (`a=fingerprint`, `UDP/TLS/RTP/SAVP`),
        /// `RTP/SAVPF`, or `RTP/SAVP` without a usable `a=crypto` line. The text is for a Warning header.
        case unsupportedSecurity(String)
    }

    public init(parsing text: String) throws(ReadError) {
        let sdp: SessionDescription
        do { sdp = try SessionDescription(parsing: text) } catch { throw .malformed }
        let index: Int
        switch CallSRTPKey.audioSection(of: sdp) {
        case .plain(let i)?:
            index = i
        case .sdes(let i, let key)?:
            index = i
            srtp = key
        case .unsupported(let why)?: throw .unsupportedSecurity(why)
        case nil: throw .noAudio
        }
        self.sdp = sdp
        self.index = index
        let m = sdp.media[index]
        var codecs: [CallCodec] = []
        var events: [CallCodec] = []
        for f in m.formats {
            guard let pt = UInt8(f) else { continue }
            let codec: CallCodec
            if let map = m.rtpMap(for: pt) {
                codec = CallCodec(payloadType: pt, name: map.encodingName, clockRate: Int(map.clockRate),
                                  channels: map.channels ?? 1, formatParameters: m.formatParameters(for: f))
            } else if let (name, rate) = Self.staticCodec(pt) {
                codec = CallCodec(payloadType: pt, name: name, clockRate: rate)
            } else {
                continue
            }
            switch codec.name.lowercased() {
            case "telephone-event": events.append(codec)
            case "cn": break
            default: codecs.append(codec)
            }
        }
        guard !codecs.isEmpty else { throw .noAudio }
        self.codecs = codecs
        self.telephoneEvents = events
        ptime = m.ptime
        let host = sdp.connection(of: index)?.address
        var rtp: CallEndpointAddress?
        if let host, host != "0.0.0.0", host != "::" { rtp = CallEndpointAddress(host: host, port: Int(m.port)) }
        var rtcp: CallEndpointAddress?
        if let a = m.rtcp, a.port != 0, let base = a.connection?.address ?? host, base != "0.0.0.0" {
            rtcp = CallEndpointAddress(host: base, port: Int(a.port))
        }
        remote = CallMediaRemote(rtp: rtp, rtcp: rtcp, direction: sdp.direction(of: index))
    }

    /// Static payload types of RFC 3551 §6 that may appear without `a=rtpmap`.
    static func staticCodec(_ pt: UInt8) -> (String, Int)? {
        switch pt {
        case 0: ("PCMU", 8000)
        case 3: ("GSM", 8000)
        case 8: ("PCMA", 8000)
        case 9: ("G722", 8000)
        case 13: ("CN", 8000)
        case 18: ("G729", 8000)
        default: nil
        }
    }

    /// The party's telephone-event payload type at `clockRate`, if it offered one.
    func telephoneEvent(at clockRate: Int) -> UInt8? {
        telephoneEvents.first { $0.clockRate == clockRate }?.payloadType
    }
}

/// The codec decision for an answered call: what each leg speaks, and whether the engine transcodes.
public struct CallCodecPlan: Sendable, Hashable {
    /// The caller leg's format (the caller's payload type).
    public var caller: CallAudioFormat
    /// The callee leg's format (as the callee answered).
    public var callee: CallAudioFormat
    /// True when the two differ, so the engine must transcode.
    public var transcodes: Bool
    /// True when the engine knows both codecs (its formats may be set); false means a plain relay of a codec
    /// the engine cannot decode (only possible when both sides use it).
    public var engineKnowsCodecs: Bool
}

/// The B2BUA's SDP work, pure: the offer towards the callee, the codec plan from the callee's answer, and the
/// answer and re-offers towards either party, always pointing at the engine's legs.
public enum CallSDP {
    /// Codecs added to the callee offer when the caller offered something transcodable the callee may lack.
    static let transcodingFallbacks: [CallCodec] = [
        CallCodec(payloadType: 0, name: "PCMU", clockRate: 8000),
        CallCodec(payloadType: 8, name: "PCMA", clockRate: 8000),
    ]

    /// The offer for the callee: the caller's audio section (same codecs and payload types), plus PCMU/PCMA when
    /// the caller offered a codec the engine can transcode and the caller lacks them; pointed at `leg`. Other
    /// media sections are refused (port 0): the B2BUA anchors one audio stream.
    public static func offerToCallee(from offer: CallAudioDescription, leg: CallMediaLeg, origin: SDPOrigin,
                                     canTranscode: (String, Int) -> Bool) -> SessionDescription {
        var sdp = offer.sdp
        sdp.origin = origin
        sdp.connection = SDPConnection(address: leg.address)
        stripICE(&sdp.attributes)
        for i in sdp.media.indices where i != offer.index {
            sdp.media[i].port = 0
            sdp.media[i].connections = []
        }
        var m = sdp.media[offer.index]
        if offer.codecs.contains(where: { canTranscode($0.name, $0.clockRate) }) {
            var used = Set(m.formats.compactMap { UInt8($0) })
            for fallback in transcodingFallbacks
                where !offer.codecs.contains(where: { $0.isSameCodec(as: fallback) }) && canTranscode(fallback.name, fallback.clockRate) {
                var pt = fallback.payloadType
                if used.contains(pt) { pt = freePayloadType(used) ?? pt }
                used.insert(pt)
                // Before telephone-event/CN so the audio codecs stay together.
                let firstNonAudio = m.formats.firstIndex { f in
                    guard let p = UInt8(f) else { return false }
                    return offer.telephoneEvents.contains { $0.payloadType == p } || p == 13
                } ?? m.formats.endIndex
                m.formats.insert(String(pt), at: firstNonAudio)
                m.attributes.append(.rtpMap(SDPRTPMap(payloadType: pt, encodingName: fallback.name, clockRate: UInt32(fallback.clockRate))))
            }
        }
        point(&m, at: leg)
        // An SRTP caller's stream is terminated on its own leg: the callee is offered plain RTP (B2BUA+SRTP.swift).
        m.proto = "RTP/AVP"
        sdp.media[offer.index] = m
        return sdp
    }

    /// The codec plan once the callee answered `answer` to our offer for the caller's `offer`; nil when nothing
    /// works (no codec in common and the engine cannot transcode between them: 488).
    public static func plan(offer: CallAudioDescription, answer: CallAudioDescription,
                            canTranscode: (String, Int) -> Bool) -> CallCodecPlan? {
        guard let answered = answer.codecs.first else { return nil }
        let calleePtime = answer.ptime ?? 20
        let callee = CallAudioFormat(name: answered.name, clockRate: answered.clockRate, channels: answered.channels,
                                     payloadType: answered.payloadType, ptimeMilliseconds: calleePtime,
                                     telephoneEventPayloadType: answer.telephoneEvent(at: answered.clockRate),
                                     formatParameters: answered.formatParameters)
        let callerCodec: CallCodec
        if let same = offer.codecs.first(where: { $0.isSameCodec(as: answered) }) {
            callerCodec = same
        } else if canTranscode(answered.name, answered.clockRate),
                  let other = offer.codecs.first(where: { canTranscode($0.name, $0.clockRate) }) {
            callerCodec = other
        } else {
            return nil
        }
        let sameCodec = callerCodec.isSameCodec(as: answered)
        // Same codec: keep the callee's packetisation so the relay carries it unchanged.
        let callerPtime = sameCodec ? calleePtime : (offer.ptime ?? 20)
        let caller = CallAudioFormat(name: callerCodec.name, clockRate: callerCodec.clockRate, channels: callerCodec.channels,
                                     payloadType: callerCodec.payloadType, ptimeMilliseconds: callerPtime,
                                     telephoneEventPayloadType: callee.telephoneEventPayloadType == nil ? nil
                                         : offer.telephoneEvent(at: callerCodec.clockRate),
                                     formatParameters: callerCodec.formatParameters)
        let transcodes = !(sameCodec && caller.payloadType == callee.payloadType && caller.ptimeMilliseconds == callee.ptimeMilliseconds
                           && caller.telephoneEventPayloadType == callee.telephoneEventPayloadType)
        let known = canTranscode(caller.name, caller.clockRate) && canTranscode(callee.name, callee.clockRate)
        if transcodes && !known {
            // Same unknown codec under different payload types or ptime: the relay cannot fix that.
            return nil
        }
        return CallCodecPlan(caller: caller, callee: callee, transcodes: transcodes, engineKnowsCodecs: known)
    }

    /// A one-stream audio description from Tandem: `format` (and its telephone-event) at `leg`, with
    /// `direction`. Used for the answer to the caller and for re-offers on either side. `template`'s other media
    /// sections are echoed refused so an answer keeps the offer's section count (RFC 3264 §6).
    public static func description(format: CallAudioFormat, leg: CallMediaLeg, direction: SDPDirection,
                                   origin: SDPOrigin, template: CallAudioDescription? = nil,
                                   crypto: SDPCryptoAttribute? = nil) -> SessionDescription {
        var formats = [String(format.payloadType)]
        var attributes: [SDPAttribute] = [.rtpMap(SDPRTPMap(payloadType: format.payloadType, encodingName: format.name,
                                                            clockRate: UInt32(format.clockRate),
                                                            channels: format.channels > 1 ? format.channels : nil))]
        if let fmtp = format.formatParameters {
            attributes.append(.formatParameters(SDPFormatParameters(format: String(format.payloadType), parameters: fmtp)))
        }
        if let te = format.telephoneEventPayloadType {
            formats.append(String(te))
            attributes.append(.rtpMap(SDPRTPMap(payloadType: te, encodingName: "telephone-event", clockRate: UInt32(format.clockRate))))
            attributes.append(.formatParameters(SDPFormatParameters(format: String(te), parameters: "0-16")))
        }
        attributes.append(.ptime(format.ptimeMilliseconds))
        attributes.append(.direction(direction))
        var audio = MediaDescription(media: "audio", port: UInt16(leg.rtpPort), proto: crypto == nil ? "RTP/AVP" : "RTP/SAVP",
                                     formats: formats, attributes: attributes)
        point(&audio, at: leg)
        if let crypto { audio.attributes.append(.crypto(crypto)) }
        audio.connections = []
        var media = [audio]
        if let template {
            media = template.sdp.media.enumerated().map { i, m in
                if i == template.index { return audio }
                var refused = MediaDescription(media: m.media, port: 0, proto: m.proto, formats: m.formats)
                refused.attributes = []
                return refused
            }
        }
        return SessionDescription(origin: origin, sessionName: "tandem", connection: SDPConnection(address: leg.address),
                                  timings: [SDPTiming()], media: media)
    }

    /// Points an audio section at a leg: port and `a=rtcp`; ICE, SRTP keys, rtcp-mux and direction are the
    /// caller's to set.
    static func point(_ m: inout MediaDescription, at leg: CallMediaLeg) {
        m.port = UInt16(leg.rtpPort)
        m.connections = [SDPConnection(address: leg.address)]
        stripICE(&m.attributes)
        m.attributes.removeAll { a in
            switch a {
            case .rtcp, .rtcpMux, .crypto: true
            default: false
            }
        }
        m.attributes.append(.rtcp(SDPRTCPAttribute(port: UInt16(leg.rtcpPort))))
    }

    static let iceAttributes: Set<String> = [
        "candidate", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "ice-mismatch", "remote-candidates",
        "end-of-candidates", "ice-pacing", "fingerprint", "setup",
    ]

    static func stripICE(_ attributes: inout [SDPAttribute]) {
        attributes.removeAll { iceAttributes.contains($0.name) }
    }

    static func freePayloadType(_ used: Set<UInt8>) -> UInt8? {
        (96...127).map { UInt8($0) }.first { !used.contains($0) }
    }
}
