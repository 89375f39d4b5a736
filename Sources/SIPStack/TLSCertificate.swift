import Foundation
import NIOSSL
import TandemBase

/// The certificate chain and key a TLS/WSS listener presents, with the leaf's SHA-256 fingerprint for the
/// log. Loaded from PEM files, or a self-signed certificate generated once and kept in a directory.
/// Control plane: reads and writes files, allocates.
public struct SIPTLSIdentity: Sendable {
    /// Leaf first.
    public let certificateChain: [NIOSSLCertificate]
    /// The leaf's private key.
    public let privateKey: NIOSSLPrivateKey
    /// SHA-256 of the leaf's DER encoding.
    public let sha256Fingerprint: [UInt8]
    /// True when generated here rather than configured.
    public let isSelfSigned: Bool

    /// File names used in the self-signed certificate directory.
    public static let selfSignedCertificateFileName = "sip-selfsigned.crt"
    /// The key's file name; written with mode 0600.
    public static let selfSignedKeyFileName = "sip-selfsigned.key"

    /// The fingerprint as colon-separated hex pairs ("AB:CD:...").
    public var fingerprintText: String { SelfSignedCertificate.formatFingerprint(sha256Fingerprint) }

    /// An identity from PEM texts.
    public init(certificatePEM: String, privateKeyPEM: String, isSelfSigned: Bool = false) throws {
        certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        guard !certificateChain.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
        privateKey = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        sha256Fingerprint = try SelfSignedCertificate.sha256Fingerprint(ofPEM: certificatePEM)
        self.isSelfSigned = isSelfSigned
    }

    /// An identity from a PEM certificate chain file and a PEM key file.
    public static func load(certificatePath: String, keyPath: String) throws -> SIPTLSIdentity {
        let cert = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let key = try String(contentsOfFile: keyPath, encoding: .utf8)
        return try SIPTLSIdentity(certificatePEM: cert, privateKeyPEM: key)
    }

    /// The self-signed identity kept in `directory`: read back when both files exist, otherwise generated for
    /// `commonName` (EC P-256, SHA-256) and written there (the key with mode 0600). The caller logs the
    /// fingerprint so users can pin it.
    public static func loadOrCreateSelfSigned(directory: String, commonName: String = "tandem") throws -> SIPTLSIdentity {
        let fm = FileManager.default
        let certPath = (directory as NSString).appendingPathComponent(selfSignedCertificateFileName)
        let keyPath = (directory as NSString).appendingPathComponent(selfSignedKeyFileName)
        if fm.fileExists(atPath: certPath), fm.fileExists(atPath: keyPath) {
            let cert = try String(contentsOfFile: certPath, encoding: .utf8)
            let key = try String(contentsOfFile: keyPath, encoding: .utf8)
            return try SIPTLSIdentity(certificatePEM: cert, privateKeyPEM: key, isSelfSigned: true)
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let generated = try SelfSignedCertificate.generate(commonName: commonName)
        // Write the key private from the start (no window with default permissions), then the certificate.
        guard fm.createFile(atPath: keyPath, contents: Data(generated.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try Data(generated.certificatePEM.utf8).write(to: URL(fileURLWithPath: certPath), options: .atomic)
        return try SIPTLSIdentity(certificatePEM: generated.certificatePEM, privateKeyPEM: generated.privateKeyPEM, isSelfSigned: true)
    }

    /// A server configuration presenting this identity: TLS 1.2 or later only.
    public func serverConfiguration() -> TLSConfiguration {
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        config.minimumTLSVersion = .tlsv12
        return config
    }

    /// A client configuration that trusts exactly this identity's certificate (tests, pinned peers); TLS 1.2+.
    public func pinnedClientConfiguration() -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .certificates(certificateChain)
        config.minimumTLSVersion = .tlsv12
        return config
    }
}
