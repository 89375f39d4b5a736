import Foundation
import GRDB
import TandemBase

/// A tenant's webhook ("Event URL"): events whose names match `events` are POSTed as JSON to `url`, signed
/// with `secret` (HMAC-SHA256). The secret is kept in clear: the server needs it to sign.
public struct WebhookRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "webhooks"

    public var id: String
    public var tenantID: String
    public var url: String
    /// Event names or patterns: `cdr`, `call.*`, `extension.registered`, `*`.
    public var events: [String]
    public var secret: String
    public var isEnabled: Bool
    public var description: String
    public var createdAt: Date

    public init(id: String, tenantID: String, url: String, events: [String], secret: String, isEnabled: Bool,
                description: String = "", createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.url = url
        self.events = events
        self.secret = secret
        self.isEnabled = isEnabled
        self.description = description
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, url, events, secret, description
        case tenantID = "tenant_id", isEnabled = "enabled", createdAt = "created_at"
    }

    /// Whether an event named `name` (`cdr`, `call.answered`, `extension.registered`) goes to this webhook:
    /// a pattern is the name itself, `prefix.*`, or `*`.
    public func accepts(_ name: String) -> Bool {
        events.contains { p in
            p == "*" || p == name || (p.hasSuffix(".*") && name.hasPrefix(p.dropLast()))
        }
    }
}

/// One delivery waiting in the outbox: an event for one webhook. Deleted once the receiver answered 2xx; kept
/// with `state == "dead"` after the last attempt failed.
public struct WebhookDelivery: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "webhook_outbox"

    /// Insertion order (the outbox is delivered in this order, per `orderingKey`).
    public var seq: Int64?
    /// The event id, the same on every attempt (receivers deduplicate on it) and at every webhook.
    public var eventID: String
    public var webhookID: String
    public var tenantID: String
    /// `cdr`, `call.answered`, `extension.registered`, …
    public var eventType: String
    /// Deliveries with the same key (a call id) for the same webhook go out one at a time, in `seq` order.
    public var orderingKey: String?
    /// The exact JSON body to POST.
    public var body: Data
    public var createdAt: Date
    public var attempts: Int
    public var nextAttemptAt: Date
    /// `pending` or `dead`.
    public var state: String
    public var lastStatus: Int?
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case seq, body, attempts, state
        case eventID = "event_id", webhookID = "webhook_id", tenantID = "tenant_id", eventType = "event_type"
        case orderingKey = "ordering_key", createdAt = "created_at", nextAttemptAt = "next_attempt_at"
        case lastStatus = "last_status", lastError = "last_error"
    }
}

/// An event to put in the outbox of every enabled webhook of its tenant that accepts it.
public struct WebhookEvent: Sendable {
    public var id: String
    public var tenantID: String
    public var type: String
    public var orderingKey: String?
    public var body: Data
    public var occurredAt: Date

    public init(id: String, tenantID: String, type: String, orderingKey: String?, body: Data, occurredAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.type = type
        self.orderingKey = orderingKey
        self.body = body
        self.occurredAt = occurredAt
    }
}

/// Filters of the CDR list.
public struct CallRecordQuery: Sendable {
    public var tenantID: String?
    /// `started_at >= from`.
    public var from: Date?
    /// `started_at < to`.
    public var to: Date?
    /// Calls made by (`asCaller`) and/or to (`asCallee`) this extension number.
    public var number: String?
    public var asCaller = true
    public var asCallee = true
    /// Only answered (true) or only unanswered (false) calls.
    public var answered: Bool?
    public var endReasons: [CallDetailRecord.EndReason] = []
    /// Rows written before this one (the cursor: a row sequence number).
    public var before: Int64?
    public var limit = 100

    public init() {}
}

