import Foundation
import SDP
import SIPCore
import SIPStack
import Store

/// Late offers (RFC 3261 §13.2.1, RFC 3264 §4) and the reading of the caller's initial offer.
///
/// An INVITE without SDP is anchored like any other call: Tandem offers the callee its own leg with every codec
/// the engine can relay or transcode (`lateOfferTemplate` stands in for the caller's offer), plans the codecs from
/// the callee's answer, and then offers the caller its leg in the 2xx: the codec the callee chose first, then the
/// engine's other codecs. The caller's ACK carries the answer: its address goes to the caller's leg, and a codec
/// other than the callee's makes the engine transcode. Early media is not forwarded to such a caller (an 18x with
/// SDP would be an offer that needs 100rel); the 18x goes without a body. An ACK without an answer, or with one
/// Tandem cannot use, ends the call: BYE to both sides, counted (`lateOfferFailures`), CDR `incompatible_media`.
extension B2BUA {
    /// Why an INVITE's SDP cannot be anchored: a 488, with a Warning when there is something to explain.
    struct OfferRefusal: Error {
        var warning: String?
    }

    /// The caller's offer from its INVITE; for an INVITE without a body, Tandem's own template (a late offer).
    func readOffer(_ request: SIPMessage) -> Result<(offer: CallAudioDescription, late: Bool), OfferRefusal> {
        guard let body = SessionBody(message: request) else {
            guard let template = Self.lateOfferTemplate(canTranscode: media.canTranscode) else {
                return .failure(OfferRefusal(warning: "no codec available for a late offer"))
            }
            counters.lateOffers += 1
            return .success((template, true))
        }
        guard body.isSessionDescription, let text = String(bytes: body.bytes, encoding: .utf8) else {
            return .failure(OfferRefusal(warning: "the INVITE body is not SDP"))
        }
        do {
            return .success((try CallAudioDescription(parsing: text), false))
        } catch .unsupportedSecurity(let why) {
            counters.securityRejected += 1
            return .failure(OfferRefusal(warning: why))
        } catch .malformed {
            return .failure(OfferRefusal(warning: "malformed SDP"))
        } catch {
            return .failure(OfferRefusal(warning: nil))
        }
    }

    /// The codecs Tandem offers on behalf of a caller that sent no SDP, in preference order, with their
    /// telephone-event payload types.
    static let lateOfferCodecs: [(pt: UInt8, name: String, rate: Int, channels: Int, fmtp: String?)] = [
        (8, "PCMA", 8000, 1, nil), (0, "PCMU", 8000, 1, nil), (9, "G722", 8000, 1, nil),
        (111, "opus", 48000, 2, "minptime=10;useinbandfec=1"),
    ]

    /// A stand-in for the caller's offer when its INVITE had none: every codec the engine can transcode, no
    /// address yet (`c=0.0.0.0`, so the caller's leg stays unpointed until the ACK's answer). Nil when the engine
    /// knows none of them.
    static func lateOfferTemplate(canTranscode: (String, Int) -> Bool) -> CallAudioDescription? {
        let codecs = lateOfferCodecs.filter { canTranscode($0.name, $0.rate) }
        guard !codecs.isEmpty else { return nil }
        var formats = codecs.map { String($0.pt) }
        var lines = ["v=0", "o=tandem 0 0 IN IP4 0.0.0.0", "s=tandem", "c=IN IP4 0.0.0.0", "t=0 0"]
        var attributes: [String] = []
        for c in codecs {
            attributes.append("a=rtpmap:\(c.pt) \(c.name)/\(c.rate)" + (c.channels > 1 ? "/\(c.channels)" : ""))
            if let f = c.fmtp { attributes.append("a=fmtp:\(c.pt) \(f)") }
        }
        formats.append("101")
        attributes += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"]
        if codecs.contains(where: { $0.rate == 48000 }) {
            formats.append("102")
            attributes += ["a=rtpmap:102 telephone-event/48000", "a=fmtp:102 0-16"]
        }
        lines.append("m=audio 9 RTP/AVP " + formats.joined(separator: " "))
        lines += attributes + ["a=sendrecv"]
        return try? CallAudioDescription(parsing: lines.joined(separator: "\r\n") + "\r\n")
    }

