import COpenSSL

// Keyed cipher contexts for SRTP (RFC 3711, RFC 7714). Each is created once per key on the control path
// (allocates) and then used per packet without allocation. A context is owned by one thread at a time.

/// AES in counter mode with the key schedule expanded once; each call installs a new 16-byte counter block.
public final class AESCounterMode {
    private let context: OpaquePointer

    /// Expands a 16- or 32-byte key. Allocates; any thread.
    public init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        guard key.count == 16 || key.count == 32, let base = key.baseAddress,
            let context = tdm_aes_ctr_create(base.assumingMemoryBound(to: UInt8.self), key.count)
        else { throw CryptoError.libraryFailure("AES-CTR key setup") }
        self.context = context
    }

    deinit { tdm_aes_ctr_free(context) }

    /// XORs the keystream starting at counter block `iv` (16 bytes) into `data[0..<count]` in place.
    /// Returns false only when OpenSSL fails. No allocation.
    @discardableResult
    public func apply(iv: UnsafeRawPointer, to data: UnsafeMutableRawPointer, count: Int) -> Bool {
        tdm_aes_ctr_xor(
            context, iv.assumingMemoryBound(to: UInt8.self), data.assumingMemoryBound(to: UInt8.self), count) == 0
    }
}

/// The result of opening an AES-GCM message.
public enum AEADOpenResult: Sendable, Equatable {
    /// The tag matched; the data now holds the plaintext.
    case authentic
    /// The tag did not match; the data is garbage.
    case forged
    /// OpenSSL failed.
    case failure
}

/// AES-GCM (12-byte IV, 16-byte tag) with the key schedule expanded once.
public final class AESGCM {
    private let context: OpaquePointer

    /// Expands a 16- or 32-byte key. Allocates; any thread.
    public init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        guard key.count == 16 || key.count == 32, let base = key.baseAddress,
            let context = tdm_aes_gcm_create(base.assumingMemoryBound(to: UInt8.self), key.count)
        else { throw CryptoError.libraryFailure("AES-GCM key setup") }
        self.context = context
    }

    deinit { tdm_aes_gcm_free(context) }

    /// Encrypts `data[0..<count]` in place with `aad || aad2` authenticated, writing 16 tag bytes to `tag`.
    /// Returns false only when OpenSSL fails. No allocation.
    public func seal(
        iv: UnsafeRawPointer, aad: UnsafeRawPointer, aadCount: Int, aad2: UnsafeRawPointer, aad2Count: Int,
        data: UnsafeMutableRawPointer, count: Int, tag: UnsafeMutableRawPointer
    ) -> Bool {
        tdm_aes_gcm_seal(
            context, iv.assumingMemoryBound(to: UInt8.self), aad.assumingMemoryBound(to: UInt8.self), aadCount,
            aad2.assumingMemoryBound(to: UInt8.self), aad2Count,
            data.assumingMemoryBound(to: UInt8.self), count, tag.assumingMemoryBound(to: UInt8.self)) == 0
    }

    /// Decrypts `data[0..<count]` in place and verifies the 16-byte `tag` over `aad || aad2` and the
    /// ciphertext. No allocation.
    public func open(
        iv: UnsafeRawPointer, aad: UnsafeRawPointer, aadCount: Int, aad2: UnsafeRawPointer, aad2Count: Int,
        data: UnsafeMutableRawPointer, count: Int, tag: UnsafeRawPointer
    ) -> AEADOpenResult {
        switch tdm_aes_gcm_open(
            context, iv.assumingMemoryBound(to: UInt8.self), aad.assumingMemoryBound(to: UInt8.self), aadCount,
            aad2.assumingMemoryBound(to: UInt8.self), aad2Count,
            data.assumingMemoryBound(to: UInt8.self), count, tag.assumingMemoryBound(to: UInt8.self))
        {
        case 0: .authentic
        case 1: .forged
        default: .failure
        }
    }
}

/// HMAC-SHA1 with the keyed inner and outer hash states precomputed (RFC 2104), so a MAC costs only the
/// message blocks.
public final class HMACSHA1 {
    private let context: OpaquePointer

    /// Precomputes the keyed states. Allocates; any thread.
    public init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        let base = key.baseAddress?.assumingMemoryBound(to: UInt8.self)
        guard let context = tdm_hmac_sha1_create(base, key.count) else {
            throw CryptoError.libraryFailure("HMAC-SHA1 key setup")
        }
        self.context = context
    }

    deinit { tdm_hmac_sha1_free(context) }

    /// Writes the 20-byte HMAC-SHA1 of `first[0..<firstCount] || second[0..<secondCount]` to `output`.
    /// No allocation.
    public func authenticate(
        _ first: UnsafeRawPointer, count firstCount: Int,
        _ second: UnsafeRawPointer, count secondCount: Int,
        into output: UnsafeMutableRawPointer
    ) {
        tdm_hmac_sha1_mac(
            context, first.assumingMemoryBound(to: UInt8.self), firstCount,
            second.assumingMemoryBound(to: UInt8.self), secondCount, output.assumingMemoryBound(to: UInt8.self))
    }
}
