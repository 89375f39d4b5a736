import Foundation
import GRDB

/// A tenant: one SIP domain with its own extensions, limits and administrators.
public struct Tenant: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "tenants"

    public var id: String
    public var name: String
    /// The tenant's SIP domain, unique across the system (compared case-insensitively).
    public var domain: String
    /// True only for the system administrator's tenant, which exists from first start.
    public var isSystem: Bool
    public var maxExtensions: Int?
    public var maxConcurrentCalls: Int?
    public var createdAt: Date

    public init(id: String, name: String, domain: String, isSystem: Bool = false,
                maxExtensions: Int? = nil, maxConcurrentCalls: Int? = nil, createdAt: Date = Date()) {
        self.id = id
        self.name = name
        self.domain = domain
        self.isSystem = isSystem
        self.maxExtensions = maxExtensions
        self.maxConcurrentCalls = maxConcurrentCalls
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, domain
        case isSystem = "is_system"
        case maxExtensions = "max_extensions"
        case maxConcurrentCalls = "max_concurrent_calls"
        case createdAt = "created_at"
    }
}

/// The role of an administrative account.
public enum AccountRole: String, Codable, Sendable, CaseIterable {
    case systemAdministrator = "system_admin"
    case tenantAdministrator = "tenant_admin"
    case extensionUser = "extension_user"
}

/// A login for the administration API and portal. Passwords are stored only as salted hashes.
public struct Account: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "accounts"

    public var id: String
    public var tenantID: String
    public var username: String
    /// `pbkdf2-sha256$iterations$salt$hash`; never the password itself.
    public var passwordHash: String
    public var role: AccountRole
    public var createdAt: Date

    public init(id: String, tenantID: String, username: String, passwordHash: String, role: AccountRole,
                createdAt: Date = Date()) {
        self.id = id
        self.tenantID = tenantID
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, username, role
        case tenantID = "tenant_id"
        case passwordHash = "password_hash"
        case createdAt = "created_at"
    }
}