    /// Tandem's offer to a late-offer caller in the 2xx: the caller leg's planned codec first, then every other
    /// codec the engine can transcode to it.
    func lateOfferToCaller(_ call: Call, plan: CallCodecPlan, leg: CallMediaLeg, direction: SDPDirection) -> SessionBody {
        var sdp = CallSDP.description(format: plan.caller, leg: leg, direction: direction,
                                      origin: call.nextOrigin(for: .caller, address: leg.address))
        if media.canTranscode(name: plan.caller.name, clockRate: plan.caller.clockRate) {
            var m = sdp.media[0]
            let first = CallCodec(payloadType: plan.caller.payloadType, name: plan.caller.name, clockRate: plan.caller.clockRate)
            var used = Set(m.formats.compactMap { UInt8($0) })
            var extra: [String] = []
            for c in call.offer.codecs where !c.isSameCodec(as: first) && media.canTranscode(name: c.name, clockRate: c.clockRate)
                && !used.contains(c.payloadType) {
                used.insert(c.payloadType)
                extra.append(String(c.payloadType))
                m.attributes.append(.rtpMap(SDPRTPMap(payloadType: c.payloadType, encodingName: c.name, clockRate: UInt32(c.clockRate),
                                                      channels: c.channels > 1 ? c.channels : nil)))
                if let f = c.formatParameters {
                    m.attributes.append(.formatParameters(SDPFormatParameters(format: String(c.payloadType), parameters: f)))
                }
            }
            m.formats.insert(contentsOf: extra, at: 1)
            sdp.media[0] = m
        }
        return SessionBody(bytes: Array(sdp.serialized.utf8))
    }

    /// The caller's ACK brought the answer to Tandem's 2xx offer (or, `body` nil, did not): point the caller's
    /// leg at it and set its codec, or end the call.
    func lateAnswerReceived(_ call: Call, _ body: SessionBody?) {
        guard call.phase == .answered, !call.offerState.lateAnswerApplied else { return }
        guard let body, let text = String(bytes: body.bytes, encoding: .utf8),
              let answer = try? CallAudioDescription(parsing: text), answer.srtp == nil,
              let plan = call.plan, let a = call.callerLeg, let b = call.calleeLeg,
              let answered = answer.codecs.first(where: { c in call.offer.codecs.contains { $0.isSameCodec(as: c) } }) else {
            return lateAnswerFailed(call, why: body == nil ? "no SDP answer in the ACK" : "unusable SDP answer in the ACK")
        }
        call.offerState.lateAnswerApplied = true
        var newPlan = plan
        let sameAsPlanned = answered.isSameCodec(as: CallCodec(payloadType: plan.caller.payloadType, name: plan.caller.name,
                                                               clockRate: plan.caller.clockRate))
        if !sameAsPlanned || answered.payloadType != plan.caller.payloadType {
            guard media.canTranscode(name: answered.name, clockRate: answered.clockRate) else {
                return lateAnswerFailed(call, why: "the answered codec cannot be bridged")
            }
            newPlan.caller = CallAudioFormat(name: answered.name, clockRate: answered.clockRate, channels: answered.channels,
                                             payloadType: answered.payloadType, ptimeMilliseconds: answer.ptime ?? 20,
                                             telephoneEventPayloadType: plan.callee.telephoneEventPayloadType == nil ? nil
                                                 : answer.telephoneEvent(at: answered.clockRate),
                                             formatParameters: answered.formatParameters)
            newPlan.transcodes = newPlan.caller != newPlan.callee
            newPlan.engineKnowsCodecs = media.canTranscode(name: newPlan.callee.name, clockRate: newPlan.callee.clockRate)
            if newPlan.transcodes && !newPlan.engineKnowsCodecs {
                return lateAnswerFailed(call, why: "the answered codec cannot be bridged")
            }
        }
        let changed = newPlan != plan
        call.plan = newPlan
        let media = media, remote = answer.remote, planned = newPlan
        call.enqueueMedia {
            do {
                try await media.updateLeg(a, remote: remote)
                if changed, planned.engineKnowsCodecs {
                    try await media.setAudioFormat(planned.caller, for: a)
                    try await media.setAudioFormat(planned.callee, for: b)
                }
            } catch {
                // The call goes on without (correct) media; the CDR records the plan.
            }
        }
    }

    /// The late-offer caller answered nothing usable: BYE to both sides, counted.
    func lateAnswerFailed(_ call: Call, why: String) {
        guard call.phase != .ended else { return }
        counters.lateOfferFailures += 1
        call.warning = why
        finish(call, reason: .incompatibleMedia, by: .system, status: nil)
    }

    /// True when `side`'s answer is the late-offer caller's ACK answer (handled here, not as a re-INVITE answer).
    func isLateAnswer(_ call: Call, _ side: CallSide) -> Bool {
        side == .caller && call.offerState.isLateOffer && !call.offerState.lateAnswerApplied && call.acceptedCaller
    }
}
