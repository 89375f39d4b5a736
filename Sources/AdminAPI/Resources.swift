import Foundation
import Store

// The JSON shapes the API returns. Secrets (password hashes, HA1, key hashes) never appear in any of them.

struct TenantDTO: Encodable {
    var tenant: Tenant

    enum CodingKeys: String, CodingKey {
        case id, name, domain, isSystem = "is_system", maxExtensions = "max_extensions"
        case maxConcurrentCalls = "max_concurrent_calls", createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tenant.id, forKey: .id)
        try c.encode(tenant.name, forKey: .name)
        try c.encode(tenant.domain, forKey: .domain)
        try c.encode(tenant.isSystem, forKey: .isSystem)
        try c.encode(tenant.maxExtensions, forKey: .maxExtensions)
        try c.encode(tenant.maxConcurrentCalls, forKey: .maxConcurrentCalls)
        try c.encode(tenant.createdAt, forKey: .createdAt)
    }
}

struct ExtensionDTO: Encodable {
    var ext: Extension

    enum CodingKeys: String, CodingKey {
        case id, tenantID = "tenant_id", number, displayName = "display_name", email
        case outboundCallerID = "outbound_caller_id", enabled, recordCalls = "record_calls"
        case allowExternalCalls = "allow_external_calls", hasWebPassword = "has_web_password", createdAt = "created_at"
        case doNotDisturb = "do_not_disturb", forwardAlways = "forward_always", forwardOnBusy = "forward_on_busy"
        case forwardOnNoAnswer = "forward_on_no_answer", forwardOnUnavailable = "forward_on_unavailable"
        case noAnswerSeconds = "no_answer_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ext.id, forKey: .id)
        try c.encode(ext.tenantID, forKey: .tenantID)
        try c.encode(ext.number, forKey: .number)
        try c.encode(ext.displayName, forKey: .displayName)
        try c.encode(ext.email, forKey: .email)
        try c.encode(ext.outboundCallerID, forKey: .outboundCallerID)
        try c.encode(ext.isEnabled, forKey: .enabled)
        try c.encode(ext.recordsCalls, forKey: .recordCalls)
        try c.encode(ext.allowsExternalCalls, forKey: .allowExternalCalls)
        try c.encode(ext.webPasswordHash != nil, forKey: .hasWebPassword)
        try c.encode(ext.createdAt, forKey: .createdAt)
        try c.encode(ext.callFeatures.doNotDisturb, forKey: .doNotDisturb)
        try c.encode(ext.callFeatures.forwardAlways, forKey: .forwardAlways)
        try c.encode(ext.callFeatures.forwardOnBusy, forKey: .forwardOnBusy)
        try c.encode(ext.callFeatures.forwardOnNoAnswer, forKey: .forwardOnNoAnswer)
        try c.encode(ext.callFeatures.forwardOnUnavailable, forKey: .forwardOnUnavailable)
        try c.encode(ext.callFeatures.noAnswerSeconds, forKey: .noAnswerSeconds)
    }
}

struct GroupDTO: Encodable {
    var group: ExtensionGroup

    enum CodingKeys: String, CodingKey { case id, tenantID = "tenant_id", name, createdAt = "created_at" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group.id, forKey: .id)
        try c.encode(group.tenantID, forKey: .tenantID)
        try c.encode(group.name, forKey: .name)
        try c.encode(group.createdAt, forKey: .createdAt)
    }
}

struct APIKeyDTO: Encodable {
    var key: APIKeyRecord
    /// The key itself: only in the answer to its creation.
    var secret: String?

    enum CodingKeys: String, CodingKey { case id, tenantID = "tenant_id", name, prefix, role, createdAt = "created_at", key }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key.id, forKey: .id)
        try c.encode(key.tenantID, forKey: .tenantID)
        try c.encode(key.name, forKey: .name)
        try c.encode(key.prefix, forKey: .prefix)
        try c.encode(key.role, forKey: .role)
        try c.encode(key.createdAt, forKey: .createdAt)
        if let secret { try c.encode(secret, forKey: .key) }
    }
}

struct RegistrationDTO: Encodable {
    var r: RegistrationSnapshot
    var extensionID: String?

    enum CodingKeys: String, CodingKey {
        case extensionID = "extension_id", tenantID = "tenant_id", number = "extension", aor, contact, transport, source
        case registeredAt = "registered_at", expiresAt = "expires_at", userAgent = "user_agent"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(extensionID, forKey: .extensionID)
        try c.encode(r.tenantID, forKey: .tenantID)
        try c.encode(r.number, forKey: .number)
        try c.encode(r.aor, forKey: .aor)
        try c.encode(r.contact, forKey: .contact)
        try c.encode(r.transport, forKey: .transport)
        try c.encode(r.source, forKey: .source)
        try c.encode(r.registeredAt, forKey: .registeredAt)
        try c.encode(r.expiresAt, forKey: .expiresAt)
        try c.encode(r.userAgent, forKey: .userAgent)
    }
}

struct CallerDTO: Encodable {
    var caller: Caller

    enum CodingKeys: String, CodingKey { case role, tenantID = "tenant_id", subjectID = "subject_id", kind, name, credential }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(caller.role, forKey: .role)
        try c.encode(caller.tenantID, forKey: .tenantID)
        try c.encode(caller.subjectID, forKey: .subjectID)
        try c.encode(caller.kind, forKey: .kind)
        try c.encode(caller.name, forKey: .name)
        try c.encode(caller.credential.rawValue, forKey: .credential)
    }
}

struct SystemStatusDTO: Encodable {
    var version: String
    var startedAt: Date
    var uptimeSeconds: Double
    var registrations: Int
    var tenants: Int
    var extensions: Int
    /// Calls not yet ended, and those of them answered.
    var activeCalls: Int
    var answeredCalls: Int
    /// Each media worker's load (system administrator only; empty for a tenant).
    var mediaWorkers: [MediaWorkerLoadInfo]

    enum CodingKeys: String, CodingKey {
        case version, startedAt = "started_at", uptimeSeconds = "uptime_seconds", registrations, tenants, extensions
        case activeCalls = "active_calls", answeredCalls = "answered_calls", mediaWorkers = "media_workers"
    }
}

struct ImportResultDTO: Encodable {
    var created: Int
    var items: [ExtensionDTO]
}
