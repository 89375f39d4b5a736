import Testing
@testable import SDP

@Suite struct OfferAnswerTests {
    let session = SDPLocalSession(sessionID: "42", sessionVersion: 1, address: "10.0.0.1")

    func audio(_ codecs: [SDPCodec], te: SDPTelephoneEvent? = SDPTelephoneEvent(payloadType: 100), port: UInt16 = 40000,
               suites: [String] = [], srtp: SDPSRTPPolicy = .disabled, mux: Bool = true, direction: SDPDirection = .sendrecv) -> SDPMediaCapability {
        SDPMediaCapability(port: port, codecs: codecs, telephoneEvent: te, ptime: 20, cryptoSuites: suites, srtp: srtp,
                           supportsRTCPMux: mux, direction: direction)
    }

    func answer(_ offerText: String, _ caps: [SDPMediaCapability], order: SDPAnswerOrder = .offerer) throws
        -> (answer: SessionDescription, negotiated: [NegotiatedMedia]) {
        let offer = try SessionDescription(parsing: offerText)
        var keys = CountingKeys()
        let result = OfferAnswer.makeAnswer(to: offer, session: session, media: caps, order: order, keys: &keys)
        // The answer is itself valid SDP that round-trips.
        #expect(try SessionDescription(parsing: result.answer.serialized) == result.answer)
        return result
    }

    @Test func intersectionKeepsOffererOrderAndNumbers() throws {
        let (sdp, neg) = try answer(Samples.deskPhoneOffer, [audio([.pcma, .pcmu, .opus])])
        let m = sdp.media[0]
        #expect(m.port == 40000 && m.proto == "RTP/AVP")
        // Offerer order (RFC 3264 §6.1 recommendation): 0 before 8; G722 and G729 not ours; 101 kept as offered.
        #expect(m.formats == ["0", "8", "101"])
        #expect(m.rtpMap(for: 101) == SDPRTPMap(payloadType: 101, encodingName: "telephone-event", clockRate: 8000))
        // Events intersect ours (0-16) with the offer's (0-15).
        #expect(m.formatParameters(for: "101") == "0-15")
        #expect(m.ptime == 20)
        #expect(m.directionAttribute == .sendrecv)
        #expect(!m.hasRTCPMux)  // not offered
        #expect(sdp.connection?.address == "10.0.0.1")
        let n = neg[0]
        #expect(n.isAccepted)
        #expect(n.codecs.map(\.encodingName) == ["PCMU", "PCMA"])
        #expect(n.codecs.map(\.sendPayloadType) == [0, 8])
        #expect(n.telephoneEvents.map(\.sendPayloadType) == [101])
        #expect(n.remoteAddress == "192.168.1.50" && n.remoteRTPPort == 11780 && n.remoteRTCPPort == 11781)
        #expect(n.sendPtime == 20 && n.receivePtime == 20)
        #expect(!n.isRTCPMuxed && n.crypto == nil && n.direction == .sendrecv)
    }

    @Test func localOrderWhenAsked() throws {
        let (sdp, _) = try answer(Samples.deskPhoneOffer, [audio([.pcma, .g722, .pcmu])], order: .local)
        #expect(sdp.media[0].formats == ["8", "9", "0", "101"])
    }

