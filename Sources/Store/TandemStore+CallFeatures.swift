import Foundation
import GRDB

/// An extension's call forwarding and do-not-disturb settings, stored as columns of `extensions` (migration
/// `v5-call-features`). Every rule is off by default.
///
/// A destination is stored as text: an extension number of the same tenant ("201"), or `voicemail:NUMBER` for
/// that extension's voicemail (parsed by call control; voicemail itself comes later).
public struct ExtensionCallFeatures: Codable, Sendable, Hashable {
    /// Do not disturb: calls are refused busy (or go to the busy destination when there is one).
    public var doNotDisturb: Bool
    /// Every call goes here without ringing the extension.
    public var forwardAlways: String?
    /// When the extension is busy (every contact answered 486, or DND).
    public var forwardOnBusy: String?
    /// When nobody answers within `noAnswerSeconds`.
    public var forwardOnNoAnswer: String?
    /// When the extension has no live registration.
    public var forwardOnUnavailable: String?
    /// How long the extension rings before the no-answer rule applies; nil: the server's ring timeout.
    public var noAnswerSeconds: Int?

    /// The accepted range of `noAnswerSeconds`.
    public static let noAnswerRange = 1...600

    public init(doNotDisturb: Bool = false, forwardAlways: String? = nil, forwardOnBusy: String? = nil,
                forwardOnNoAnswer: String? = nil, forwardOnUnavailable: String? = nil, noAnswerSeconds: Int? = nil) {
        self.doNotDisturb = doNotDisturb
        self.forwardAlways = forwardAlways
        self.forwardOnBusy = forwardOnBusy
        self.forwardOnNoAnswer = forwardOnNoAnswer
        self.forwardOnUnavailable = forwardOnUnavailable
        self.noAnswerSeconds = noAnswerSeconds
    }

    enum CodingKeys: String, CodingKey {
        case doNotDisturb = "do_not_disturb"
        case forwardAlways = "forward_always"
        case forwardOnBusy = "forward_on_busy"
        case forwardOnNoAnswer = "forward_on_no_answer"
        case forwardOnUnavailable = "forward_on_unavailable"
        case noAnswerSeconds = "no_answer_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        doNotDisturb = try c.decodeIfPresent(Bool.self, forKey: .doNotDisturb) ?? false
        forwardAlways = try c.decodeIfPresent(String.self, forKey: .forwardAlways)
        forwardOnBusy = try c.decodeIfPresent(String.self, forKey: .forwardOnBusy)
        forwardOnNoAnswer = try c.decodeIfPresent(String.self, forKey: .forwardOnNoAnswer)
        forwardOnUnavailable = try c.decodeIfPresent(String.self, forKey: .forwardOnUnavailable)
        noAnswerSeconds = try c.decodeIfPresent(Int.self, forKey: .noAnswerSeconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(doNotDisturb, forKey: .doNotDisturb)
        try c.encode(forwardAlways, forKey: .forwardAlways)
        try c.encode(forwardOnBusy, forKey: .forwardOnBusy)
        try c.encode(forwardOnNoAnswer, forKey: .forwardOnNoAnswer)
        try c.encode(forwardOnUnavailable, forKey: .forwardOnUnavailable)
        try c.encode(noAnswerSeconds, forKey: .noAnswerSeconds)
    }

    /// Throws `.invalid` for a malformed destination or a no-answer time out of range.
    public func validate() throws(StoreError) {
        for (name, value) in [("forward_always", forwardAlways), ("forward_on_busy", forwardOnBusy),
                              ("forward_on_no_answer", forwardOnNoAnswer), ("forward_on_unavailable", forwardOnUnavailable)] {
            guard let value else { continue }
            let number = value.hasPrefix("voicemail:") ? String(value.dropFirst("voicemail:".count)) : value
            do { _ = try TandemStore.validatedNumber(number) } catch {
                throw .invalid("\(name): expected an extension number or voicemail:NUMBER, got '\(value)'")
            }
        }
        if let s = noAnswerSeconds, !Self.noAnswerRange.contains(s) {
            throw .invalid("no_answer_seconds: expected \(Self.noAnswerRange.lowerBound) to \(Self.noAnswerRange.upperBound)")
        }
    }
}

extension TandemStore {
    /// v5: forwarding and do-not-disturb per extension (the tenant's simultaneous-call limit is
    /// `tenants.max_concurrent_calls`, there since v1).
    static func registerCallFeatureMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-call-features") { db in
            try db.alter(table: "extensions") { t in
                t.add(column: "do_not_disturb", .boolean).notNull().defaults(to: false)
                t.add(column: "forward_always", .text)
                t.add(column: "forward_on_busy", .text)
                t.add(column: "forward_on_no_answer", .text)
                t.add(column: "forward_on_unavailable", .text)
                t.add(column: "no_answer_seconds", .integer)
            }
        }
    }

    /// Replaces an extension's forwarding and DND settings after validating them; returns the extension.
    @discardableResult
    public func setCallFeatures(extensionID: String, _ features: ExtensionCallFeatures) throws(StoreError) -> Extension {
        try features.validate()
        return try write { db in
            guard var ext = try Extension.fetchOne(db, key: extensionID) else {
                throw StoreError.notFound("extension \(extensionID)")
            }
            ext.callFeatures = features
            try ext.update(db)
            return ext
        }
    }
}
