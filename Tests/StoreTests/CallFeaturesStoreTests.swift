import Foundation
import Store
import Testing

/// Migration v5-call-features: forwarding and DND columns on extensions, off by default, validated on write.
@Suite struct CallFeaturesStoreTests {
    @Test func forwardingSettingsDefaultOffRoundTripAndAreValidated() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TandemStore(directory: dir)
        #expect(try store.appliedMigrations().contains("v5-call-features"))
        let tenant = try store.createTenant(name: "T", domain: "t.example")
        let ext = try store.createExtension(tenantID: tenant.id, number: "100", sipPassword: "secret-100")
        #expect(ext.callFeatures == ExtensionCallFeatures())
        #expect(!ext.callFeatures.doNotDisturb && ext.callFeatures.forwardAlways == nil)

        let features = ExtensionCallFeatures(doNotDisturb: true, forwardAlways: nil, forwardOnBusy: "200",
                                             forwardOnNoAnswer: "voicemail:100", forwardOnUnavailable: "300",
                                             noAnswerSeconds: 15)
        try store.setCallFeatures(extensionID: ext.id, features)
        // A fresh store on the same file reads what was written.
        let reopened = try TandemStore(directory: dir)
        #expect(try reopened.extensionRecord(id: ext.id)?.callFeatures == features)
        // Settings updates carry the features too.
        var settings = try #require(try reopened.extensionRecord(id: ext.id)).settings
        settings.callFeatures.forwardAlways = "201"
        #expect(try reopened.updateExtension(id: ext.id, settings: settings).callFeatures.forwardAlways == "201")

        // Bad input: a malformed destination or a ring time out of range is refused, nothing changes.
        var bad = features
        bad.forwardOnBusy = "two hundred"
        #expect(throws: StoreError.self) { try store.setCallFeatures(extensionID: ext.id, bad) }
        bad = features
        bad.noAnswerSeconds = 0
        #expect(throws: StoreError.self) { try store.setCallFeatures(extensionID: ext.id, bad) }
        bad = features
        bad.forwardAlways = "voicemail:"
        #expect(throws: StoreError.self) { try store.setCallFeatures(extensionID: ext.id, bad) }
        #expect(try store.extensionRecord(id: ext.id)?.callFeatures.forwardAlways == "201")
    }
}
