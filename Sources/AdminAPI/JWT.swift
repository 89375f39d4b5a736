import Foundation
import TandemBase

/// JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS `HS256`, RFC 7515), with the key of one installation.
///
/// Only `HS256` is accepted: a token whose header names any other algorithm (`none` included) is rejected
/// before the signature is looked at. Any thread; allocates.
struct JWTSigner: Sendable {
    /// The claims Tandem puts in an access token.
    struct Claims: Codable, Sendable, Equatable {
        /// Subject: the account or extension id.
        var sub: String
        /// `account` or `extension`.
        var kind: String
        /// Tenant id.
        var tid: String
        /// Role (`system_admin`, `tenant_admin`, `extension_user`).
        var role: String
        /// Login name shown back by `/auth/me`.
        var name: String
        /// Issued at and expiry, seconds since 1970 (NumericDate).
        var iat: Int64
        var exp: Int64
        /// Token id.
        var jti: String
    }

    enum Failure: Error, Equatable {
        case malformed
        case unsupportedAlgorithm
        case badSignature
        case expired
    }

    private let key: [UInt8]

    init(key: [UInt8]) { self.key = key }

    private static let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    func sign(_ claims: Claims) -> String {
        let payload = Base64URL.encode(Array((try? JSONEncoder().encode(claims)) ?? Data()))
        let input = Self.header + "." + payload
        return input + "." + Base64URL.encode(Digest.sha256.hmac(key: key, data: Array(input.utf8)))
    }

    /// The claims of `token` when its signature is ours and it has not expired at `now` (seconds since 1970).
    func verify(_ token: String, now: Int64) throws(Failure) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2])
        else { throw .malformed }
        struct Header: Decodable { var alg: String }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else { throw .malformed }
        guard header.alg == "HS256" else { throw .unsupportedAlgorithm }
        let expected = Digest.sha256.hmac(key: key, data: Array((parts[0] + "." + parts[1]).utf8))
        guard constantTimeEqual(expected, signature) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)) else { throw .malformed }
        guard now < claims.exp else { throw .expired }
        return claims
    }
}

/// Equality whose time does not depend on where the inputs differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// base64url without padding (RFC 4648 §5), as JWS uses it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.utf8.allSatisfy({ b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        switch s.utf8.count % 4 {
        case 2: s += "=="
        case 3: s += "="
        case 1: return nil
        default: break
        }
        return Data(base64Encoded: s).map { [UInt8]($0) }
    }
}
