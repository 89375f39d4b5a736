/// The RFC 3264 offer/answer model over `SessionDescription` values: build an offer, answer an offer,
/// and read the answer to our offer. Pure functions; control plane, allocates.
public enum OfferAnswer {
    /// Builds an offer with one `m=` line per capability, in order.
    ///
    /// Payload types are each codec's preferred number unless taken on that line, then the lowest free
    /// dynamic one (96...127). Telephone-event is offered once per distinct codec clock rate (RFC 4733 §2.1:
    /// its rate must match the audio codec's). Crypto lines get tags 1, 2, ... in suite order.
    public static func makeOffer<G: SDESKeyGenerator>(session: SDPLocalSession, media capabilities: [SDPMediaCapability],
                                                      keys: inout G) -> SessionDescription {
        var description = baseDescription(session)
        for cap in capabilities {
            var used = Set<UInt8>()
            var formats: [String] = []
            var attributes: [SDPAttribute] = []
            func allocate(_ preferred: UInt8) -> UInt8 {
                if preferred < 128, !used.contains(preferred) { return preferred }
                return (96...127).first { !used.contains($0) } ?? preferred
            }
            var rates: [UInt32] = []
            var fmtps: [SDPAttribute] = []
            for codec in cap.codecs {
                let pt = allocate(codec.payloadType)
                used.insert(pt)
                formats.append(String(pt))
                attributes.append(.rtpMap(SDPRTPMap(payloadType: pt, encodingName: codec.encodingName, clockRate: codec.clockRate,
                                                    channels: codec.channels == 1 ? nil : codec.channels)))
                if let f = codec.formatParameters { fmtps.append(.formatParameters(SDPFormatParameters(format: String(pt), parameters: f))) }
                if !rates.contains(codec.clockRate) { rates.append(codec.clockRate) }
            }
            if let te = cap.telephoneEvent, cap.media == "audio" {
                for (i, rate) in rates.enumerated() {
                    let pt = allocate(i == 0 || rate == 8000 ? te.payloadType : 200)
                    used.insert(pt)
                    formats.append(String(pt))
                    attributes.append(.rtpMap(SDPRTPMap(payloadType: pt, encodingName: "telephone-event", clockRate: rate)))
                    fmtps.append(.formatParameters(SDPFormatParameters(format: String(pt), parameters: te.events)))
                }
            }
            attributes += fmtps
            if let p = cap.ptime { attributes.append(.ptime(p)) }
            if let p = cap.maxPtime { attributes.append(.maxPtime(p)) }
            if cap.supportsRTCPMux { attributes.append(.rtcpMux) }
            if cap.srtp != .disabled {
                var tag: UInt32 = 1
                for suite in cap.cryptoSuites {
                    guard let length = SDPCryptoSuite.keySaltLength(of: suite) else { continue }
                    let key = SDPCryptoKey(keySaltBytes: keys.keySalt(count: length))
                    attributes.append(.crypto(SDPCryptoAttribute(tag: tag, suite: suite, keys: [key])))
                    tag += 1
                }
            }
            attributes.append(.direction(cap.direction))
            let proto = cap.srtp == .required ? "RTP/SAVP" : "RTP/AVP"
            description.media.append(MediaDescription(media: cap.media, port: cap.port, proto: proto, formats: formats,
                                                      bandwidths: cap.bandwidths, attributes: attributes))
        }
        return description
    }

    /// Answers an offer: each `m=` line is negotiated on its own against the first unused capability of the
    /// same media type; a line without one, without a common codec, or without acceptable crypto is rejected
    /// with port 0 and the offer's formats (RFC 3264 §6). Accepted lines keep the offerer's payload type numbers
    /// (RFC 3264 §6.1). Check `negotiated.contains(where: \.isAccepted)` to decide on 488.
    public static func makeAnswer<G: SDESKeyGenerator>(to offer: SessionDescription, session: SDPLocalSession,
                                                       media capabilities: [SDPMediaCapability], order: SDPAnswerOrder = .offerer,
                                                       keys: inout G) -> (answer: SessionDescription, negotiated: [NegotiatedMedia]) {
        var answer = baseDescription(session)
        var negotiated: [NegotiatedMedia] = []
        var usedCapabilities = Set<Int>()
        for (index, offered) in offer.media.enumerated() {
            guard let capIndex = capabilities.indices.first(where: {
                !usedCapabilities.contains($0) && capabilities[$0].media.lowercased() == offered.media.lowercased()
            }), let result = answerStream(index: index, offer: offer, capability: capabilities[capIndex], order: order, keys: &keys) else {
                answer.media.append(rejectedLine(offered))
                negotiated.append(.rejected(index: index, media: offered))
                continue
            }
            usedCapabilities.insert(capIndex)
            answer.media.append(result.line)
            negotiated.append(result.negotiated)
        }
        return (answer, negotiated)
    }