    @Test func dynamicPayloadTypesFollowTheOfferer() throws {
        // Offerer uses opus 111 and telephone-event 126/8000 + 110/48000; we prefer opus 96 and events 100.
        var offer = try SessionDescription(parsing: Samples.webRTCOffer)
        offer.media[0].proto = "RTP/SAVPF"
        offer.media[0].attributes.append(.crypto(SDPCryptoAttribute(tag: 7, suite: "AES_CM_128_HMAC_SHA1_80",
                                                                    keys: [SDPCryptoKey(keySaltBytes: Array(repeating: 9, count: 30))])))
        let (sdp, neg) = try answer(offer.serialized, [audio([.opus, .pcmu], suites: ["AES_CM_128_HMAC_SHA1_80"], srtp: .optional)])
        let m = sdp.media[0]
        #expect(m.formats == ["111", "0", "110", "126"])
        #expect(m.rtpMap(for: 111) == SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        // Opus fmtp: our receive preferences, not the offerer's.
        #expect(m.formatParameters(for: "111") == "minptime=10;useinbandfec=1")
        #expect(m.formatParameters(for: "110") == "0-15")  // offer has no fmtp: RFC 4733 default 0-15
        #expect(m.hasRTCPMux)
        #expect(m.mid == "0")
        #expect(neg[0].codecs.first?.receivePayloadType == 111 && neg[0].codecs.first?.sendPayloadType == 111)
        #expect(neg[0].isRTCPMuxed && neg[0].remoteRTCPPort == neg[0].remoteRTPPort)
        #expect(neg[0].telephoneEvents.map(\.clockRate) == [48000, 8000])
    }

    @Test func webRTCDTLSIsRejectedForNow() throws {
        let (sdp, neg) = try answer(Samples.webRTCOffer, [audio([.opus])])
        #expect(sdp.media[0].port == 0)
        #expect(sdp.media[0].formats == ["111", "63", "9", "0", "8", "110", "126"])
        #expect(sdp.media[0].mid == "0")
        #expect(!neg[0].isAccepted)
    }

    @Test func noCommonCodecRejectsWithPortZeroAndOfferedFormats() throws {
        let g729Only = SDPCodec(encodingName: "G729", clockRate: 8000, payloadType: 18)
        let opusOnly = try answer(Samples.rtpengineRewritten, [audio([.opus, g729Only])])
        #expect(opusOnly.answer.media[0].port == 0)
        #expect(opusOnly.answer.media[0].formats == ["0", "8", "101"])
        #expect(opusOnly.answer.media[0].attributes.isEmpty)
        #expect(!opusOnly.negotiated[0].isAccepted)
        #expect(!opusOnly.negotiated.contains { $0.isAccepted })
    }

    @Test func videoRejectedAudioAccepted() throws {
        let (sdp, neg) = try answer(Samples.audioVideoOffer, [audio([.opus])])
        #expect(sdp.media.count == 2)
        #expect(sdp.media[0].port == 40000 && sdp.media[0].formats == ["96", "101"])
        #expect(sdp.media[1].port == 0 && sdp.media[1].media == "video" && sdp.media[1].proto == "RTP/AVPF")
        #expect(sdp.media[1].formats == ["97"])
        #expect(neg.map(\.isAccepted) == [true, false])
        #expect(sdp.origin.addressType == .ipv4)
        #expect(neg[0].remoteAddress == "2001:db8::5")
    }

    @Test func videoAcceptedWhenWeHaveH264WithTheSameMode() throws {
        let h264 = SDPCodec(encodingName: "H264", clockRate: 90000, payloadType: 102, formatParameters: "packetization-mode=1")
        let video = SDPMediaCapability(media: "video", port: 40002, codecs: [h264], telephoneEvent: nil)
        let (sdp, neg) = try answer(Samples.audioVideoOffer, [audio([.opus]), video])
        #expect(sdp.media[1].port == 40002 && sdp.media[1].formats == ["97"])
        #expect(sdp.media[1].formatParameters(for: "97") == "profile-level-id=42e01f;packetization-mode=1")
        #expect(neg[1].isAccepted)
        let mode0 = SDPMediaCapability(media: "video", port: 40002, codecs: [SDPCodec(encodingName: "h264", clockRate: 90000, payloadType: 102)],
                                       telephoneEvent: nil)
        let (sdp0, _) = try answer(Samples.audioVideoOffer, [audio([.opus]), mode0])
        #expect(sdp0.media[1].port == 0)
    }

