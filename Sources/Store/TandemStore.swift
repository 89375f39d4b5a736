import Foundation
import GRDB

/// The durable store: configuration and records in SQLite (WAL) under the data directory.
///
/// Safe to use from any thread; reads run concurrently, writes are serialised by GRDB.
public final class TandemStore: Sendable {
    /// The database file name inside the data directory.
    public static let fileName = "tandem.sqlite"

    /// The path of the database file.
    public let path: String
    /// The connection pool; internal so the repository extensions in this module can use it.
    let pool: DatabasePool

    /// Opens (creating if needed) the store in `directory` and applies pending migrations.
    public init(directory: String) throws(StoreError) {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(5)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw .cannotOpen(path: path, underlying: String(describing: error))
        }
    }

    /// Every migration, in order. Applied ones are recorded in `grdb_migrations`; never edit one that shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tenants-accounts") { db in
            try db.create(table: "tenants") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("domain", .text).notNull().unique().collate(.nocase)
                t.column("is_system", .boolean).notNull().defaults(to: false)
                t.column("max_extensions", .integer)
                t.column("max_concurrent_calls", .integer)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "accounts") { t in
                t.primaryKey("id", .text)
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("username", .text).notNull()
                t.column("password_hash", .text).notNull()
                t.column("role", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["tenant_id", "username"])
            }
        }
        registerDirectoryMigrations(&migrator)
        registerCDRMigrations(&migrator)
        registerAPIAuthMigrations(&migrator)
        registerCallFeatureMigrations(&migrator)
        // v6-webhooks stays last: it follows v5-call-features wherever that is registered.
        registerWebhookMigrations(&migrator)
        registerRecordingMigrations(&migrator)  // v7-recordings
        registerTransferCDRMigrations(&migrator)  // v8-transfer-cdr
        return migrator
    }

    /// Names of the migrations applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// The SQLite journal mode in force ("wal" for this store).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The system administrator's tenant, once bootstrapped.
    public func systemTenant() throws -> Tenant? {
        try pool.read { db in try Tenant.filter(Column("is_system") == true).fetchOne(db) }
    }

    /// All tenants, system tenant first.
    public func tenants() throws -> [Tenant] {
        try pool.read { db in
            try Tenant.order(Column("is_system").desc, Column("domain")).fetchAll(db)
        }
    }

    /// The account `username` in `tenantID`, if any.
    public func account(tenantID: String, username: String) throws -> Account? {
        try pool.read { db in
            try Account.filter(Column("tenant_id") == tenantID && Column("username") == username).fetchOne(db)
        }
    }

    /// Creates the system tenant and its administrator in one transaction, unless a system tenant
    /// already exists. Returns true when it created them.
    public func bootstrapSystem(tenant: Tenant, administrator: Account) throws -> Bool {
        try pool.write { db in
            if try Tenant.filter(Column("is_system") == true).fetchCount(db) > 0 { return false }
            try tenant.insert(db)
            try administrator.insert(db)
            return true
        }
    }
}