    /// Reads the answer to our offer: per `m=` line the codecs with their send (remote's) and receive (ours)
    /// payload types, crypto, direction, remote RTP/RTCP address and rtcp-mux.
    public static func processAnswer(_ answer: SessionDescription, to offer: SessionDescription) throws(SDPNegotiationError) -> [NegotiatedMedia] {
        guard answer.media.count == offer.media.count else {
            throw .mediaCountMismatch(offered: offer.media.count, answered: answer.media.count)
        }
        var result: [NegotiatedMedia] = []
        for (index, (ours, theirs)) in zip(offer.media, answer.media).enumerated() {
            guard ours.media.lowercased() == theirs.media.lowercased() else { throw .mediaTypeMismatch(index: index) }
            if ours.isRejected || theirs.isRejected {
                result.append(.rejected(index: index, media: theirs))
                continue
            }
            var codecs: [NegotiatedCodec] = []
            var events: [NegotiatedCodec] = []
            for format in theirs.formats {
                guard let pt = UInt8(format), pt < 128 else { continue }
                // RFC 3264 §6.1: the answer should carry rtpmap for dynamic types; fall back to our own number if it does not.
                guard let remoteMap = theirs.rtpMap(for: pt) ?? staticRTPMap(pt) ?? ours.rtpMap(for: pt) else { continue }
                guard let ourFormat = ours.formats.first(where: { f in
                    guard let p = UInt8(f), let m = resolve(p, in: ours) else { return false }
                    return sameCodec(m, remoteMap)
                }), let ourPT = UInt8(ourFormat), let ourMap = resolve(ourPT, in: ours) else { continue }
                let codec = NegotiatedCodec(encodingName: ourMap.encodingName, clockRate: ourMap.clockRate, channels: ourMap.channels ?? 1,
                                            sendPayloadType: pt, receivePayloadType: ourPT,
                                            sendFormatParameters: theirs.formatParameters(for: format),
                                            receiveFormatParameters: ours.formatParameters(for: ourFormat))
                if codec.isTelephoneEvent { events.append(codec) } else { codecs.append(codec) }
            }
            guard !codecs.isEmpty else { throw .noCommonFormat(index: index) }

            var crypto: NegotiatedCrypto?
            if !ours.cryptos.isEmpty {
                for c in theirs.cryptos {
                    if let mine = ours.cryptos.first(where: { $0.tag == c.tag && $0.suite == c.suite }),
                       let localKey = mine.keys.first, let remoteKey = c.keys.first {
                        crypto = NegotiatedCrypto(tag: c.tag, suite: c.suite, localKey: localKey, remoteKey: remoteKey)
                        break
                    }
                }
                if crypto == nil, ours.isSecureProfile || theirs.isSecureProfile || !theirs.cryptos.isEmpty {
                    throw .cryptoMismatch(index: index)
                }
            }
            let offered = offer.direction(of: index)
            let answered = answer.direction(of: index)
            let remoteConnection = answer.connection(of: index)
            let sending = offered.sends && answered.receives && remoteConnection?.isHoldAddress != true
            let mux = ours.hasRTCPMux && theirs.hasRTCPMux
            var entry = NegotiatedMedia(index: index, media: ours.media, mid: ours.mid, isAccepted: true, proto: theirs.proto,
                                        codecs: codecs, telephoneEvents: events,
                                        direction: SDPDirection(sending: sending, receiving: offered.receives && answered.sends),
                                        remoteAddress: remoteConnection?.address, remoteRTPPort: theirs.port,
                                        remoteRTCPAddress: remoteConnection?.address, remoteRTCPPort: 0, isRTCPMuxed: mux,
                                        crypto: crypto, sendPtime: theirs.ptime, sendMaxPtime: theirs.maxPtime,
                                        receivePtime: ours.ptime,
                                        remoteBandwidths: theirs.bandwidths.isEmpty ? answer.bandwidths : theirs.bandwidths,
                                        isRemoteHold: answer.isHold(mediaIndex: index))
            setRTCP(&entry, line: theirs, mux: mux)
            result.append(entry)
        }
        return result
    }