    @Test func telephoneEventNeedsAMatchingClockRate() throws {
        // The offer's only telephone-event is at 48000 but we accept only 8000 codecs.
        let text = Samples.audioVideoOffer.replacingOccurrences("m=audio 5004 RTP/AVP 96 101", "m=audio 5004 RTP/AVP 96 0 101")
        let (sdp, neg) = try answer(text, [audio([.pcmu])])
        #expect(sdp.media[0].formats == ["0"])
        #expect(neg[0].telephoneEvents.isEmpty)
        // Without our telephone-event support it is not answered either.
        let (sdp2, _) = try answer(Samples.deskPhoneOffer, [audio([.pcmu], te: nil)])
        #expect(sdp2.media[0].formats == ["0"])
    }

    @Test(arguments: [
        (SDPDirection.sendonly, SDPDirection.sendrecv, SDPDirection.recvonly),
        (.recvonly, .sendrecv, .sendonly),
        (.inactive, .sendrecv, .inactive),
        (.sendrecv, .sendrecv, .sendrecv),
        (.sendrecv, .sendonly, .sendonly),  // we put the peer on hold
        (.sendrecv, .inactive, .inactive),
        (.sendonly, .sendonly, .inactive),
    ])
    func directionIsAnsweredPerRFC3264(_ offered: SDPDirection, _ local: SDPDirection, _ expected: SDPDirection) throws {
        var offer = try SessionDescription(parsing: Samples.deskPhoneOffer)
        offer.media[0].setDirection(offered)
        let (sdp, neg) = try answer(offer.serialized, [audio([.pcmu], direction: local)])
        #expect(sdp.media[0].directionAttribute == expected)
        #expect(neg[0].direction == expected)
        #expect(neg[0].isRemoteHold == (offered == .sendonly || offered == .inactive))
    }

    @Test func oldStyleHoldAddressStopsOurSending() throws {
        var offer = try SessionDescription(parsing: Samples.deskPhoneOffer)
        offer.connection = SDPConnection(address: "0.0.0.0")
        let (sdp, neg) = try answer(offer.serialized, [audio([.pcmu])])
        #expect(sdp.media[0].directionAttribute == .recvonly)
        #expect(neg[0].isRemoteHold)
    }

    @Test func rtcpMuxOnlyWhenSupported() throws {
        var offer = try SessionDescription(parsing: Samples.deskPhoneOffer)
        offer.media[0].attributes.append(.rtcpMux)
        let accepted = try answer(offer.serialized, [audio([.pcmu], mux: true)])
        #expect(accepted.answer.media[0].hasRTCPMux && accepted.negotiated[0].isRTCPMuxed)
        let refused = try answer(offer.serialized, [audio([.pcmu], mux: false)])
        #expect(!refused.answer.media[0].hasRTCPMux && !refused.negotiated[0].isRTCPMuxed)
        #expect(refused.negotiated[0].remoteRTCPPort == 11781)
    }

    @Test func rtcpAttributeGivesRemoteRTCPAddress() throws {
        let (_, neg) = try answer(Samples.rtpengineRewritten, [audio([.pcmu], mux: false)])
        #expect(neg[0].remoteRTCPPort == 30113 && neg[0].remoteRTCPAddress == "203.0.113.10")
        #expect(neg[0].remoteBandwidths == [SDPBandwidth(type: "AS", value: 80), SDPBandwidth(type: "TIAS", value: 64000)])
        #expect(neg[0].sendMaxPtime == 150)
    }

    @Test func cryptoPicksFirstSupportedSuiteAndEchoesTheTag() throws {
        // We support only the _32 suite: tag 2 is chosen.
        let (sdp, neg) = try answer(Samples.sdesOffer, [audio([.pcmu], suites: ["AES_CM_128_HMAC_SHA1_32"], srtp: .required)])
        let m = sdp.media[0]
        #expect(m.port == 40000 && m.proto == "RTP/SAVP")
        let expectedKey = SDPCryptoKey(keySaltBytes: Array(0..<30))
        #expect(m.cryptos == [SDPCryptoAttribute(tag: 2, suite: "AES_CM_128_HMAC_SHA1_32", keys: [expectedKey])])
        #expect(sdp.serialized.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n"))
        let c = try #require(neg[0].crypto)
        #expect(c.tag == 2 && c.localKey == expectedKey)
        #expect(c.remoteKey.keySalt == "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj")

        // Both supported: the offerer's first (tag 1, with its MKI kept for the engine).
        let (sdp2, neg2) = try answer(Samples.sdesOffer, [audio([.pcmu], suites: ["AES_CM_128_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80"], srtp: .optional)])
        #expect(sdp2.media[0].cryptos.map(\.tag) == [1])
        #expect(neg2[0].crypto?.remoteKey.mki?.length == 4)
    }

