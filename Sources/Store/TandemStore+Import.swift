import Foundation
import GRDB
import TandemBase

/// One extension of a bulk import: its number, settings and passwords (the web password already hashed).
public struct ExtensionDraft: Sendable {
    public var number: String
    public var sipPassword: String
    public var webPasswordHash: String?
    public var settings: ExtensionSettings

    public init(number: String, sipPassword: String, webPasswordHash: String?, settings: ExtensionSettings) {
        self.number = number
        self.sipPassword = sipPassword
        self.webPasswordHash = webPasswordHash
        self.settings = settings
    }
}

extension TandemStore {
    /// Creates every draft in one transaction, or none: throws `.invalid`/`.duplicateExtension` naming the first
    /// bad number, or `.extensionLimitReached` when they would not all fit.
    @discardableResult
    public func createExtensions(tenantID: String, drafts: [ExtensionDraft]) throws(StoreError) -> [Extension] {
        for d in drafts {
            _ = try Self.validatedNumber(d.number)
            guard !d.sipPassword.isEmpty else { throw .invalid("the SIP password of \(d.number) must not be empty") }
        }
        return try write { db in
            guard let tenant = try Tenant.fetchOne(db, key: tenantID) else { throw StoreError.notFound("tenant \(tenantID)") }
            let existing = try Extension.filter(Column("tenant_id") == tenantID).fetchCount(db)
            if let limit = tenant.maxExtensions, existing + drafts.count > limit { throw StoreError.extensionLimitReached(limit: limit) }
            var created: [Extension] = []
            for d in drafts {
                if try Extension.filter(Column("tenant_id") == tenantID && Column("number") == d.number).fetchCount(db) > 0 {
                    throw StoreError.duplicateExtension(d.number)
                }
                let ha1 = Self.sipHA1(number: d.number, realm: tenant.domain, password: d.sipPassword)
                var ext = Extension(id: SecureRandom.identifier(), tenantID: tenantID, number: d.number, displayName: "",
                                    sipHA1MD5: ha1.md5, sipHA1SHA256: ha1.sha256, webPasswordHash: d.webPasswordHash)
                ext.settings = d.settings
                try ext.insert(db)
                created.append(ext)
            }
            return created
        }
    }

    /// Whether `number` is a valid extension number (the rule `createExtension` enforces).
    public static func isValidExtensionNumber(_ number: String) -> Bool {
        (try? validatedNumber(number)) != nil
    }
}
