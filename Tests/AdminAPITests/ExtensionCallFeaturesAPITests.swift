import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Store
import Testing
@testable import AdminAPI

/// Forwarding and do-not-disturb fields of the extension JSON (migration v5-call-features): off by default,
/// settable on create and update, cleared with null, bad destinations refused without changing anything.
@Suite struct ExtensionCallFeaturesAPITests {
    @Test func forwardingFieldsAreReadWrittenAndValidated() async throws {
        let f = try Fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let created = try await c.call(.post, "/api/v1/extensions", token: a,
                                           json: ["number": "103", "sip_password": "sip-secret", "do_not_disturb": true,
                                                  "forward_on_busy": "100", "no_answer_seconds": 12])
            #expect(created.status == .created)
            #expect(created.json["do_not_disturb"] as? Bool == true)
            #expect(created.json["forward_on_busy"] as? String == "100")
            #expect(created.json["no_answer_seconds"] as? Int == 12)
            #expect(created.json["forward_always"] is NSNull)
            let id = try #require(created.json["id"] as? String)

            let patched = try await c.call(.patch, "/api/v1/extensions/\(id)", token: a,
                                           json: ["forward_on_busy": NSNull(), "forward_on_no_answer": "voicemail:103",
                                                  "do_not_disturb": false])
            #expect(patched.status == .ok)
            #expect(patched.json["forward_on_busy"] is NSNull)
            #expect(patched.json["forward_on_no_answer"] as? String == "voicemail:103")
            #expect(patched.json["do_not_disturb"] as? Bool == false)
            let stored = try #require(try f.store.extensionRecord(id: id)).callFeatures
            #expect(stored == ExtensionCallFeatures(forwardOnNoAnswer: "voicemail:103", noAnswerSeconds: 12))

            // Bad input: a destination that is no extension number, a ring time out of range; nothing changes.
            let bad = try await c.call(.patch, "/api/v1/extensions/\(id)", token: a, json: ["forward_always": "not a number!"])
            #expect(bad.status.code >= 400 && bad.status.code < 500)
            let range = try await c.call(.patch, "/api/v1/extensions/\(id)", token: a, json: ["no_answer_seconds": 0])
            #expect(range.status == .unprocessableContent)
            #expect(range.fieldErrors == ["no_answer_seconds"])
            #expect(try #require(try f.store.extensionRecord(id: id)).callFeatures == stored)
        }
    }
}