    // MARK: - Answer, one stream

    private static func answerStream<G: SDESKeyGenerator>(index: Int, offer: SessionDescription, capability cap: SDPMediaCapability,
                                                          order: SDPAnswerOrder, keys: inout G) -> (line: MediaDescription, negotiated: NegotiatedMedia)? {
        let offered = offer.media[index]
        let proto = offered.proto.uppercased()
        // DTLS-SRTP (UDP/TLS/RTP/SAVP[F]) is not supported yet; non-RTP streams (T.38 udptl, BFCP) neither.
        guard !offered.isRejected, offered.isRTP, !proto.contains("TLS") else { return nil }
        if offered.isSecureProfile, cap.srtp == .disabled { return nil }

        // Crypto: the first offered line (offerer's preference) whose suite we support and whose key is sane.
        var chosenCrypto: (offered: SDPCryptoAttribute, local: SDPCryptoKey)?
        if cap.srtp != .disabled {
            for c in offered.cryptos {
                guard cap.cryptoSuites.contains(c.suite), let length = SDPCryptoSuite.keySaltLength(of: c.suite),
                      c.sessionParameters.isEmpty, !c.keys.isEmpty,
                      c.keys.allSatisfy({ $0.method == "inline" && $0.keySaltBytes?.count == length }) else { continue }
                chosenCrypto = (c, SDPCryptoKey(keySaltBytes: keys.keySalt(count: length)))
                break
            }
            if chosenCrypto == nil, offered.isSecureProfile || cap.srtp == .required { return nil }
        }

        // Codec intersection, RFC 3264 §6.1: keep the offerer's payload type numbers.
        var accepted: [(pt: UInt8, localRank: Int, codec: NegotiatedCodec)] = []
        var events: [(pt: UInt8, map: SDPRTPMap)] = []
        for format in offered.formats {
            guard let pt = UInt8(format), pt < 128, let map = resolve(pt, in: offered) else { continue }
            if map.encodingName.lowercased() == "telephone-event" {
                events.append((pt, map))
                continue
            }
            guard !accepted.contains(where: { $0.pt == pt }),
                  let rank = cap.codecs.firstIndex(where: { $0.matches(map) }) else { continue }
            let local = cap.codecs[rank]
            let remoteFmtp = offered.formatParameters(for: format)
            guard let answerFmtp = answerFormatParameters(local: local, remote: remoteFmtp) else { continue }
            accepted.append((pt, rank, NegotiatedCodec(encodingName: local.encodingName, clockRate: local.clockRate, channels: local.channels,
                                                       sendPayloadType: pt, receivePayloadType: pt,
                                                       sendFormatParameters: remoteFmtp, receiveFormatParameters: answerFmtp)))
        }
        guard !accepted.isEmpty else { return nil }
        if order == .local {
            // Stable sort by our preference; ties keep the offerer's order.
            accepted = accepted.enumerated().sorted { ($0.element.localRank, $0.offset) < ($1.element.localRank, $1.offset) }.map(\.element)
        }
        // RFC 4733 §2.1: telephone-event only at a clock rate one of the accepted codecs uses; one per rate.
        var negotiatedEvents: [NegotiatedCodec] = []
        if let te = cap.telephoneEvent {
            for (pt, map) in events where accepted.contains(where: { $0.codec.clockRate == map.clockRate })
                && !negotiatedEvents.contains(where: { $0.clockRate == map.clockRate }) {
                let remoteEvents = offered.formatParameters(for: String(pt)) ?? "0-15"  // RFC 4733 §2.4.1 default
                guard let common = intersectEvents(te.events, remoteEvents) else { continue }
                negotiatedEvents.append(NegotiatedCodec(encodingName: map.encodingName, clockRate: map.clockRate, channels: 1,
                                                        sendPayloadType: pt, receivePayloadType: pt,
                                                        sendFormatParameters: remoteEvents, receiveFormatParameters: common))
            }
        }

        let all = accepted.map(\.codec) + negotiatedEvents
        var attributes: [SDPAttribute] = []
        var fmtps: [SDPAttribute] = []
        for c in all {
            attributes.append(.rtpMap(SDPRTPMap(payloadType: c.receivePayloadType, encodingName: c.encodingName, clockRate: c.clockRate,
                                                channels: c.channels == 1 ? nil : c.channels)))
            if let f = c.receiveFormatParameters {
                fmtps.append(.formatParameters(SDPFormatParameters(format: String(c.receivePayloadType), parameters: f)))
            }
        }
        attributes += fmtps
        if let p = cap.ptime { attributes.append(.ptime(p)) }
        if let p = cap.maxPtime { attributes.append(.maxPtime(p)) }
        let mux = offered.hasRTCPMux && cap.supportsRTCPMux
        if mux { attributes.append(.rtcpMux) }
        var crypto: NegotiatedCrypto?
        if let chosen = chosenCrypto, let remoteKey = chosen.offered.keys.first {
            attributes.append(.crypto(SDPCryptoAttribute(tag: chosen.offered.tag, suite: chosen.offered.suite, keys: [chosen.local])))
            crypto = NegotiatedCrypto(tag: chosen.offered.tag, suite: chosen.offered.suite, localKey: chosen.local, remoteKey: remoteKey)
        }
        // RFC 3264 §6.1 direction; §8.4: an offer with c=0.0.0.0 does not want to receive either.
        let offeredDirection = offer.direction(of: index)
        let remoteConnection = offer.connection(of: index)
        let sending = offeredDirection.receives && cap.direction.sends && remoteConnection?.isHoldAddress != true
        let receiving = offeredDirection.sends && cap.direction.receives
        let direction = SDPDirection(sending: sending, receiving: receiving)
        attributes.append(.direction(direction))
        // RFC 5888 §9.1: the answer repeats the offer's mid.
        if let mid = offered.mid { attributes.append(.mid(mid)) }

        let line = MediaDescription(media: offered.media, port: cap.port, proto: offered.proto, formats: all.map { String($0.receivePayloadType) },
                                    bandwidths: cap.bandwidths, attributes: attributes)
        var entry = NegotiatedMedia(index: index, media: offered.media, mid: offered.mid, isAccepted: true, proto: offered.proto,
                                    codecs: accepted.map(\.codec), telephoneEvents: negotiatedEvents, direction: direction,
                                    remoteAddress: remoteConnection?.address, remoteRTPPort: offered.port,
                                    remoteRTCPAddress: remoteConnection?.address, remoteRTCPPort: 0, isRTCPMuxed: mux, crypto: crypto,
                                    sendPtime: offered.ptime, sendMaxPtime: offered.maxPtime, receivePtime: cap.ptime,
                                    remoteBandwidths: offered.bandwidths.isEmpty ? offer.bandwidths : offered.bandwidths,
                                    isRemoteHold: offer.isHold(mediaIndex: index))
        setRTCP(&entry, line: offered, mux: mux)
        return (line, entry)
    }

