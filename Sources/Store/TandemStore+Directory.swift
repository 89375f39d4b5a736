import Foundation
import GRDB
import TandemBase

// The directory: tenants, extensions, extension groups and tenant accounts. Every method is a short
// transaction on the pool (any thread; reads run concurrently, writes are serialised by GRDB). Methods that
// take a password hash it first, outside the transaction: `PasswordHash` is slow by design.

extension TandemStore {
    static func registerDirectoryMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-extensions-groups") { db in
            try db.create(table: "extensions") { t in
                t.primaryKey("id", .text)
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("number", .text).notNull()
                t.column("display_name", .text).notNull().defaults(to: "")
                t.column("email", .text)
                t.column("outbound_caller_id", .text)
                t.column("enabled", .boolean).notNull().defaults(to: true)
                t.column("record_calls", .boolean).notNull().defaults(to: false)
                t.column("allow_external_calls", .boolean).notNull().defaults(to: false)
                t.column("sip_ha1_md5", .text).notNull()
                t.column("sip_ha1_sha256", .text).notNull()
                t.column("web_password_hash", .text)
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["tenant_id", "number"])
            }
            try db.create(table: "extension_groups") { t in
                t.primaryKey("id", .text)
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("name", .text).notNull().collate(.nocase)
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["tenant_id", "name"])
            }
            try db.create(table: "extension_group_members") { t in
                t.column("group_id", .text).notNull().references("extension_groups", onDelete: .cascade)
                t.column("extension_id", .text).notNull().indexed().references("extensions", onDelete: .cascade)
                t.primaryKey(["group_id", "extension_id"])
            }
        }
    }

    // MARK: Transactions with typed errors

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw Self.storeError(error) }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw Self.storeError(error) }
    }

    private static func storeError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        return .database(String(describing: error))
    }

    // MARK: Validation

    /// A SIP domain or IP literal: letters, digits, `.`, `-`, and `:`/`[`/`]` for IPv6.
    static func validatedDomain(_ domain: String) throws(StoreError) -> String {
        let d = domain.lowercased()
        guard !d.isEmpty, d.utf8.count <= 253,
              d.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                  || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") })
        else { throw .invalid("invalid domain \"\(domain)\"") }
        return d
    }

    /// An extension number usable unescaped as a SIP user part: 1–32 of letters, digits, `.`, `-`, `_`, `+`.
    static func validatedNumber(_ number: String) throws(StoreError) -> String {
        guard !number.isEmpty, number.utf8.count <= 32,
              number.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                  || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "+") })
        else { throw .invalid("invalid extension number \"\(number)\"") }
        return number
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// The HA1 pair for a SIP password: hex H(number:realm:password) with MD5 and SHA-256.
    public static func sipHA1(number: String, realm: String, password: String) -> (md5: String, sha256: String) {
        let a1 = number + ":" + realm + ":" + password
        return (TandemBase.Digest.md5.hash(a1).hexString, TandemBase.Digest.sha256.hash(a1).hexString)
    }

    private static func hashWebPassword(_ password: String?, iterations: UInt32) throws(StoreError) -> String? {
        guard let password else { return nil }
        guard !password.isEmpty else { throw .invalid("the web password must not be empty") }
        do { return try PasswordHash.make(password, iterations: iterations) } catch {
            throw .database("cannot hash the web password: \(error)")
        }
    }

    // MARK: Tenants

    /// Creates a tenant with a unique domain. Throws `.duplicateDomain` or `.invalid`.
    @discardableResult
    public func createTenant(name: String, domain: String, maxExtensions: Int? = nil,
                             maxConcurrentCalls: Int? = nil) throws(StoreError) -> Tenant {
        let domain = try Self.validatedDomain(domain)
        guard maxExtensions.map({ $0 >= 0 }) ?? true, maxConcurrentCalls.map({ $0 >= 0 }) ?? true else {
            throw .invalid("limits must not be negative")
        }
        let tenant = Tenant(id: SecureRandom.identifier(), name: name, domain: domain,
                            maxExtensions: maxExtensions, maxConcurrentCalls: maxConcurrentCalls)
        return try write { db in
            if try Tenant.filter(Column("domain") == domain).fetchCount(db) > 0 { throw StoreError.duplicateDomain(domain) }
            try tenant.insert(db)
            return tenant
        }
    }

    /// Updates a tenant's name, domain and limits. The domain can change only while the tenant has no
    /// extensions (it is their digest realm); lowering `maxExtensions` below the current count only stops new ones.
    public func updateTenant(_ tenant: Tenant) throws(StoreError) {
        var tenant = tenant
        tenant.domain = try Self.validatedDomain(tenant.domain)
        let updated = tenant
        try write { db in
            guard let existing = try Tenant.fetchOne(db, key: updated.id) else { throw StoreError.notFound("tenant \(updated.id)") }
            var next = updated
            next.isSystem = existing.isSystem
            next.createdAt = existing.createdAt
            if next.domain != existing.domain {
                if try Tenant.filter(Column("domain") == next.domain && Column("id") != next.id).fetchCount(db) > 0 {
                    throw StoreError.duplicateDomain(next.domain)
                }
                if try Extension.filter(Column("tenant_id") == next.id).fetchCount(db) > 0 {
                    throw StoreError.domainChangeWithExtensions
                }
            }
            try next.update(db)
        }
    }

    /// Deletes a tenant with its extensions, groups and accounts. The system tenant cannot be deleted.
    public func deleteTenant(id: String) throws(StoreError) {
        try write { db in
            guard let existing = try Tenant.fetchOne(db, key: id) else { throw StoreError.notFound("tenant \(id)") }
            if existing.isSystem { throw StoreError.cannotDeleteSystemTenant }
            try existing.delete(db)
        }
    }

    /// The tenant with this id.
    public func tenant(id: String) throws(StoreError) -> Tenant? {
        try read { db in try Tenant.fetchOne(db, key: id) }
    }

    /// The tenant whose SIP domain is `domain` (case-insensitive).
    public func tenant(domain: String) throws(StoreError) -> Tenant? {
        let d = domain.lowercased()
        return try read { db in try Tenant.filter(Column("domain") == d).fetchOne(db) }
    }

    // MARK: Accounts (tenant administrators)

    /// Creates a login for the administration API in `tenantID`. Slow: hashes the password.
    @discardableResult
    public func createAccount(tenantID: String, username: String, password: String, role: AccountRole,
                              iterations: UInt32 = PasswordHash.defaultIterations) throws(StoreError) -> Account {
        guard !username.isEmpty else { throw .invalid("the user name must not be empty") }
        guard let hash = try Self.hashWebPassword(password, iterations: iterations) else { throw .invalid("no password") }
        let account = Account(id: SecureRandom.identifier(), tenantID: tenantID, username: username, passwordHash: hash, role: role)
        return try write { db in
            guard try Tenant.fetchOne(db, key: tenantID) != nil else { throw StoreError.notFound("tenant \(tenantID)") }
            if try Account.filter(Column("tenant_id") == tenantID && Column("username") == username).fetchCount(db) > 0 {
                throw StoreError.duplicateAccount(username)
            }
            try account.insert(db)
            return account
        }
    }

    /// The accounts of a tenant, by user name.
    public func accounts(tenantID: String) throws(StoreError) -> [Account] {
        try read { db in try Account.filter(Column("tenant_id") == tenantID).order(Column("username")).fetchAll(db) }
    }

    // MARK: Extensions

    /// Creates an extension. Throws `.notFound` (tenant), `.duplicateExtension`, `.extensionLimitReached`
    /// or `.invalid`. Stores the SIP password as HA1 for the tenant's domain; slow when `webPassword` is set.
    @discardableResult
    public func createExtension(tenantID: String, number: String, sipPassword: String, webPassword: String? = nil,
                                settings: ExtensionSettings = ExtensionSettings(),
                                webPasswordIterations: UInt32 = PasswordHash.defaultIterations) throws(StoreError) -> Extension {
        let number = try Self.validatedNumber(number)
        guard !sipPassword.isEmpty else { throw .invalid("the SIP password must not be empty") }
        try settings.callFeatures.validate()
        let webHash = try Self.hashWebPassword(webPassword, iterations: webPasswordIterations)
        return try write { db in
            guard let tenant = try Tenant.fetchOne(db, key: tenantID) else { throw StoreError.notFound("tenant \(tenantID)") }
            if try Extension.filter(Column("tenant_id") == tenantID && Column("number") == number).fetchCount(db) > 0 {
                throw StoreError.duplicateExtension(number)
            }
            if let limit = tenant.maxExtensions, try Extension.filter(Column("tenant_id") == tenantID).fetchCount(db) >= limit {
                throw StoreError.extensionLimitReached(limit: limit)
            }
            let ha1 = Self.sipHA1(number: number, realm: tenant.domain, password: sipPassword)
            var ext = Extension(id: SecureRandom.identifier(), tenantID: tenantID, number: number, displayName: "",
                                sipHA1MD5: ha1.md5, sipHA1SHA256: ha1.sha256, webPasswordHash: webHash)
            ext.settings = settings
            try ext.insert(db)
            return ext
        }
    }

    /// Replaces an extension's settings; returns the updated extension.
    @discardableResult
    public func updateExtension(id: String, settings: ExtensionSettings) throws(StoreError) -> Extension {
        try settings.callFeatures.validate()
        return try write { db in
            guard var ext = try Extension.fetchOne(db, key: id) else { throw StoreError.notFound("extension \(id)") }
            ext.settings = settings
            try ext.update(db)
            return ext
        }
    }

    /// Sets a new SIP password (stored as HA1 for the tenant's current domain).
    public func setSIPPassword(extensionID: String, password: String) throws(StoreError) {
        guard !password.isEmpty else { throw .invalid("the SIP password must not be empty") }
        try write { db in
            guard var ext = try Extension.fetchOne(db, key: extensionID) else { throw StoreError.notFound("extension \(extensionID)") }
            guard let tenant = try Tenant.fetchOne(db, key: ext.tenantID) else { throw StoreError.notFound("tenant \(ext.tenantID)") }
            let ha1 = Self.sipHA1(number: ext.number, realm: tenant.domain, password: password)
            ext.sipHA1MD5 = ha1.md5
            ext.sipHA1SHA256 = ha1.sha256
            try ext.update(db)
        }
    }

    /// Sets (or with nil removes) the web password. Slow: hashes the password.
    public func setWebPassword(extensionID: String, password: String?,
                               iterations: UInt32 = PasswordHash.defaultIterations) throws(StoreError) {
        let hash = try Self.hashWebPassword(password, iterations: iterations)
        try write { db in
            guard var ext = try Extension.fetchOne(db, key: extensionID) else { throw StoreError.notFound("extension \(extensionID)") }
            ext.webPasswordHash = hash
            try ext.update(db)
        }
    }

    /// Deletes an extension and its group memberships.
    public func deleteExtension(id: String) throws(StoreError) {
        try write { db in
            guard try Extension.deleteOne(db, key: id) else { throw StoreError.notFound("extension \(id)") }
        }
    }

    /// The extension with this id.
    public func extensionRecord(id: String) throws(StoreError) -> Extension? {
        try read { db in try Extension.fetchOne(db, key: id) }
    }

    /// The extensions of a tenant, by number.
    public func extensions(tenantID: String) throws(StoreError) -> [Extension] {
        try read { db in try Extension.filter(Column("tenant_id") == tenantID).order(Column("number")).fetchAll(db) }
    }

    /// The extension `number` in `tenantID`.
    public func extensionRecord(tenantID: String, number: String) throws(StoreError) -> Extension? {
        try read { db in
            try Extension.filter(Column("tenant_id") == tenantID && Column("number") == number).fetchOne(db)
        }
    }

    /// The tenant with `domain` and its extension `number`, in one read (the registrar's lookup).
    public func extensionRecord(domain: String, number: String) throws(StoreError) -> (tenant: Tenant, extension: Extension)? {
        let d = domain.lowercased()
        return try read { db in
            guard let tenant = try Tenant.filter(Column("domain") == d).fetchOne(db),
                  let ext = try Extension.filter(Column("tenant_id") == tenant.id && Column("number") == number).fetchOne(db)
            else { return nil }
            return (tenant, ext)
        }
    }

    // MARK: Extension groups

    /// Creates a group with a name unique in the tenant (case-insensitive).
    @discardableResult
    public func createGroup(tenantID: String, name: String) throws(StoreError) -> ExtensionGroup {
        guard !name.isEmpty else { throw .invalid("the group name must not be empty") }
        let group = ExtensionGroup(id: SecureRandom.identifier(), tenantID: tenantID, name: name)
        return try write { db in
            guard try Tenant.fetchOne(db, key: tenantID) != nil else { throw StoreError.notFound("tenant \(tenantID)") }
            if try ExtensionGroup.filter(Column("tenant_id") == tenantID && Column("name").collating(.nocase) == name).fetchCount(db) > 0 {
                throw StoreError.duplicateGroup(name)
            }
            try group.insert(db)
            return group
        }
    }

    /// Renames a group.
    public func renameGroup(id: String, to name: String) throws(StoreError) {
        guard !name.isEmpty else { throw .invalid("the group name must not be empty") }
        try write { db in
            guard var group = try ExtensionGroup.fetchOne(db, key: id) else { throw StoreError.notFound("group \(id)") }
            if try ExtensionGroup.filter(Column("tenant_id") == group.tenantID && Column("name").collating(.nocase) == name
                                         && Column("id") != id).fetchCount(db) > 0 {
                throw StoreError.duplicateGroup(name)
            }
            group.name = name
            try group.update(db)
        }
    }

    /// Deletes a group (its members stay).
    public func deleteGroup(id: String) throws(StoreError) {
        try write { db in
            guard try ExtensionGroup.deleteOne(db, key: id) else { throw StoreError.notFound("group \(id)") }
        }
    }

    /// The groups of a tenant, by name.
    public func groups(tenantID: String) throws(StoreError) -> [ExtensionGroup] {
        try read { db in try ExtensionGroup.filter(Column("tenant_id") == tenantID).order(Column("name")).fetchAll(db) }
    }

    /// Adds an extension to a group of the same tenant; adding it twice is a no-op.
    public func addExtension(_ extensionID: String, toGroup groupID: String) throws(StoreError) {
        try write { db in
            guard let group = try ExtensionGroup.fetchOne(db, key: groupID) else { throw StoreError.notFound("group \(groupID)") }
            guard let ext = try Extension.fetchOne(db, key: extensionID) else { throw StoreError.notFound("extension \(extensionID)") }
            guard group.tenantID == ext.tenantID else { throw StoreError.invalid("the extension and the group are in different tenants") }
            try ExtensionGroupMember(groupID: groupID, extensionID: extensionID).insert(db, onConflict: .ignore)
        }
    }

    /// Removes an extension from a group; removing a non-member is a no-op.
    public func removeExtension(_ extensionID: String, fromGroup groupID: String) throws(StoreError) {
        try write { db in
            _ = try ExtensionGroupMember.filter(Column("group_id") == groupID && Column("extension_id") == extensionID).deleteAll(db)
        }
    }

    /// The extensions in a group, by number.
    public func members(ofGroup groupID: String) throws(StoreError) -> [Extension] {
        try read { db in
            try Extension.fetchAll(db, sql: """
                SELECT extensions.* FROM extensions
                JOIN extension_group_members m ON m.extension_id = extensions.id
                WHERE m.group_id = ? ORDER BY extensions.number
                """, arguments: [groupID])
        }
    }

    /// The groups an extension belongs to, by name.
    public func groups(ofExtension extensionID: String) throws(StoreError) -> [ExtensionGroup] {
        try read { db in
            try ExtensionGroup.fetchAll(db, sql: """
                SELECT extension_groups.* FROM extension_groups
                JOIN extension_group_members m ON m.group_id = extension_groups.id
                WHERE m.extension_id = ? ORDER BY extension_groups.name
                """, arguments: [extensionID])
        }
    }
}
