import Foundation
import GRDB

/// An extension: a number in a tenant that phones register as and that users log in with.
///
/// The SIP password is never stored: only its digest HA1 values, H(number:domain:password) for MD5 and
/// SHA-256, where the realm is the tenant's domain (RFC 7616 §3.4.2). That is enough to verify Digest
/// responses (including the -sess variants) and useless for logging in anywhere else. The web password is
/// a slow salted hash (`PasswordHash`).
public struct Extension: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "extensions"

    public var id: String
    public var tenantID: String
    /// The dialable number, also the SIP user name and digest user name; unique within the tenant.
    public var number: String
    public var displayName: String
    public var email: String?
    /// The caller ID presented on calls leaving the PBX; nil means the number.
    public var outboundCallerID: String?
    /// A disabled extension cannot register, log in, place or receive calls.
    public var isEnabled: Bool
    /// Record this extension's calls.
    public var recordsCalls: Bool
    /// May place calls outside the tenant (trunks).
    public var allowsExternalCalls: Bool
    /// Lower-case hex MD5(number:domain:password).
    public var sipHA1MD5: String
    /// Lower-case hex SHA-256(number:domain:password).
    public var sipHA1SHA256: String
    /// `pbkdf2-sha256$…` of the web password; nil when the extension has no web login.
    public var webPasswordHash: String?
    public var createdAt: Date
    /// Call forwarding and do-not-disturb (migration v5-call-features; all off by default).
    public var callFeatures: ExtensionCallFeatures

    public init(id: String, tenantID: String, number: String, displayName: String, email: String? = nil,
                outboundCallerID: String? = nil, isEnabled: Bool = true, recordsCalls: Bool = false,
                allowsExternalCalls: Bool = false, sipHA1MD5: String, sipHA1SHA256: String,
                webPasswordHash: String? = nil, createdAt: Date = Date(),
                callFeatures: ExtensionCallFeatures = ExtensionCallFeatures()) {
        self.id = id
        self.tenantID = tenantID
        self.number = number
        self.displayName = displayName
        self.email = email
        self.outboundCallerID = outboundCallerID
        self.isEnabled = isEnabled
        self.recordsCalls = recordsCalls
        self.allowsExternalCalls = allowsExternalCalls
        self.sipHA1MD5 = sipHA1MD5
        self.sipHA1SHA256 = sipHA1SHA256
        self.webPasswordHash = webPasswordHash
        self.createdAt = createdAt
        self.callFeatures = callFeatures
    }

    /// The editable settings of this extension.
    public var settings: ExtensionSettings {
        get {
            ExtensionSettings(displayName: displayName, email: email, outboundCallerID: outboundCallerID,
                              isEnabled: isEnabled, recordsCalls: recordsCalls, allowsExternalCalls: allowsExternalCalls,
                              callFeatures: callFeatures)
        }
        set {
            displayName = newValue.displayName
            email = newValue.email
            outboundCallerID = newValue.outboundCallerID
            isEnabled = newValue.isEnabled
            recordsCalls = newValue.recordsCalls
            allowsExternalCalls = newValue.allowsExternalCalls
            callFeatures = newValue.callFeatures
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, number, email
        case tenantID = "tenant_id"
        case displayName = "display_name"
        case outboundCallerID = "outbound_caller_id"
        case isEnabled = "enabled"
        case recordsCalls = "record_calls"
        case allowsExternalCalls = "allow_external_calls"
        case sipHA1MD5 = "sip_ha1_md5"
        case sipHA1SHA256 = "sip_ha1_sha256"
        case webPasswordHash = "web_password_hash"
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        tenantID = try c.decode(String.self, forKey: .tenantID)
        number = try c.decode(String.self, forKey: .number)
        displayName = try c.decode(String.self, forKey: .displayName)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        outboundCallerID = try c.decodeIfPresent(String.self, forKey: .outboundCallerID)
        isEnabled = try c.decode(Bool.self, forKey: .isEnabled)
        recordsCalls = try c.decode(Bool.self, forKey: .recordsCalls)
        allowsExternalCalls = try c.decode(Bool.self, forKey: .allowsExternalCalls)
        sipHA1MD5 = try c.decode(String.self, forKey: .sipHA1MD5)
        sipHA1SHA256 = try c.decode(String.self, forKey: .sipHA1SHA256)
        webPasswordHash = try c.decodeIfPresent(String.self, forKey: .webPasswordHash)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        callFeatures = try ExtensionCallFeatures(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(tenantID, forKey: .tenantID)
        try c.encode(number, forKey: .number)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(email, forKey: .email)
        try c.encode(outboundCallerID, forKey: .outboundCallerID)
        try c.encode(isEnabled, forKey: .isEnabled)
        try c.encode(recordsCalls, forKey: .recordsCalls)
        try c.encode(allowsExternalCalls, forKey: .allowsExternalCalls)
        try c.encode(sipHA1MD5, forKey: .sipHA1MD5)
        try c.encode(sipHA1SHA256, forKey: .sipHA1SHA256)
        try c.encode(webPasswordHash, forKey: .webPasswordHash)
        try c.encode(createdAt, forKey: .createdAt)
        try callFeatures.encode(to: encoder)
    }
}

/// The fields of an extension an administrator edits, apart from its number and passwords.
public struct ExtensionSettings: Sendable, Hashable {
    public var displayName: String
    public var email: String?
    public var outboundCallerID: String?
    public var isEnabled: Bool
    public var recordsCalls: Bool
    public var allowsExternalCalls: Bool
    /// Forwarding and do-not-disturb.
    public var callFeatures: ExtensionCallFeatures

    public init(displayName: String = "", email: String? = nil, outboundCallerID: String? = nil, isEnabled: Bool = true,
                recordsCalls: Bool = false, allowsExternalCalls: Bool = false,
                callFeatures: ExtensionCallFeatures = ExtensionCallFeatures()) {
        self.displayName = displayName
        self.email = email
        self.outboundCallerID = outboundCallerID
        self.isEnabled = isEnabled
        self.recordsCalls = recordsCalls
        self.allowsExternalCalls = allowsExternalCalls
        self.callFeatures = callFeatures
    }
}

/// A named set of extensions in one tenant (ring groups, pickup groups and permissions build on it).
public struct ExtensionGroup: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "extension_groups"

    public var id: String
    public var tenantID: String
    /// Unique within the tenant.
    public var name: String
    public var createdAt: Date

    public init(id: String, tenantID: String, name: String, createdAt: Date = Date()) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case tenantID = "tenant_id"
        case createdAt = "created_at"
    }
}

/// Membership of an extension in a group (both in the same tenant).
struct ExtensionGroupMember: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "extension_group_members"
    var groupID: String
    var extensionID: String

    enum CodingKeys: String, CodingKey {
        case groupID = "group_id"
        case extensionID = "extension_id"
    }
}