    // MARK: - Helpers

    private static func baseDescription(_ session: SDPLocalSession) -> SessionDescription {
        let type = SDPAddressType(address: session.address)
        return SessionDescription(
            origin: SDPOrigin(username: session.username, sessionID: session.sessionID, sessionVersion: session.sessionVersion,
                              addressType: type, address: session.address),
            sessionName: session.sessionName, connection: SDPConnection(addressType: type, address: session.address))
    }

    /// RFC 3264 §6: a rejected stream is answered with port 0, the same proto and formats, no attributes but its mid.
    private static func rejectedLine(_ offered: MediaDescription) -> MediaDescription {
        var line = MediaDescription(media: offered.media, port: 0, proto: offered.proto, formats: offered.formats)
        if line.formats.isEmpty { line.formats = ["0"] }
        if let mid = offered.mid { line.attributes.append(.mid(mid)) }
        return line
    }

    private static func setRTCP(_ entry: inout NegotiatedMedia, line: MediaDescription, mux: Bool) {
        if mux {
            entry.remoteRTCPPort = entry.remoteRTPPort
        } else if let rtcp = line.rtcp {
            entry.remoteRTCPPort = rtcp.port
            if let c = rtcp.connection { entry.remoteRTCPAddress = c.address }
        } else {
            // RFC 3550 §11: RTCP on the next higher port.
            entry.remoteRTCPPort = entry.remoteRTPPort == .max ? 0 : entry.remoteRTPPort + 1
        }
    }

