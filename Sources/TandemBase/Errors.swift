/// Errors raised by TandemBase's cryptographic helpers.
public enum CryptoError: Error, Equatable, Sendable {
    /// The underlying OpenSSL call failed.
    case libraryFailure(String)
    /// A stored password hash is not in the `pbkdf2-sha256$iterations$salt$hash` form.
    case malformedPasswordHash
}
