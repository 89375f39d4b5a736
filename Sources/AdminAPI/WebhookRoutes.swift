import Foundation
import Hummingbird
import NIOCore
import Store
import TandemBase

/// The JSON body of a webhook POST: `{"id", "type", "tenant_id", "occurred_at", "data"}`.
enum WebhookPayload {
    struct Body<DataType: Encodable>: Encodable {
        var id: String
        var type: String
        var tenantID: String
        var occurredAt: Date
        var data: DataType

        enum CodingKeys: String, CodingKey { case id, type, data, tenantID = "tenant_id", occurredAt = "occurred_at" }
    }

    /// Event names a webhook may subscribe to (and the patterns `call.*`, `extension.*`, `*`).
    static let names: Set<String> = [
        "cdr", "call.started", "call.ringing", "call.answered", "call.held", "call.resumed", "call.transferred", "call.transfer_failed", "call.ended",
        "call.recording.started", "call.recording.finished", "media.stream_timeout", "media.quality_alarm", "media.quality_recovered",
        "extension.registered", "extension.refreshed", "extension.unregistered", "extension.expired", "extension.flow_closed",
    ]

    static func isValidPattern(_ p: String) -> Bool {
        p == "*" || names.contains(p) || (p.hasSuffix(".*") && names.contains { $0.hasPrefix(p.dropLast()) })
    }

    /// The webhook name of a live event: `extensions`/`registered` → `extension.registered`, `calls`/`answered`
    /// → `call.answered`.
    static func name(of event: APIEvent) -> String {
        switch event.topic {
        case "extensions": "extension." + event.type
        case "calls": "call." + event.type
        case "cdr": "cdr"
        default: event.topic + "." + event.type
        }
    }

    /// A live event as a webhook event (ordered per call when it names one).
    static func event(_ e: APIEvent) -> WebhookEvent? {
        let id = SecureRandom.identifier()
        let type = name(of: e)
        var data = e.data
        if let ext = e.extension { data["extension"] = ext }
        guard let body = try? APIJSON.encoder.encode(Body(id: id, type: type, tenantID: e.tenantID, occurredAt: e.occurredAt, data: data))
        else { return nil }
        return WebhookEvent(id: id, tenantID: e.tenantID, type: type, orderingKey: e.data["call_id"], body: body, occurredAt: e.occurredAt)
    }
}

struct WebhookDTO: Encodable {
    var hook: WebhookRecord
    var pending: Int?
    /// Only in the answer to the creation.
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, tenantID = "tenant_id", url, events, enabled, description, createdAt = "created_at", secret
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hook.id, forKey: .id)
        try c.encode(hook.tenantID, forKey: .tenantID)
        try c.encode(hook.url, forKey: .url)
        try c.encode(hook.events, forKey: .events)
        try c.encode(hook.isEnabled, forKey: .enabled)
        try c.encode(hook.description, forKey: .description)
        try c.encode(hook.createdAt, forKey: .createdAt)
        if let secret { try c.encode(secret, forKey: .secret) }
    }
}

extension JSONBody {
    /// An http(s) URL with a host, at most 2048 bytes.
    mutating func webhookURL(_ update: FieldUpdate<String>, field: String = "url") -> String? {
        guard let raw = update.value, !raw.isEmpty else { return nil }
        guard raw.utf8.count <= 2048, let url = URL(string: raw), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty, url.user == nil
        else {
            addError(field, "must be an http or https URL with a host (at most 2048 bytes, no credentials)")
            return nil
        }
        return raw
    }

    /// A non-empty list of event names or patterns.
    mutating func webhookEvents(_ field: String = "events", required: Bool) -> [String]? {
        switch raw(field) {
        case nil:
            if required { addError(field, "is required") }
            return nil
        case .array(let items)?:
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, WebhookPayload.isValidPattern(s) else {
                    addError("\(field)[\(i)]", "must be an event name (cdr, call.answered, extension.registered, …), prefix.* or *")
                    continue
                }
                if !out.contains(s) { out.append(s) }
            }
            if items.isEmpty { addError(field, "must name at least one event") }
            if items.count > 50 { addError(field, "must have at most 50 entries") }
            return out
        case let v?:
            addError(field, "must be an array of strings, not \(v.typeName)")
            return nil
        }
    }
}