    /// The rtpmap for a payload type on a line, or the static assignment of RFC 3551 §6.
    static func resolve(_ pt: UInt8, in line: MediaDescription) -> SDPRTPMap? {
        line.rtpMap(for: pt) ?? staticRTPMap(pt)
    }

    /// The RFC 3551 §6 static payload types that are still in use.
    static func staticRTPMap(_ pt: UInt8) -> SDPRTPMap? {
        let entry: (String, UInt32, Int?)
        switch pt {
        case 0: entry = ("PCMU", 8000, nil)
        case 3: entry = ("GSM", 8000, nil)
        case 4: entry = ("G723", 8000, nil)
        case 5: entry = ("DVI4", 8000, nil)
        case 6: entry = ("DVI4", 16000, nil)
        case 8: entry = ("PCMA", 8000, nil)
        case 9: entry = ("G722", 8000, nil)
        case 10: entry = ("L16", 44100, 2)
        case 11: entry = ("L16", 44100, nil)
        case 13: entry = ("CN", 8000, nil)
        case 15: entry = ("G728", 8000, nil)
        case 18: entry = ("G729", 8000, nil)
        case 26: entry = ("JPEG", 90000, nil)
        case 31: entry = ("H261", 90000, nil)
        case 34: entry = ("H263", 90000, nil)
        default: return nil
        }
        return SDPRTPMap(payloadType: pt, encodingName: entry.0, clockRate: entry.1, channels: entry.2)
    }

    private static func sameCodec(_ a: SDPRTPMap, _ b: SDPRTPMap) -> Bool {
        a.encodingName.lowercased() == b.encodingName.lowercased() && a.clockRate == b.clockRate && (a.channels ?? 1) == (b.channels ?? 1)
    }

    /// The fmtp to answer with, or nil when the offered parameters are incompatible with ours.
    ///
    /// Opus parameters are receiver preferences, always compatible (RFC 7587 §7): we answer with ours.
    /// H.264 needs the same packetization-mode (RFC 6184 §8.2.2). Others: ours when set, else the offer's echoed.
    private static func answerFormatParameters(local: SDPCodec, remote: String?) -> String?? {
        switch local.encodingName.lowercased() {
        case "opus":
            return .some(local.formatParameters)
        case "h264":
            let mode = { (s: String?) in s.flatMap { SDPFormatParameters(format: "0", parameters: $0).parameter("packetization-mode") } ?? "0" }
            guard mode(local.formatParameters) == mode(remote) else { return nil }
            return .some(remote ?? local.formatParameters)
        default:
            return .some(local.formatParameters ?? remote)
        }
    }

    /// The intersection of two RFC 4733 §2.4.1 event lists (`0-15,66`), or nil when empty or malformed.
    static func intersectEvents(_ a: String, _ b: String) -> String? {
        guard let x = parseEvents(a), let y = parseEvents(b) else { return nil }
        var common = [Bool](repeating: false, count: 256)
        var any = false
        for i in 0..<256 where x[i] && y[i] {
            common[i] = true
            any = true
        }
        guard any else { return nil }
        var parts: [String] = []
        var i = 0
        while i < 256 {
            guard common[i] else { i += 1; continue }
            var j = i
            while j + 1 < 256, common[j + 1] { j += 1 }
            parts.append(i == j ? String(i) : "\(i)-\(j)")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    private static func parseEvents(_ text: String) -> [Bool]? {
        var set = [Bool](repeating: false, count: 256)
        for item in text.split(separator: ",") {
            let trimmed = item.filter { $0 != " " }
            let bounds = trimmed.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = UInt8(bounds[0]), let high = UInt8(bounds[bounds.count - 1]), low <= high else { return nil }
            for e in low...high { set[Int(e)] = true }
        }
        return set
    }
}
