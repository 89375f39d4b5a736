/// The SDES crypto suites Tandem offers (RFC 4568 §6.2, RFC 7714 §14.2).
public enum SRTPSuite: String, Sendable, CaseIterable {
    case aesCM128HMACSHA1_80 = "AES_CM_128_HMAC_SHA1_80"
    case aesCM128HMACSHA1_32 = "AES_CM_128_HMAC_SHA1_32"
    case aeadAES128GCM = "AEAD_AES_128_GCM"
    case aeadAES256GCM = "AEAD_AES_256_GCM"

    /// Master key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32, .aeadAES128GCM: 16
        case .aeadAES256GCM: 32
        }
    }

    /// Master salt length in bytes: 14 for AES-CM (RFC 3711), 12 for AEAD (RFC 7714 §12).
    public var saltLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32: 14
        case .aeadAES128GCM, .aeadAES256GCM: 12
        }
    }

    /// Bytes the SRTP authentication tag adds to each RTP packet.
    public var rtpTagLength: Int {
        switch self {
        case .aesCM128HMACSHA1_80: 10
        case .aesCM128HMACSHA1_32: 4
        case .aeadAES128GCM, .aeadAES256GCM: 16
        }
    }
}