extension AdminAPIService {
    func visibleWebhook(_ caller: Caller, id: String) throws -> WebhookRecord {
        guard let hook = try store.webhook(id: id), caller.sees(tenantID: hook.tenantID) else { throw Problem.notFound("webhook") }
        return hook
    }
}

extension AdminAPIRoutes {
    // MARK: Webhooks

    static func registerWebhooks(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("webhooks") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let page = try PageRequest(request)
            let requested = request.uri.queryParameters.get("tenant_id")
            let scope: String? = caller.isSystemAdmin && requested == nil ? nil : try s.tenantScope(caller, requested: requested)
            let hooks = try storeCall { () throws(StoreError) in try s.store.webhooks(tenantID: scope) }
            let p = page.page(hooks, key: \.id)
            return try APIJSON.response(Page(items: p.items.map { WebhookDTO(hook: $0) }, nextCursor: p.nextCursor))
        }
        g.post("webhooks") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            var body = try await JSONBody.read(request, context: context)
            let tenant = body.string("tenant_id")
            let rawURL = body.requiredString("url", maxLength: 2048)
            let url = body.webhookURL(.value(rawURL))
            let events = body.webhookEvents(required: true)
            let enabled = body.notNull("enabled", body.bool("enabled")).value ?? true
            let description = body.notNull("description", body.string("description", maxLength: 200)).value ?? ""
            try body.finish()
            let tenantID = try s.tenantScope(caller, requested: tenant.value)
            let secret = "whsec_" + SecureRandom.bytes(24).hexString
            let hook = WebhookRecord(id: SecureRandom.identifier(), tenantID: tenantID, url: url ?? "", events: events ?? [],
                                     secret: secret, isEnabled: enabled, description: description, createdAt: s.now())
            try storeCall { () throws(StoreError) in try s.store.insertWebhook(hook) }
            return try APIJSON.response(WebhookDTO(hook: hook, secret: secret), status: .created)
        }
        g.get("webhooks/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            return try APIJSON.response(WebhookDTO(hook: try s.visibleWebhook(caller, id: try context.parameters.require("id"))))
        }
        g.patch("webhooks/:id") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            var hook = try s.visibleWebhook(caller, id: try context.parameters.require("id"))
            var body = try await JSONBody.read(request, context: context)
            let url = body.webhookURL(body.notNull("url", body.string("url", maxLength: 2048)))
            let events = body.webhookEvents(required: false)
            let enabled = body.notNull("enabled", body.bool("enabled")).value
            let description = body.notNull("description", body.string("description", maxLength: 200)).value
            try body.finish()
            if let url { hook.url = url }
            if let events { hook.events = events }
            if let enabled { hook.isEnabled = enabled }
            if let description { hook.description = description }
            let updated = hook
            try storeCall { () throws(StoreError) in try s.store.updateWebhook(updated) }
            if enabled == true { s.webhooks.notify() }
            return try APIJSON.response(WebhookDTO(hook: updated))
        }
        g.delete("webhooks/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let hook = try s.visibleWebhook(caller, id: try context.parameters.require("id"))
            try storeCall { () throws(StoreError) in try s.store.deleteWebhook(id: hook.id) }
            return APIJSON.noContent()
        }
        g.get("webhooks/:id/deliveries") { request, context -> Response in
            let caller = try context.requireCaller()
            try caller.requireAdministrator()
            let page = try PageRequest(request)
            let hook = try s.visibleWebhook(caller, id: try context.parameters.require("id"))
            let rows = try storeCall { () throws(StoreError) in try s.store.webhookDeliveries(webhookID: hook.id) }
            let p = page.page(rows, key: { String(format: "%020lld", $0.seq ?? 0) })
            return try APIJSON.response(Page(items: p.items.map(DeliveryDTO.init), nextCursor: p.nextCursor))
        }
    }
}

/// An undelivered event of a webhook's outbox.
struct DeliveryDTO: Encodable {
    var d: WebhookDelivery

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", type, state, attempts, createdAt = "created_at", nextAttemptAt = "next_attempt_at"
        case lastStatus = "last_status", lastError = "last_error"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(d.eventID, forKey: .eventID)
        try c.encode(d.eventType, forKey: .type)
        try c.encode(d.state, forKey: .state)
        try c.encode(d.attempts, forKey: .attempts)
        try c.encode(d.createdAt, forKey: .createdAt)
        try c.encode(d.nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(d.lastStatus, forKey: .lastStatus)
        try c.encode(d.lastError, forKey: .lastError)
    }
}
