import COpenSSL

/// A freshly generated EC P-256 key and self-signed X.509 certificate, both as PEM text (control plane;
/// any thread; allocates). Used when no TLS certificate is configured.
public struct SelfSignedCertificate: Sendable, Equatable {
    /// The certificate, PEM ("-----BEGIN CERTIFICATE-----").
    public let certificatePEM: String
    /// The private key, PEM (PKCS #8, unencrypted).
    public let privateKeyPEM: String

    /// Generates a key pair and a certificate for `commonName`, valid for `validityDays` days from now.
    public static func generate(commonName: String, validityDays: UInt32 = 3650) throws(CryptoError) -> SelfSignedCertificate {
        // PEM of a P-256 certificate is about 700 bytes and its key about 240; 8 KiB leaves ample room.
        let capacity = 8192
        var cert = [UInt8](repeating: 0, count: capacity)
        var key = [UInt8](repeating: 0, count: capacity)
        var certLength = 0
        var keyLength = 0
        let rc = cert.withUnsafeMutableBufferPointer { c in
            key.withUnsafeMutableBufferPointer { k in
                c.withMemoryRebound(to: CChar.self) { cc in
                    k.withMemoryRebound(to: CChar.self) { kk in
                        tdm_selfsigned_generate(commonName, validityDays, cc.baseAddress, cc.count, &certLength,
                                                kk.baseAddress, kk.count, &keyLength)
                    }
                }
            }
        }
        guard rc == 0 else { throw .libraryFailure("self-signed certificate generation failed (\(rc))") }
        return SelfSignedCertificate(certificatePEM: String(decoding: cert[0..<certLength], as: UTF8.self),
                                     privateKeyPEM: String(decoding: key[0..<keyLength], as: UTF8.self))
    }

    /// A certificate and key from PEM texts (for example read back from disk).
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// The SHA-256 fingerprint of this certificate's DER encoding.
    public var sha256Fingerprint: [UInt8] {
        get throws(CryptoError) { try SelfSignedCertificate.sha256Fingerprint(ofPEM: certificatePEM) }
    }

    /// The SHA-256 fingerprint of the DER encoding of the first certificate in a PEM text.
    public static func sha256Fingerprint(ofPEM pem: String) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let bytes = Array(pem.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cb in
                out.withUnsafeMutableBufferPointer { o in
                    tdm_certificate_sha256_fingerprint(cb.baseAddress, cb.count, o.baseAddress)
                }
            }
        }
        guard rc == 0 else { throw .libraryFailure("not a PEM certificate") }
        return out
    }

    /// A fingerprint as colon-separated upper-case hex pairs, the form RFC 4572 and most tools print.
    public static func formatFingerprint(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF")
        var s = ""
        s.reserveCapacity(bytes.count * 3)
        for (i, b) in bytes.enumerated() {
            if i > 0 { s.append(":") }
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 0x0f)])
        }
        return s
    }
}
