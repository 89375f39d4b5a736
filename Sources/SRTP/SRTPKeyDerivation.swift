import TandemBase

/// The SRTP key derivation function: AES-CM as a PRF over the master key and salt (RFC 3711 §4.3, with
/// key derivation rate 0; RFC 7714 §11 reuses it for AEAD). Control path: allocates.
public enum SRTPKeyDerivation {
    /// Key derivation labels (RFC 3711 §4.3.2).
    public enum Label: UInt8, Sendable {
        case rtpEncryption = 0x00
        case rtpAuthentication = 0x01
        case rtpSalt = 0x02
        case rtcpEncryption = 0x03
        case rtcpAuthentication = 0x04
        case rtcpSalt = 0x05
    }

    /// Derives `count` bytes for `label` from a 16- or 32-byte master key and a master salt of at most 14
    /// bytes. The salt is right-padded with zeros to 112 bits, as RFC 7714's 96-bit salts are.
    public static func derive(
        masterKey: [UInt8], masterSalt: [UInt8], label: Label, count: Int
    ) throws(SRTPError) -> [UInt8] {
        guard masterSalt.count <= 14, count >= 0 else { throw .invalidKey }
        let prf: AESCounterMode
        do {
            prf = try masterKey.withUnsafeBytes { (key) throws(CryptoError) in try AESCounterMode(key: key) }
        } catch {
            throw .invalidKey
        }
        // x = key_id XOR master_salt, key_id = label || r with r = 0 (kdr 0), 56 bits right-aligned in the
        // 112-bit salt: the label lands in byte 7. The IV is x * 2^16.
        var iv = [UInt8](repeating: 0, count: 16)
        for i in 0..<masterSalt.count { iv[i] = masterSalt[i] }
        iv[7] ^= label.rawValue
        var output = [UInt8](repeating: 0, count: count)
        let ok = iv.withUnsafeBytes { ivBytes in
            output.withUnsafeMutableBytes { out in
                guard let base = out.baseAddress, let ivBase = ivBytes.baseAddress else { return true }
                return prf.apply(iv: ivBase, to: base, count: out.count)
            }
        }
        guard ok else { throw .cryptoFailure }
        return output
    }
}
