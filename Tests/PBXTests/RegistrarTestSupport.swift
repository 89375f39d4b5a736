import Foundation
import NIOCore
import PBX
import SIPCore
import SIPStack
import Store
import TandemBase
import Testing

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "tandem-pbx-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A store in a temporary directory with two tenants that both have extension 100 (different passwords),
/// a registrar over it, and injected time.
final class RegistrarHarness {
    let directory: String
    let store: TandemStore
    let registrar: Registrar
    let alpha: Tenant
    let beta: Tenant
    var now = Instant(nanoseconds: 1_000_000_000_000)

    init(configuration: Registrar.Configuration = Registrar.Configuration()) throws {
        directory = try temporaryDirectory()
        store = try TandemStore(directory: directory)
        alpha = try store.createTenant(name: "Alpha", domain: "alpha.example")
        beta = try store.createTenant(name: "Beta", domain: "beta.example")
        try store.createExtension(tenantID: alpha.id, number: "100", sipPassword: "alpha-100-secret")
        try store.createExtension(tenantID: alpha.id, number: "101", sipPassword: "alpha-101-secret")
        try store.createExtension(tenantID: beta.id, number: "100", sipPassword: "beta-100-secret")
        registrar = Registrar(directory: StoreDirectory(store: store), configuration: configuration)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func advance(seconds: Int64) { now = now.adding(milliseconds: seconds * 1000) }

    func aor(_ tenant: Tenant, _ user: String) -> AddressOfRecord {
        AddressOfRecord(tenantID: tenant.id, user: user, domain: tenant.domain)
    }
}

/// A phone: builds REGISTERs and answers challenges like a real UA (one Call-ID, increasing CSeq).
final class Phone {
    var user: String
    var domain: String
    var password: String
    var source: SIPTransportSource
    var callID = UUID().uuidString
    var cseq: UInt32 = 0
    var contactHost = "192.0.2.50"
    var contactPort = 5062

    init(user: String, domain: String, password: String, ip: String = "192.0.2.50", port: Int = 5062,
         kind: SIPTransportKind = .udp, connectionID: SIPTransportConnectionID? = nil) {
        self.user = user
        self.domain = domain
        self.password = password
        self.source = SIPTransportSource(kind: kind, remote: try! SocketAddress(ipAddress: ip, port: port), local: nil,
                                         connectionID: connectionID)
        self.contactHost = ip
        self.contactPort = port
    }

    var contactURI: String { "sip:\(user)@\(contactHost):\(contactPort)" }

    /// A REGISTER with `contacts` (Contact header values; nil for none), `expires` (Expires header) and extra headers.
    func register(contacts: [String]? = nil, expires: UInt32? = 3600, authorization: DigestCredentials? = nil,
                           extra: [(String, String)] = []) -> SIPMessage {
        cseq += 1
        var b = SIPMessageBuilder(method: .register, uri: try! SIPURI(parsing: "sip:\(domain)"))
        b.add(.via, "SIP/2.0/UDP \(contactHost):\(contactPort);branch=z9hG4bK\(UUID().uuidString.prefix(12))")
        b.add(.from, "<sip:\(user)@\(domain)>;tag=\(callID.prefix(8))")
        b.add(.to, "<sip:\(user)@\(domain)>")
        b.add(.callID, callID)
        b.add(.cseq, "\(cseq) REGISTER")
        b.add(.maxForwards, "70")
        for c in contacts ?? [] { b.add(.contact, c) }
        if let expires { b.add(name: "Expires", value: String(expires)) }
        if let authorization { b.add(name: "Authorization", value: authorization.description) }
        for (n, v) in extra { b.add(name: n, value: v) }
        return try! SIPMessage(parsing: b.bytes())
    }

    /// Sends a REGISTER; on a 401 answers the (preferred) challenge once, like a UA does. Returns the final response.
    func send(_ registrar: Registrar, now: Instant, contacts: [String]? = nil, expires: UInt32? = 3600,
                       extra: [(String, String)] = []) -> SIPMessage? {
        let first = register(contacts: contacts, expires: expires, extra: extra)
        guard let r1 = Self.response(registrar.handle(first, source: source, now: now)) else { return nil }
        guard r1.statusCode == 401 else { return r1 }
        guard let challenge = DigestClient.preferred((try? r1.wwwAuthenticate) ?? []) else { return r1 }
        let credentials = try! DigestClient.credentials(answering: challenge, method: "REGISTER", uri: "sip:\(domain)",
                                                        username: user, password: password, cnonce: "c0ffee")
        let second = register(contacts: contacts, expires: expires, authorization: credentials, extra: extra)
        return Self.response(registrar.handle(second, source: source, now: now))
    }

    static func response(_ outcome: Registrar.Outcome) -> SIPMessage? {
        guard case .respond(let b) = outcome else { return nil }
        return try! SIPMessage(parsing: b.bytes())
    }
}

extension SIPMessage {
    /// The Contact addresses of a response.
    var contactAddresses: [NameAddress] {
        guard case .addresses(let a)? = try? contact else { return [] }
        return a
    }
}
