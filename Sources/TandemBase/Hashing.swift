import COpenSSL

/// Message digests and HMAC through OpenSSL. Any thread; allocates the result array.
public enum Digest: Int32, Sendable {
    case md5 = 1
    case sha1 = 2
    case sha256 = 3
    case sha512 = 4

    /// Digest length in bytes.
    public var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }

    /// The digest of `bytes`.
    public func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var out = [UInt8](repeating: 0, count: byteCount)
        let n = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                tdm_digest(rawValue, inp.baseAddress, inp.count, o.baseAddress, o.count)
            }
        }
        precondition(n == byteCount, "OpenSSL digest failed")
        return out
    }

    /// The digest of a string's UTF-8 bytes.
    public func hash(_ string: String) -> [UInt8] { hash(Array(string.utf8)) }

    /// HMAC of `data` under `key`.
    public func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        let n = key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    tdm_hmac(rawValue, k.baseAddress, k.count, d.baseAddress, d.count, o.baseAddress, o.count)
                }
            }
        }
        precondition(n == byteCount, "OpenSSL HMAC failed")
        return out
    }
}

/// Helpers on byte arrays.
extension Array where Element == UInt8 {
    /// Lower-case hexadecimal, two characters per byte.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(count * 2)
        for byte in self {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Parses lower- or upper-case hexadecimal; nil for odd lengths or other characters.
    public init?(hexString: String) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self = bytes
    }
}

/// Cryptographically secure randomness from OpenSSL's DRBG.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let status = out.withUnsafeMutableBufferPointer { tdm_random_bytes($0.baseAddress, $0.count) }
        precondition(status == 0, "OpenSSL RAND_bytes failed")
        return out
    }

    /// A random string of `length` characters from an alphabet without look-alikes (no 0/O, 1/l/I).
    public static func password(length: Int = 20) -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(length)
        // Rejection sampling keeps every character equally likely.
        let limit = UInt8(256 - 256 % alphabet.count)
        while chars.count < length {
            for byte in bytes(length * 2) where byte < limit && chars.count < length {
                chars.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// An opaque identifier: 16 random bytes as 32 hex characters.
    public static func identifier() -> String { bytes(16).hexString }
}

/// Salted, slow password hashes (PBKDF2-HMAC-SHA256), stored as `pbkdf2-sha256$iterations$salt$hash`.
/// Hashing costs about a tenth of a second by design; call it off latency-sensitive threads.
public enum PasswordHash {
    /// Iterations for new hashes (OWASP's 2023 guidance for PBKDF2-HMAC-SHA256 is 600,000).
    public static let defaultIterations: UInt32 = 600_000

    /// Hashes `password` with a fresh 16-byte salt.
    public static func make(_ password: String, iterations: UInt32 = defaultIterations) throws(CryptoError) -> String {
        let salt = SecureRandom.bytes(16)
        let derived = try derive(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(salt.hexString)$\(derived.hexString)"
    }

    /// True when `password` matches `stored`; compares in constant time.
    public static func verify(_ password: String, against stored: String) throws(CryptoError) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256",
              let iterations = UInt32(parts[1]), iterations > 0,
              let salt = [UInt8](hexString: String(parts[2])),
              let expected = [UInt8](hexString: String(parts[3])), expected.count == 32
        else { throw .malformedPasswordHash }
        let derived = try derive(password, salt: salt, iterations: iterations)
        return derived.withUnsafeBufferPointer { a in
            expected.withUnsafeBufferPointer { b in tdm_constant_time_equal(a.baseAddress, b.baseAddress, 32) == 1 }
        }
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: UInt32) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let utf8 = Array(password.utf8)
        let status = utf8.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    p.withMemoryRebound(to: CChar.self) { pc in
                        tdm_pbkdf2_sha256(pc.baseAddress, pc.count, s.baseAddress, s.count, iterations, o.baseAddress, o.count)
                    }
                }
            }
        }
        guard status == 0 else { throw .libraryFailure("PKCS5_PBKDF2_HMAC") }
        return out
    }
}

/// The OpenSSL library in use.
public enum CryptoLibrary {
    /// OpenSSL's version text, e.g. "OpenSSL 3.0.17 1 Jul 2025".
    public static var version: String { String(cString: tdm_openssl_version()) }
}
