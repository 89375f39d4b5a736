import Foundation
import GRDB
import TandemBase

// Credentials of the administration API: per-installation secrets, refresh tokens and API keys. Tokens and
// keys are stored only as SHA-256 hashes of their (high-entropy, random) values; the values are shown once.

/// A refresh token of the administration API, stored by the SHA-256 of its value.
public struct RefreshTokenRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_refresh_tokens"

    /// Lower-case hex SHA-256 of the token value.
    public var tokenHash: String
    /// `account` or `extension`.
    public var subjectKind: String
    /// The account or extension id.
    public var subjectID: String
    public var tenantID: String
    public var expiresAt: Date
    public var createdAt: Date

    public init(tokenHash: String, subjectKind: String, subjectID: String, tenantID: String, expiresAt: Date,
                createdAt: Date) {
        self.tokenHash = tokenHash
        self.subjectKind = subjectKind
        self.subjectID = subjectID
        self.tenantID = tenantID
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case subjectKind = "subject_kind"
        case subjectID = "subject_id"
        case tenantID = "tenant_id"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
    }
}

/// An API key for integrations, stored by the SHA-256 of its value. It acts with `role` in `tenantID`.
public struct APIKeyRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "api_keys"

    public var id: String
    public var tenantID: String
    public var name: String
    /// Lower-case hex SHA-256 of the key value.
    public var keyHash: String
    /// The first characters of the key, shown in listings so an operator can tell keys apart.
    public var prefix: String
    public var role: AccountRole
    /// The account that created it.
    public var createdBy: String
    public var createdAt: Date

    public init(id: String, tenantID: String, name: String, keyHash: String, prefix: String, role: AccountRole,
                createdBy: String, createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.keyHash = keyHash
        self.prefix = prefix
        self.role = role
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, role
        case tenantID = "tenant_id"
        case keyHash = "key_hash"
        case createdBy = "created_by"
        case createdAt = "created_at"
    }
}

extension TandemStore {
    static func registerAPIAuthMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-api-auth") { db in
            try db.create(table: "api_secrets") { t in
                t.primaryKey("name", .text)
                t.column("value", .blob).notNull()
            }
            try db.create(table: "api_refresh_tokens") { t in
                t.primaryKey("token_hash", .text)
                t.column("subject_kind", .text).notNull()
                t.column("subject_id", .text).notNull().indexed()
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("expires_at", .datetime).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "api_keys") { t in
                t.primaryKey("id", .text)
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("key_hash", .text).notNull().unique()
                t.column("prefix", .text).notNull()
                t.column("role", .text).notNull()
                t.column("created_by", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
        }
    }

    // MARK: Secrets

    /// The secret named `name`, created from `byteCount` random bytes on first use (one write transaction, so
    /// concurrent first calls agree).
    public func apiSecret(named name: String, byteCount: Int = 32) throws(StoreError) -> [UInt8] {
        try write { db in
            if let existing = try Data.fetchOne(db, sql: "SELECT value FROM api_secrets WHERE name = ?", arguments: [name]) {
                return [UInt8](existing)
            }
            let value = SecureRandom.bytes(byteCount)
            try db.execute(sql: "INSERT INTO api_secrets (name, value) VALUES (?, ?)", arguments: [name, Data(value)])
            return value
        }
    }

    // MARK: Refresh tokens

    /// Stores a refresh token (by hash).
    public func insertRefreshToken(_ record: RefreshTokenRecord) throws(StoreError) {
        try write { db in try record.insert(db) }
    }

    /// Removes and returns the refresh token with this hash, in one transaction: a token is good for one
    /// refresh only (rotation), even when two requests race with it.
    public func takeRefreshToken(hash: String) throws(StoreError) -> RefreshTokenRecord? {
        try write { db in
            guard let record = try RefreshTokenRecord.fetchOne(db, key: hash) else { return nil }
            try record.delete(db)
            return record
        }
    }

    /// Removes every refresh token that lapsed before `now`; returns how many.
    @discardableResult
    public func deleteExpiredRefreshTokens(now: Date) throws(StoreError) -> Int {
        try write { db in try RefreshTokenRecord.filter(Column("expires_at") < now).deleteAll(db) }
    }

    // MARK: API keys

    /// Stores an API key (by hash).
    public func insertAPIKey(_ record: APIKeyRecord) throws(StoreError) {
        try write { db in
            guard try Tenant.fetchOne(db, key: record.tenantID) != nil else { throw StoreError.notFound("tenant \(record.tenantID)") }
            try record.insert(db)
        }
    }

    /// The API key whose value hashes to `hash`.
    public func apiKey(hash: String) throws(StoreError) -> APIKeyRecord? {
        try read { db in try APIKeyRecord.filter(Column("key_hash") == hash).fetchOne(db) }
    }

    /// The API key with this id.
    public func apiKey(id: String) throws(StoreError) -> APIKeyRecord? {
        try read { db in try APIKeyRecord.fetchOne(db, key: id) }
    }

    /// API keys of one tenant, or of every tenant when `tenantID` is nil; by id.
    public func apiKeys(tenantID: String?) throws(StoreError) -> [APIKeyRecord] {
        try read { db in
            var request = APIKeyRecord.order(Column("id"))
            if let tenantID { request = request.filter(Column("tenant_id") == tenantID) }
            return try request.fetchAll(db)
        }
    }

    /// Deletes an API key.
    public func deleteAPIKey(id: String) throws(StoreError) {
        try write { db in
            guard try APIKeyRecord.deleteOne(db, key: id) else { throw StoreError.notFound("api key \(id)") }
        }
    }

    // MARK: Lookups the API needs

    /// The account with this id.
    public func account(id: String) throws(StoreError) -> Account? {
        try read { db in try Account.fetchOne(db, key: id) }
    }

    /// The extension group with this id.
    public func group(id: String) throws(StoreError) -> ExtensionGroup? {
        try read { db in try ExtensionGroup.fetchOne(db, key: id) }
    }

    /// Number of extensions in a tenant, or in every tenant when `tenantID` is nil.
    public func extensionCount(tenantID: String?) throws(StoreError) -> Int {
        try read { db in
            if let tenantID { return try Extension.filter(Column("tenant_id") == tenantID).fetchCount(db) }
            return try Extension.fetchCount(db)
        }
    }
}
