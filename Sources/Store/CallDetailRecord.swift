import Foundation
import GRDB

/// One call's record (CDR), written once when the call ends.
public struct CallDetailRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "cdrs"

    /// Why a call ended.
    public enum EndReason: String, Codable, Sendable, CaseIterable {
        /// Answered and hung up normally (BYE from either side).
        case normal
        /// The callee was busy (486/600).
        case busy
        /// Nobody answered within the ring timeout.
        case noAnswer = "no_answer"
        /// The callee has no live registration.
        case unavailable
        /// The caller cancelled before an answer.
        case cancelled
        /// No such extension.
        case notFound = "not_found"
        /// No common codec and none transcodable.
        case incompatibleMedia = "incompatible_media"
        /// The callee rejected with another status.
        case rejected
        /// Media or signalling failure inside Tandem.
        case failed
        /// Answered, then transferred (REFER): the record covers the call until its last party hung up.
        case transferred
        /// No RTP on a leg for the media timeout: Tandem hung up both sides.
        case mediaTimeout = "media_timeout"
        /// The RFC 4028 session timer ran out without a refresh.
        case sessionExpired = "session_expired"
        /// The tenant's simultaneous-call limit was reached.
        case callLimit = "call_limit"
        /// Forwarding led back to an extension already tried, or past the hop limit.
        case forwardLoop = "forward_loop"
        /// Hung up through the admin API (`DELETE /api/v1/calls/{id}`).
        case admin
    }

    /// Who ended the call.
    public enum Party: String, Codable, Sendable, CaseIterable {
        case caller, callee, system
    }

    public var id: String
    public var tenantID: String
    /// The caller's extension number.
    public var caller: String
    /// The dialled number.
    public var callee: String
    /// Every target the call tried, in order: "NUMBER CONTACT-URI" for each contact rung, "NUMBER" for an
    /// extension tried without ringing (forwarded on, unavailable, DND).
    public var targets: [String]
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date
    /// Seconds from answer to end; 0 when not answered.
    public var durationSeconds: Double
    public var endReason: EndReason
    /// The final SIP status sent to the caller when the call was not answered.
    public var sipStatus: Int?
    public var hungUpBy: Party
    /// The codec negotiated with the caller (e.g. "PCMU/8000"), if any.
    public var callerCodec: String?
    /// The codec negotiated with the callee, if any.
    public var calleeCodec: String?
    /// True when the engine transcoded between the two.
    public var transcoded: Bool
    /// The extension a transfer (REFER, INVITE with Replaces or the admin API) connected into the call last;
    /// nil when the call was never transferred.
    public var transferredTo: String?
    /// The parties connected when the call ended: the caller slot's and the callee slot's extension numbers
    /// (after a transfer, not the original caller and callee); nil when the call was never answered.
    public var finalCaller: String?
    public var finalCallee: String?

    public init(id: String, tenantID: String, caller: String, callee: String, targets: [String], startedAt: Date,
                answeredAt: Date?, endedAt: Date, endReason: EndReason, sipStatus: Int?, hungUpBy: Party,
                callerCodec: String?, calleeCodec: String?, transcoded: Bool) {
        self.id = id
        self.tenantID = tenantID
        self.caller = caller
        self.callee = callee
        self.targets = targets
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.durationSeconds = answeredAt.map { max(0, endedAt.timeIntervalSince($0)) } ?? 0
        self.endReason = endReason
        self.sipStatus = sipStatus
        self.hungUpBy = hungUpBy
        self.callerCodec = callerCodec
        self.calleeCodec = calleeCodec
        self.transcoded = transcoded
    }

    enum CodingKeys: String, CodingKey {
        case id, caller, callee, targets, transcoded
        case tenantID = "tenant_id"
        case startedAt = "started_at"
        case answeredAt = "answered_at"
        case endedAt = "ended_at"
        case durationSeconds = "duration_seconds"
        case endReason = "end_reason"
        case sipStatus = "sip_status"
        case hungUpBy = "hung_up_by"
        case callerCodec = "caller_codec"
        case calleeCodec = "callee_codec"
        case transferredTo = "transferred_to"
        case finalCaller = "final_caller"
        case finalCallee = "final_callee"
    }
}

extension TandemStore {
    static func registerCDRMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-cdrs") { db in
            try db.create(table: "cdrs") { t in
                t.primaryKey("id", .text)
                // No foreign key: a record outlives its tenant's deletion (billing, audit).
                t.column("tenant_id", .text).notNull()
                t.column("caller", .text).notNull()
                t.column("callee", .text).notNull()
                t.column("targets", .text).notNull()  // JSON array
                t.column("started_at", .datetime).notNull()
                t.column("answered_at", .datetime)
                t.column("ended_at", .datetime).notNull()
                t.column("duration_seconds", .double).notNull()
                t.column("end_reason", .text).notNull()
                t.column("sip_status", .integer)
                t.column("hung_up_by", .text).notNull()
                t.column("caller_codec", .text)
                t.column("callee_codec", .text)
                t.column("transcoded", .boolean).notNull()
            }
            try db.create(index: "cdrs_tenant_started", on: "cdrs", columns: ["tenant_id", "started_at"])
        }
    }

    /// v8-transfer-cdr: who a transfer connected and the final parties (additive, nullable columns).
    static func registerTransferCDRMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-transfer-cdr") { db in
            try db.alter(table: "cdrs") { t in
                t.add(column: "transferred_to", .text)
                t.add(column: "final_caller", .text)
                t.add(column: "final_callee", .text)
            }
        }
    }

    /// Writes one call record (a committed transaction: durable under WAL once this returns).
    public func insertCallRecord(_ record: CallDetailRecord) throws(StoreError) {
        try write { db in try record.insert(db) }
    }

    /// The newest call records first; only `tenantID`'s when given.
    public func callRecords(tenantID: String? = nil, limit: Int = 100) throws(StoreError) -> [CallDetailRecord] {
        try read { db in
            var request = CallDetailRecord.all()
            if let tenantID { request = request.filter(Column("tenant_id") == tenantID) }
            return try request.order(Column("started_at").desc, Column("id")).limit(max(0, limit)).fetchAll(db)
        }
    }
}