    @Test func srtpOfferRejectedWithoutCommonSuiteOrWhenDisabled() throws {
        let noSuite = try answer(Samples.sdesOffer, [audio([.pcmu], suites: ["AEAD_AES_256_GCM"], srtp: .required)])
        #expect(noSuite.answer.media[0].port == 0)
        let disabled = try answer(Samples.sdesOffer, [audio([.pcmu], suites: ["AES_CM_128_HMAC_SHA1_80"], srtp: .disabled)])
        #expect(disabled.answer.media[0].port == 0)
        // Plain offer while we require SRTP: rejected.
        let required = try answer(Samples.deskPhoneOffer, [audio([.pcmu], suites: ["AES_CM_128_HMAC_SHA1_80"], srtp: .required)])
        #expect(required.answer.media[0].port == 0)
    }

    @Test func offeredPortZeroStaysRejected() throws {
        var offer = try SessionDescription(parsing: Samples.deskPhoneOffer)
        offer.media[0].port = 0
        let (sdp, neg) = try answer(offer.serialized, [audio([.pcmu])])
        #expect(sdp.media[0].port == 0 && !neg[0].isAccepted)
    }

    @Test func bandwidthLinesAreCarried() throws {
        var cap = audio([.pcmu])
        cap.bandwidths = [SDPBandwidth(type: "AS", value: 64)]
        let (sdp, _) = try answer(Samples.deskPhoneOffer, [cap])
        #expect(sdp.media[0].bandwidths == [SDPBandwidth(type: "AS", value: 64)])
    }

    // MARK: Offer and answer processing

    @Test func offerLayout() throws {
        var keys = CountingKeys()
        let caps = [SDPMediaCapability(port: 5000, codecs: [.opus, .pcmu, .pcma], telephoneEvent: SDPTelephoneEvent(payloadType: 101),
                                       ptime: 20, maxPtime: 40, cryptoSuites: ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"],
                                       srtp: .required)]
        let offer = OfferAnswer.makeOffer(session: session, media: caps, keys: &keys)
        let m = offer.media[0]
        #expect(m.proto == "RTP/SAVP")
        #expect(m.formats == ["96", "0", "8", "101", "97"])
        #expect(m.rtpMap(for: 101)?.clockRate == 48000 && m.rtpMap(for: 97)?.clockRate == 8000)
        #expect(m.formatParameters(for: "97") == "0-16")
        #expect(m.cryptos.map(\.tag) == [1, 2])
        #expect(m.cryptos[1].keys[0].keySaltBytes == Array(30..<60))
        #expect(m.ptime == 20 && m.maxPtime == 40 && m.hasRTCPMux && m.directionAttribute == .sendrecv)
        #expect(try SessionDescription(parsing: offer.serialized) == offer)
    }

