import Store

/// A tenant as the registrar sees it: its id and SIP domain (the digest realm).
public struct DirectoryTenant: Sendable, Hashable {
    public var id: String
    public var domain: String
    /// The tenant's simultaneous-call limit; nil: unlimited.
    public var maxConcurrentCalls: Int?

    public init(id: String, domain: String, maxConcurrentCalls: Int? = nil) {
        self.id = id
        self.domain = domain
        self.maxConcurrentCalls = maxConcurrentCalls
    }
}

/// An extension as the registrar sees it: enough to verify Digest credentials and admit a registration.
public struct DirectoryUser: Sendable, Hashable {
    public var number: String
    public var isEnabled: Bool
    /// Hex MD5(number:domain:password).
    public var ha1MD5: String
    /// Hex SHA-256(number:domain:password).
    public var ha1SHA256: String
    /// The name presented as caller ID ("" when none).
    public var displayName: String
    /// The number presented as caller ID instead of the extension number, if set.
    public var outboundCallerID: String?
    /// Forwarding and do-not-disturb.
    public var forwarding: CallForwarding

    public init(number: String, isEnabled: Bool, ha1MD5: String, ha1SHA256: String, displayName: String = "",
                outboundCallerID: String? = nil, forwarding: CallForwarding = CallForwarding()) {
        self.number = number
        self.isEnabled = isEnabled
        self.ha1MD5 = ha1MD5
        self.ha1SHA256 = ha1SHA256
        self.displayName = displayName
        self.outboundCallerID = outboundCallerID
        self.forwarding = forwarding
    }
}

/// Where the registrar looks up tenants and extensions. Called on the registrar's thread; a lookup that
/// throws is answered 500.
public protocol RegistrarDirectory {
    /// The tenant whose domain is `domain` (case-insensitive), or nil.
    func tenant(domain: String) throws -> DirectoryTenant?
    /// The extension `number` of `tenantID`, or nil.
    func user(tenantID: String, number: String) throws -> DirectoryUser?
}

/// The registrar's directory over the store: each lookup is one short SQLite read (WAL, no writer blocking).
public struct StoreDirectory: RegistrarDirectory, Sendable {
    public let store: TandemStore

    public init(store: TandemStore) { self.store = store }

    public func tenant(domain: String) throws -> DirectoryTenant? {
        try store.tenant(domain: domain).map {
            DirectoryTenant(id: $0.id, domain: $0.domain, maxConcurrentCalls: $0.maxConcurrentCalls)
        }
    }

    public func user(tenantID: String, number: String) throws -> DirectoryUser? {
        try store.extensionRecord(tenantID: tenantID, number: number).map {
            DirectoryUser(number: $0.number, isEnabled: $0.isEnabled, ha1MD5: $0.sipHA1MD5, ha1SHA256: $0.sipHA1SHA256,
                          displayName: $0.displayName, outboundCallerID: $0.outboundCallerID,
                          forwarding: CallForwarding($0.callFeatures))
        }
    }
}
