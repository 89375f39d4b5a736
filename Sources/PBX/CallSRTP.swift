import Foundation
import SDP
import TandemBase

/// One SDES key (RFC 4568) as call control handles it: the `a=crypto` tag, the suite and the inline key. The
/// engine behind `CallMediaService` turns it into an SRTP context; PBX never touches packets.
public struct CallSRTPKey: Sendable, Hashable {
    /// The crypto suites Tandem terminates on a call leg, in preference order.
    public static let suites = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"]
    /// Master key plus salt for both suites: 16 + 14 bytes.
    static let keySaltLength = 30

    /// The `a=crypto` tag (the answer echoes the offer's).
    public var tag: UInt32
    /// The suite name as in SDP.
    public var suite: String
    /// The base64 master key and salt.
    public var keySalt: String
    /// The key lifetime as written (`2^31` or a number), if any.
    public var lifetime: String?

    public init(tag: UInt32, suite: String, keySalt: String, lifetime: String? = nil) {
        self.tag = tag
        self.suite = suite
        self.keySalt = keySalt
        self.lifetime = lifetime
    }

    /// A fresh key of Tandem's own for `suite`, answered under `tag` (30 bytes from the system's random source).
    public static func fresh(suite: String, tag: UInt32) -> CallSRTPKey {
        CallSRTPKey(tag: tag, suite: suite, keySalt: Data(SecureRandom.bytes(keySaltLength)).base64EncodedString())
    }

    /// The key-params text of RFC 4568 §6.1 (`inline:KEY|LIFETIME`), as the engine parses it.
    public var keyParameters: String { "inline:" + keySalt + (lifetime.map { "|" + $0 } ?? "") }

    /// The `a=crypto` attribute carrying this key.
    public var attribute: SDPCryptoAttribute {
        SDPCryptoAttribute(tag: tag, suite: suite, keys: [SDPCryptoKey(keySalt: keySalt, lifetime: lifetime)])
    }

    /// The first line of `cryptos` Tandem can terminate: a supported suite, one inline key of the right length,
    /// no MKI and no session parameters (UNENCRYPTED_SRTP and the like change the transform).
    static func usable(_ cryptos: [SDPCryptoAttribute]) -> CallSRTPKey? {
        for suite in suites {
            for c in cryptos where c.suite.uppercased() == suite && c.keys.count == 1 && c.sessionParameters.isEmpty {
                let key = c.keys[0]
                guard key.method.lowercased() == "inline", key.mki == nil,
                      let bytes = Data(base64Encoded: key.keySalt), bytes.count == keySaltLength else { continue }
                return CallSRTPKey(tag: c.tag, suite: suite, keySalt: key.keySalt, lifetime: key.lifetime)
            }
        }
        return nil
    }

    /// Which audio section of a party's SDP the B2BUA anchors, and how it is secured.
    enum AudioSection: Equatable {
        /// Plain `RTP/AVP` (crypto lines in it are ignored: Tandem answers plain RTP).
        case plain(Int)
        /// `RTP/SAVP` with a usable SDES key.
        case sdes(Int, CallSRTPKey)
        /// Only audio Tandem cannot terminate (DTLS-SRTP, AVPF profiles, SAVP without a usable key); the text
        /// explains it for a Warning header.
        case unsupported(String)
    }

    /// The first usable active audio section of `sdp`; nil when there is no active audio section at all.
    static func audioSection(of sdp: SessionDescription) -> AudioSection? {
        var refusal: String?
        let sessionFingerprint = sdp.attributes.contains { $0.name == "fingerprint" }
        for (i, m) in sdp.media.enumerated() where m.media.lowercased() == "audio" && m.port != 0 {
            let proto = m.proto.uppercased()
            if proto == "RTP/AVP" { return .plain(i) }
            if proto == "RTP/SAVP" {
                if let key = usable(m.cryptos) { return .sdes(i, key) }
                if refusal == nil {
                    refusal = m.attributes.contains { $0.name == "fingerprint" } || sessionFingerprint
                        ? "DTLS-SRTP is not supported; offer RTP/AVP or RTP/SAVP with a=crypto"
                        : "RTP/SAVP needs a=crypto with AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32 and one inline key"
                }
                continue
            }
            if refusal == nil {
                let dtls = proto.contains("TLS") || sessionFingerprint || m.attributes.contains { $0.name == "fingerprint" }
                refusal = (dtls ? "DTLS-SRTP (" + m.proto + ")" : m.proto) + " is not supported; offer RTP/AVP or RTP/SAVP with a=crypto"
            }
        }
        return refusal.map { .unsupported($0) }
    }
}

/// What the B2BUA keeps about offers and answers beyond the initial offer: a late offer (INVITE without SDP,
/// B2BUA+LateOffer.swift) and the caller's SRTP keys (B2BUA+SRTP.swift).
struct CallOfferState {
    /// The caller's INVITE had no SDP: Tandem's 2xx carries the offer and the ACK the answer.
    var isLateOffer = false
    /// The caller's answer (in the ACK) was applied.
    var lateAnswerApplied = false
    /// The caller's own SDES key (what it encrypts with), when its stream is RTP/SAVP.
    var callerRemoteSRTP: CallSRTPKey?
    /// Tandem's SDES key towards the caller (what the engine encrypts with), answered in `a=crypto`.
    var callerLocalSRTP: CallSRTPKey?
}
