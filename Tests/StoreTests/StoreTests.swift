import Foundation
import PBX
import Store
import TandemBase
import Testing

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "tandem-store-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct StoreTests {
    @Test func opensInWALModeAndAppliesMigrations() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TandemStore(directory: dir)
        #expect(try store.journalMode() == "wal")
        #expect(try store.appliedMigrations() == ["v1-tenants-accounts", "v2-extensions-groups", "v3-cdrs", "v4-api-auth",
                                                  "v5-call-features", "v6-webhooks", "v7-recordings", "v8-transfer-cdr"])
        #expect(FileManager.default.fileExists(atPath: dir + "/tandem.sqlite"))
        #expect(try store.tenants().isEmpty)
    }

    @Test func firstStartGeneratesAPasswordThatIsStoredOnlyAsAHash() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TandemStore(directory: dir)
        let outcome = try SystemBootstrap.run(store: store, suppliedPassword: nil, iterations: 1000)
        guard case .createdWithGeneratedPassword(let password) = outcome else {
            Issue.record("expected a generated password, got \(outcome)")
            return
        }
        #expect(password.count == 20)
        let tenant = try #require(try store.systemTenant())
        let admin = try #require(try store.account(tenantID: tenant.id, username: "admin"))
        #expect(admin.role == .systemAdministrator)
        #expect(!admin.passwordHash.contains(password))
        #expect(try PasswordHash.verify(password, against: admin.passwordHash))
        // The database file itself never contains the password.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/tandem.sqlite"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: dir + "/tandem.sqlite-wal"))) ?? Data())
        #expect(bytes.range(of: Data(password.utf8)) == nil)
    }

    @Test func suppliedPasswordIsUsedAndSecondStartChangesNothing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let store = try TandemStore(directory: dir)
            #expect(try SystemBootstrap.run(store: store, suppliedPassword: "s3cret-pass", iterations: 1000)
                    == .createdWithSuppliedPassword)
        }
        // Reopen: configuration survives restarts, and a different supplied password is ignored.
        let reopened = try TandemStore(directory: dir)
        #expect(try SystemBootstrap.run(store: reopened, suppliedPassword: "other-password", iterations: 1000)
                == .alreadyInitialised)
        let tenant = try #require(try reopened.systemTenant())
        let admin = try #require(try reopened.account(tenantID: tenant.id, username: "admin"))
        #expect(try PasswordHash.verify("s3cret-pass", against: admin.passwordHash))
        #expect(try reopened.tenants().count == 1)
    }

    @Test func tooShortSuppliedPasswordIsRefusedAndWritesNothing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TandemStore(directory: dir)
        #expect(throws: SystemBootstrap.Failure.suppliedPasswordTooShort(minimum: 8)) {
            try SystemBootstrap.run(store: store, suppliedPassword: "short", iterations: 1000)
        }
        #expect(try store.systemTenant() == nil)
    }

    @Test func openingAGarbageFileFailsWithATypedError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: dir + "/tandem.sqlite"))
        #expect(throws: StoreError.self) { try TandemStore(directory: dir) }
    }
}