extension TandemStore {
    /// Migration "v6-webhooks". Registered last in `migrator` (after "v5-call-features" where that exists).
    static func registerWebhookMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-webhooks") { db in
            try db.create(table: "webhooks") { t in
                t.primaryKey("id", .text)
                t.column("tenant_id", .text).notNull().indexed().references("tenants", onDelete: .cascade)
                t.column("url", .text).notNull()
                t.column("events", .text).notNull()  // JSON array
                t.column("secret", .text).notNull()
                t.column("enabled", .boolean).notNull()
                t.column("description", .text).notNull().defaults(to: "")
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "webhook_outbox") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("event_id", .text).notNull()
                t.column("webhook_id", .text).notNull().references("webhooks", onDelete: .cascade)
                t.column("tenant_id", .text).notNull()
                t.column("event_type", .text).notNull()
                t.column("ordering_key", .text)
                t.column("body", .blob).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("attempts", .integer).notNull()
                t.column("next_attempt_at", .datetime).notNull()
                t.column("state", .text).notNull()
                t.column("last_status", .integer)
                t.column("last_error", .text)
                t.uniqueKey(["webhook_id", "event_id"])
            }
            try db.create(index: "webhook_outbox_due", on: "webhook_outbox", columns: ["state", "next_attempt_at"])
            try db.create(index: "webhook_outbox_key", on: "webhook_outbox", columns: ["webhook_id", "ordering_key", "seq"])
        }
    }

    // MARK: Webhooks

    public func insertWebhook(_ webhook: WebhookRecord) throws(StoreError) {
        try write { db in
            guard try Tenant.fetchOne(db, key: webhook.tenantID) != nil else { throw StoreError.notFound("tenant") }
            try webhook.insert(db)
        }
    }

    public func webhook(id: String) throws(StoreError) -> WebhookRecord? {
        try read { db in try WebhookRecord.fetchOne(db, key: id) }
    }

    /// A tenant's webhooks, or every tenant's when nil, oldest first.
    public func webhooks(tenantID: String?) throws(StoreError) -> [WebhookRecord] {
        try read { db in
            var request = WebhookRecord.all()
            if let tenantID { request = request.filter(Column("tenant_id") == tenantID) }
            return try request.order(Column("created_at"), Column("id")).fetchAll(db)
        }
    }

    public func updateWebhook(_ webhook: WebhookRecord) throws(StoreError) {
        try write { db in
            guard try WebhookRecord.fetchOne(db, key: webhook.id) != nil else { throw StoreError.notFound("webhook") }
            try webhook.update(db)
        }
    }

    /// Deletes a webhook and its undelivered events.
    public func deleteWebhook(id: String) throws(StoreError) {
        try write { db in
            guard try WebhookRecord.deleteOne(db, key: id) else { throw StoreError.notFound("webhook") }
        }
    }

    // MARK: Outbox

    /// Puts `event` in the outbox of every enabled webhook of its tenant that accepts it; returns how many.
    @discardableResult
    public func enqueueWebhookEvent(_ event: WebhookEvent) throws(StoreError) -> Int {
        try write { db in try Self.enqueue(event, db) }
    }

    static func enqueue(_ event: WebhookEvent, _ db: Database) throws -> Int {
        let hooks = try WebhookRecord.filter(Column("tenant_id") == event.tenantID && Column("enabled") == true).fetchAll(db)
        var n = 0
        let now = Date()  // due at once (an event's own time may come from another clock)
        for hook in hooks where hook.accepts(event.type) {
            let row = WebhookDelivery(seq: nil, eventID: event.id, webhookID: hook.id, tenantID: event.tenantID,
                                      eventType: event.type, orderingKey: event.orderingKey, body: event.body,
                                      createdAt: event.occurredAt, attempts: 0, nextAttemptAt: now,
                                      state: "pending", lastStatus: nil, lastError: nil)
            try row.insert(db)
            n += 1
        }
        return n
    }

    /// Writes a call record and, in the same transaction, its webhook event: either both are durable or neither.
    public func insertCallRecord(_ record: CallDetailRecord, webhookEvent: WebhookEvent?) throws(StoreError) {
        try write { db in
            try record.insert(db)
            if let webhookEvent { _ = try Self.enqueue(webhookEvent, db) }
        }
    }

    /// Pending deliveries due at `now`, oldest first, at most one per (webhook, ordering key): a delivery waits
    /// while an older pending one of its webhook has the same key.
    public func dueWebhookDeliveries(now: Date, limit: Int) throws(StoreError) -> [WebhookDelivery] {
        try read { db in
            try WebhookDelivery.fetchAll(db, sql: """
                SELECT o.* FROM webhook_outbox o
                WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                  WHERE p.webhook_id = o.webhook_id AND p.ordering_key = o.ordering_key
                                    AND p.state = 'pending' AND p.seq < o.seq)
                ORDER BY o.seq LIMIT ?
                """, arguments: [now, limit])
        }
    }

    /// When the next deliverable pending delivery falls due (nil: none pending).
    public func nextWebhookAttempt() throws(StoreError) -> Date? {
        try read { db in
            // Only deliveries at the head of their key: the ones behind wait for it, whatever their own time.
            try Date.fetchOne(db, sql: """
                SELECT MIN(o.next_attempt_at) FROM webhook_outbox o
                WHERE o.state = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                                  WHERE p.webhook_id = o.webhook_id AND p.ordering_key = o.ordering_key
                                    AND p.state = 'pending' AND p.seq < o.seq)
                """)
        }
    }

    /// The receiver took it: gone from the outbox.
    public func webhookDelivered(seq: Int64) throws(StoreError) {
        try write { db in _ = try WebhookDelivery.deleteOne(db, key: seq) }
    }

    /// An attempt failed: count it and schedule the next one, or (`dead`) give up and keep it for inspection.
    public func webhookAttemptFailed(seq: Int64, status: Int?, error: String, nextAttemptAt: Date, dead: Bool) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                UPDATE webhook_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ?, state = ?
                WHERE seq = ?
                """, arguments: [status, String(error.prefix(500)), nextAttemptAt, dead ? "dead" : "pending", seq])
        }
    }

    /// Moves a delivery's next attempt without counting one (its webhook is disabled).
    public func postponeWebhookDelivery(seq: Int64, until: Date) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE webhook_outbox SET next_attempt_at = ? WHERE seq = ?", arguments: [until, seq])
        }
    }

    /// A webhook's outbox (pending and dead), oldest first.
    public func webhookDeliveries(webhookID: String) throws(StoreError) -> [WebhookDelivery] {
        try read { db in try WebhookDelivery.filter(Column("webhook_id") == webhookID).order(Column("seq")).fetchAll(db) }
    }

    // MARK: CDR queries

    /// Call records matching `query`, newest written first, each with its row sequence number (the cursor).
    public func callRecords(_ query: CallRecordQuery) throws(StoreError) -> [(seq: Int64, record: CallDetailRecord)] {
        try read { db in
            var clauses: [String] = []
            var args: [(any DatabaseValueConvertible)?] = []
            if let t = query.tenantID { clauses.append("tenant_id = ?"); args.append(t) }
            if let from = query.from { clauses.append("started_at >= ?"); args.append(from) }
            if let to = query.to { clauses.append("started_at < ?"); args.append(to) }
            if let n = query.number {
                var sides: [String] = []
                if query.asCaller { sides.append("caller = ?"); args.append(n) }
                if query.asCallee { sides.append("callee = ?"); args.append(n) }
                clauses.append(sides.isEmpty ? "0" : "(" + sides.joined(separator: " OR ") + ")")
            }
            if let answered = query.answered { clauses.append(answered ? "answered_at IS NOT NULL" : "answered_at IS NULL") }
            if !query.endReasons.isEmpty {
                clauses.append("end_reason IN (" + query.endReasons.map { _ in "?" }.joined(separator: ",") + ")")
                args.append(contentsOf: query.endReasons.map(\.rawValue))
            }
            if let before = query.before { clauses.append("rowid < ?"); args.append(before) }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            args.append(max(0, query.limit))
            let rows = try Row.fetchAll(db, sql: "SELECT rowid AS _seq, * FROM cdrs \(whereSQL) ORDER BY rowid DESC LIMIT ?",
                                        arguments: StatementArguments(args))
            return try rows.map { row -> (seq: Int64, record: CallDetailRecord) in
                let seq: Int64 = row["_seq"]
                return (seq, try CallDetailRecord(row: row))
            }
        }
    }

    /// One call record.
    public func callRecord(id: String) throws(StoreError) -> CallDetailRecord? {
        try read { db in try CallDetailRecord.fetchOne(db, key: id) }
    }
}