    @Test func offerThenAnswerRoundTrip() throws {
        // We offer opus 96 + PCMU + telephone-event 100; the peer answers with its own numbers.
        var keys = CountingKeys()
        let ours = [audio([.opus, .pcmu], suites: ["AES_CM_128_HMAC_SHA1_80"], srtp: .required)]
        let offer = OfferAnswer.makeOffer(session: session, media: ours, keys: &keys)
        #expect(offer.media[0].formats == ["96", "0", "100", "97"])
        let answerText = [
            "v=0", "o=peer 5 5 IN IP4 192.0.2.9", "s=-", "c=IN IP4 192.0.2.9", "t=0 0",
            "m=audio 7000 RTP/SAVP 111 101", "a=rtpmap:111 OPUS/48000/2", "a=fmtp:111 stereo=0",
            "a=rtpmap:101 telephone-event/48000", "a=ptime:40", "a=rtcp-mux", "a=recvonly",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj", "",
        ].joined(separator: "\r\n")
        let neg = try OfferAnswer.processAnswer(try SessionDescription(parsing: answerText), to: offer)
        let n = try #require(neg.first)
        #expect(n.isAccepted)
        #expect(n.codecs == [NegotiatedCodec(encodingName: "opus", clockRate: 48000, channels: 2, sendPayloadType: 111, receivePayloadType: 96,
                                             sendFormatParameters: "stereo=0", receiveFormatParameters: "minptime=10;useinbandfec=1")])
        #expect(n.telephoneEvents.map(\.sendPayloadType) == [101] && n.telephoneEvents.map(\.receivePayloadType) == [100])
        #expect(n.direction == .sendonly)
        #expect(n.remoteAddress == "192.0.2.9" && n.remoteRTPPort == 7000 && n.remoteRTCPPort == 7000 && n.isRTCPMuxed)
        #expect(n.sendPtime == 40 && n.receivePtime == 20)
        #expect(n.crypto?.tag == 1 && n.crypto?.localKey == offer.media[0].cryptos[0].keys[0])
        #expect(n.crypto?.remoteKey.keySalt == "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj")
    }

    @Test func ourAnswerProcessedByTheOffererSide() throws {
        // Answer generated by us, read back as if we were the offerer: both sides agree on PTs.
        let offer = try SessionDescription(parsing: Samples.deskPhoneOffer)
        var keys = CountingKeys()
        let (ans, mine) = OfferAnswer.makeAnswer(to: offer, session: session, media: [audio([.pcma, .pcmu])], keys: &keys)
        let theirs = try OfferAnswer.processAnswer(ans, to: offer)
        #expect(theirs[0].codecs.map(\.sendPayloadType) == mine[0].codecs.map(\.receivePayloadType))
        #expect(theirs[0].remoteAddress == "10.0.0.1" && theirs[0].remoteRTPPort == 40000)
    }

    @Test func answerErrors() throws {
        let offer = try SessionDescription(parsing: Samples.audioVideoOffer)
        var oneLine = offer
        oneLine.media.removeLast()
        #expect(throws: SDPNegotiationError.mediaCountMismatch(offered: 2, answered: 1)) { try OfferAnswer.processAnswer(oneLine, to: offer) }
        var swapped = offer
        swapped.media.swapAt(0, 1)
        #expect(throws: SDPNegotiationError.mediaTypeMismatch(index: 0)) { try OfferAnswer.processAnswer(swapped, to: offer) }
        var foreign = offer
        foreign.media[0].formats = ["8"]
        #expect(throws: SDPNegotiationError.noCommonFormat(index: 0)) { try OfferAnswer.processAnswer(foreign, to: offer) }
        var rejected = offer
        rejected.media[1].port = 0
        let neg = try OfferAnswer.processAnswer(rejected, to: offer)
        #expect(neg.map(\.isAccepted) == [true, false])

        let sdes = try SessionDescription(parsing: Samples.sdesOffer)
        var noCrypto = sdes
        noCrypto.media[0].attributes.removeAll { $0.name == "crypto" }
        #expect(throws: SDPNegotiationError.cryptoMismatch(index: 0)) { try OfferAnswer.processAnswer(noCrypto, to: sdes) }
    }

    @Test func eventIntersection() {
        #expect(OfferAnswer.intersectEvents("0-16", "0-15,66") == "0-15")
        #expect(OfferAnswer.intersectEvents("0-16,32-40", "10-35") == "10-16,32-35")
        #expect(OfferAnswer.intersectEvents("0-15", "66") == nil)
        #expect(OfferAnswer.intersectEvents("0-15", "x") == nil)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var parts: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        return parts.joined(separator: replacement)
    }
}
