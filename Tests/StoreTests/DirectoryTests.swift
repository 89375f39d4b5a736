import Foundation
import Store
import TandemBase
import Testing

@Suite struct DirectoryTests {
    private func openStore() throws -> (TandemStore, String) {
        let dir = try temporaryDirectory()
        return (try TandemStore(directory: dir), dir)
    }

    @Test func migrationsAddTheDirectoryTables() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try store.appliedMigrations() == ["v1-tenants-accounts", "v2-extensions-groups", "v3-cdrs", "v4-api-auth",
                                                  "v5-call-features", "v6-webhooks", "v7-recordings", "v8-transfer-cdr"])
    }

    @Test func tenantDomainsAreUniqueCaseInsensitively() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try store.createTenant(name: "Acme", domain: "Acme.Example")
        #expect(t.domain == "acme.example")
        #expect(throws: StoreError.duplicateDomain("acme.example")) { try store.createTenant(name: "Other", domain: "ACME.example") }
        #expect(try store.tenant(domain: "ACME.EXAMPLE")?.id == t.id)
        #expect(throws: StoreError.invalid("invalid domain \"bad domain\"")) { try store.createTenant(name: "x", domain: "bad domain") }
    }

    @Test func extensionsStoreHA1NotThePasswordAndEnforceUniquenessAndLimits() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try store.createTenant(name: "Acme", domain: "acme.example", maxExtensions: 2)
        let e = try store.createExtension(tenantID: t.id, number: "100", sipPassword: "sip-Pa55word-xyz", webPassword: "web-Pa55word",
                                          settings: ExtensionSettings(displayName: "Alice", email: "alice@acme.example",
                                                                      outboundCallerID: "+15551230100", recordsCalls: true),
                                          webPasswordIterations: 1000)
        #expect(e.sipHA1MD5 == TandemBase.Digest.md5.hash("100:acme.example:sip-Pa55word-xyz").hexString)
        #expect(e.sipHA1SHA256 == TandemBase.Digest.sha256.hash("100:acme.example:sip-Pa55word-xyz").hexString)
        #expect(try PasswordHash.verify("web-Pa55word", against: try #require(e.webPasswordHash)))
        var loaded = try #require(try store.extensionRecord(tenantID: t.id, number: "100"))
        #expect(abs(loaded.createdAt.timeIntervalSince(e.createdAt)) < 0.01)  // SQLite keeps milliseconds
        loaded.createdAt = e.createdAt
        #expect(loaded == e)
        #expect(loaded.settings.displayName == "Alice")
        #expect(loaded.recordsCalls && !loaded.allowsExternalCalls && loaded.isEnabled)

        #expect(throws: StoreError.duplicateExtension("100")) {
            try store.createExtension(tenantID: t.id, number: "100", sipPassword: "x")
        }
        try store.createExtension(tenantID: t.id, number: "101", sipPassword: "x")
        #expect(throws: StoreError.extensionLimitReached(limit: 2)) {
            try store.createExtension(tenantID: t.id, number: "102", sipPassword: "x")
        }
        #expect(throws: StoreError.invalid("invalid extension number \"1 0\"")) {
            try store.createExtension(tenantID: t.id, number: "1 0", sipPassword: "x")
        }
        // Neither password is anywhere in the database files.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/tandem.sqlite"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: dir + "/tandem.sqlite-wal"))) ?? Data())
        #expect(bytes.range(of: Data("sip-Pa55word-xyz".utf8)) == nil)
        #expect(bytes.range(of: Data("web-Pa55word".utf8)) == nil)
    }

    @Test func sameNumberInTwoTenantsAndLookupByDomain() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try store.createTenant(name: "A", domain: "a.example")
        let b = try store.createTenant(name: "B", domain: "b.example")
        let ea = try store.createExtension(tenantID: a.id, number: "100", sipPassword: "pa")
        let eb = try store.createExtension(tenantID: b.id, number: "100", sipPassword: "pb")
        #expect(ea.sipHA1MD5 != eb.sipHA1MD5)
        #expect(try store.extensionRecord(domain: "B.example", number: "100")?.extension.id == eb.id)
        #expect(try store.extensionRecord(domain: "a.example", number: "100")?.tenant.id == a.id)
        #expect(try store.extensionRecord(domain: "c.example", number: "100") == nil)
    }

    @Test func passwordsSettingsAndDeletion() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try store.createTenant(name: "A", domain: "a.example")
        let e = try store.createExtension(tenantID: t.id, number: "100", sipPassword: "old")
        try store.setSIPPassword(extensionID: e.id, password: "new")
        #expect(try store.extensionRecord(id: e.id)?.sipHA1MD5 == StoreHA1.md5("100:a.example:new"))
        try store.setWebPassword(extensionID: e.id, password: "web-password", iterations: 1000)
        #expect(try store.extensionRecord(id: e.id)?.webPasswordHash != nil)
        try store.setWebPassword(extensionID: e.id, password: nil)
        #expect(try store.extensionRecord(id: e.id)?.webPasswordHash == nil)
        var settings = e.settings
        settings.isEnabled = false
        settings.allowsExternalCalls = true
        #expect(try store.updateExtension(id: e.id, settings: settings).isEnabled == false)
        #expect(try store.extensionRecord(id: e.id)?.allowsExternalCalls == true)
        try store.deleteExtension(id: e.id)
        #expect(try store.extensions(tenantID: t.id).isEmpty)
        #expect(throws: StoreError.notFound("extension \(e.id)")) { try store.deleteExtension(id: e.id) }
    }

    @Test func domainCannotChangeUnderStoredHA1sAndSystemTenantCannotBeDeleted() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var t = try store.createTenant(name: "A", domain: "a.example")
        t.domain = "renamed.example"
        t.maxConcurrentCalls = 5
        try store.updateTenant(t)
        #expect(try store.tenant(id: t.id)?.domain == "renamed.example")
        #expect(try store.tenant(id: t.id)?.maxConcurrentCalls == 5)
        try store.createExtension(tenantID: t.id, number: "100", sipPassword: "p")
        t.domain = "again.example"
        #expect(throws: StoreError.domainChangeWithExtensions) { try store.updateTenant(t) }

        let system = Tenant(id: "sys", name: "System", domain: "system.invalid", isSystem: true)
        let admin = Account(id: "adm", tenantID: "sys", username: "admin", passwordHash: "x", role: .systemAdministrator)
        #expect(try store.bootstrapSystem(tenant: system, administrator: admin))
        #expect(throws: StoreError.cannotDeleteSystemTenant) { try store.deleteTenant(id: "sys") }
        // Deleting a tenant removes its extensions.
        try store.deleteTenant(id: t.id)
        #expect(try store.extensions(tenantID: t.id).isEmpty)
        #expect(try store.tenant(id: t.id) == nil)
    }

    @Test func groupsAndMembership() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try store.createTenant(name: "A", domain: "a.example")
        let other = try store.createTenant(name: "B", domain: "b.example")
        let e1 = try store.createExtension(tenantID: t.id, number: "100", sipPassword: "p")
        let e2 = try store.createExtension(tenantID: t.id, number: "101", sipPassword: "p")
        let foreign = try store.createExtension(tenantID: other.id, number: "100", sipPassword: "p")
        let sales = try store.createGroup(tenantID: t.id, name: "Sales")
        #expect(throws: StoreError.duplicateGroup("sales")) { try store.createGroup(tenantID: t.id, name: "sales") }
        try store.addExtension(e2.id, toGroup: sales.id)
        try store.addExtension(e1.id, toGroup: sales.id)
        try store.addExtension(e1.id, toGroup: sales.id)
        #expect(try store.members(ofGroup: sales.id).map(\.number) == ["100", "101"])
        #expect(throws: StoreError.self) { try store.addExtension(foreign.id, toGroup: sales.id) }
        #expect(try store.groups(ofExtension: e1.id).map(\.name) == ["Sales"])
        try store.removeExtension(e1.id, fromGroup: sales.id)
        #expect(try store.members(ofGroup: sales.id).map(\.number) == ["101"])
        try store.deleteExtension(id: e2.id)
        #expect(try store.members(ofGroup: sales.id).isEmpty)
        try store.renameGroup(id: sales.id, to: "Support")
        #expect(try store.groups(tenantID: t.id).map(\.name) == ["Support"])
        try store.deleteGroup(id: sales.id)
        #expect(try store.groups(tenantID: t.id).isEmpty)
    }

    @Test func tenantAdministrators() throws {
        let (store, dir) = try openStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try store.createTenant(name: "A", domain: "a.example")
        let admin = try store.createAccount(tenantID: t.id, username: "boss", password: "boss-password", role: .tenantAdministrator,
                                            iterations: 1000)
        #expect(try PasswordHash.verify("boss-password", against: admin.passwordHash))
        #expect(throws: StoreError.duplicateAccount("boss")) {
            try store.createAccount(tenantID: t.id, username: "boss", password: "x", role: .tenantAdministrator, iterations: 1000)
        }
        #expect(try store.accounts(tenantID: t.id).map(\.username) == ["boss"])
    }
}

private enum StoreHA1 {
    static func md5(_ a1: String) -> String { TandemBase.Digest.md5.hash(a1).hexString }
}
