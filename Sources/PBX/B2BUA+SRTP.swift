import SDP

/// SDES-SRTP callers (RFC 4568): an `RTP/SAVP` offer with `a=crypto` (AES_CM_128_HMAC_SHA1_80 or _32) is
/// terminated on the caller's leg. Tandem answers `RTP/SAVP` with a fresh key of its own under the offer's tag;
/// the engine decrypts with the caller's key and encrypts with Tandem's, and the callee is offered plain
/// `RTP/AVP` (SRTP↔RTP bridging in the engine). DTLS-SRTP, AVPF profiles and SAVP without a usable key get 488
/// with a Warning (`CallSRTPKey.audioSection`, counted in `securityRejected`).
extension B2BUA {
    /// Sets up a new call's SRTP state when its caller offered SDES: Tandem's key, same suite and tag.
    /// Returns the keys the engine needs on the caller's leg (the caller's, Tandem's), or nil for plain RTP.
    func prepareCallerSRTP(_ call: Call) -> (inbound: CallSRTPKey, outbound: CallSRTPKey)? {
        guard let remote = call.offer.srtp else { return nil }
        let local = CallSRTPKey.fresh(suite: remote.suite, tag: remote.tag)
        call.offerState.callerRemoteSRTP = remote
        call.offerState.callerLocalSRTP = local
        counters.srtpCalls += 1
        return (remote, local)
    }

    /// Tandem's `a=crypto` in a description sent to `side`: only the caller's leg, and only when it is SRTP.
    func srtpCrypto(_ call: Call, _ side: CallSide) -> SDPCryptoAttribute? {
        side == .caller ? call.offerState.callerLocalSRTP?.attribute : nil
    }

    /// The SRTP caller re-offered (re-INVITE or UPDATE): a new key of its, or a new tag, reaches the engine and
    /// the answer.
    func callerReofferedSRTP(_ call: Call, _ offer: CallAudioDescription) {
        guard var local = call.offerState.callerLocalSRTP, let remote = offer.srtp, let leg = call.callerLeg else { return }
        if remote.tag != local.tag {
            local.tag = remote.tag
            call.offerState.callerLocalSRTP = local
        }
        guard remote != call.offerState.callerRemoteSRTP else { return }
        if remote.suite != local.suite {
            local = CallSRTPKey.fresh(suite: remote.suite, tag: remote.tag)
            call.offerState.callerLocalSRTP = local
        }
        call.offerState.callerRemoteSRTP = remote
        let media = media, outbound = local
        call.enqueueMedia { try? await media.setSRTP(leg, inbound: remote, outbound: outbound) }
    }
}
