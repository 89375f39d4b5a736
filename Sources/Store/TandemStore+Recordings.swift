import Foundation
import GRDB
import TandemBase

/// One call recording: a WAV file under the recordings directory and what it is of. `endedAt` is nil while the
/// recording runs (or after a crash, until `finaliseUnfinishedRecordings` runs at start-up).
public struct CallRecording: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recordings"

    /// Opaque identifier (32 hex digits); also the file's base name.
    public var id: String
    public var tenantID: String
    /// The call recorded (the B2BUA's call id, the CDR's id).
    public var callID: String
    public var caller: String
    public var callee: String
    /// The file, relative to the recordings directory: `<tenant>/<yyyy-mm-dd>/<id>.wav`.
    public var path: String
    /// `wav` (16-bit PCM, 8 kHz, one channel per party).
    public var format: String
    public var startedAt: Date
    public var endedAt: Date?
    /// Audio in the file, in milliseconds.
    public var durationMilliseconds: Int
    public var sizeBytes: Int64

    public init(id: String, tenantID: String, callID: String, caller: String, callee: String, path: String,
                format: String = "wav", startedAt: Date, endedAt: Date? = nil, durationMilliseconds: Int = 0,
                sizeBytes: Int64 = 0) {
        self.id = id
        self.tenantID = tenantID
        self.callID = callID
        self.caller = caller
        self.callee = callee
        self.path = path
        self.format = format
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.durationMilliseconds = durationMilliseconds
        self.sizeBytes = sizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case id, caller, callee, path, format
        case tenantID = "tenant_id", callID = "call_id", startedAt = "started_at", endedAt = "ended_at"
        case durationMilliseconds = "duration_ms", sizeBytes = "size_bytes"
    }

    /// A new recording id.
    public static func makeID() -> String { SecureRandom.identifier() }

    /// Whether `id` can be a recording id: 1–64 of `[A-Za-z0-9_-]` (so it never names another path).
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }

    /// The relative path of recording `id` of `tenantID` started at `date` (UTC day).
    public static func relativePath(tenantID: String, id: String, startedAt date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
        return tenantID + "/" + day + "/" + id + ".wav"
    }
}

/// Filters of a recordings list (all optional), and keyset pagination on insertion order.
public struct RecordingQuery: Sendable {
    public var tenantID: String?
    /// Started at or after.
    public var from: Date?
    /// Started before.
    public var to: Date?
    public var callID: String?
    /// Recordings of calls extension `number` took part in (as caller or callee).
    public var number: String?
    /// Only rows older than this sequence number (the cursor).
    public var before: Int64?
    public var limit = 100

    public init() {}
}

extension TandemStore {
    static func registerRecordingMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-recordings") { db in
            try db.create(table: "recordings") { t in
                t.primaryKey("id", .text)
                // No foreign key: like CDRs, the row is removed with its file, not with the tenant.
                t.column("tenant_id", .text).notNull()
                t.column("call_id", .text).notNull()
                t.column("caller", .text).notNull()
                t.column("callee", .text).notNull()
                t.column("path", .text).notNull()
                t.column("format", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("ended_at", .datetime)
                t.column("duration_ms", .integer).notNull()
                t.column("size_bytes", .integer).notNull()
            }
            try db.create(index: "recordings_tenant_started", on: "recordings", columns: ["tenant_id", "started_at"])
            try db.create(index: "recordings_call", on: "recordings", columns: ["call_id"])
        }
    }

    /// Adds a recording that just started (`endedAt` nil).
    public func insertRecording(_ recording: CallRecording) throws(StoreError) {
        guard CallRecording.isValidID(recording.id) else { throw .invalid("recording id") }
        try write { db in try recording.insert(db) }
    }

    /// Marks recording `id` finished: its end, the audio's length and the file's size. Returns the updated row.
    @discardableResult
    public func finishRecording(id: String, endedAt: Date, durationMilliseconds: Int, sizeBytes: Int64) throws(StoreError)
        -> CallRecording {
        try write { db in
            guard var r = try CallRecording.fetchOne(db, key: id) else { throw StoreError.notFound("recording") }
            r.endedAt = endedAt
            r.durationMilliseconds = max(0, durationMilliseconds)
            r.sizeBytes = max(0, sizeBytes)
            try r.update(db)
            return r
        }
    }

    /// One recording.
    public func recording(id: String) throws(StoreError) -> CallRecording? {
        guard CallRecording.isValidID(id) else { return nil }
        return try read { db in try CallRecording.fetchOne(db, key: id) }
    }

    /// Recordings matching `query`, newest inserted first, each with its row sequence number (the cursor).
    public func recordings(_ query: RecordingQuery) throws(StoreError) -> [(seq: Int64, recording: CallRecording)] {
        try read { db in
            var clauses: [String] = []
            var args: [(any DatabaseValueConvertible)?] = []
            if let t = query.tenantID { clauses.append("tenant_id = ?"); args.append(t) }
            if let from = query.from { clauses.append("started_at >= ?"); args.append(from) }
            if let to = query.to { clauses.append("started_at < ?"); args.append(to) }
            if let c = query.callID { clauses.append("call_id = ?"); args.append(c) }
            if let n = query.number { clauses.append("(caller = ? OR callee = ?)"); args.append(n); args.append(n) }
            if let before = query.before { clauses.append("rowid < ?"); args.append(before) }
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            args.append(max(0, query.limit))
            let rows = try Row.fetchAll(db, sql: "SELECT rowid AS _seq, * FROM recordings \(whereSQL) ORDER BY rowid DESC LIMIT ?",
                                        arguments: StatementArguments(args))
            return try rows.map { row -> (seq: Int64, recording: CallRecording) in
                let seq: Int64 = row["_seq"]
                return (seq, try CallRecording(row: row))
            }
        }
    }

    /// Removes recording `id`'s row (the caller removes the file). False when there was none.
    @discardableResult
    public func deleteRecording(id: String) throws(StoreError) -> Bool {
        guard CallRecording.isValidID(id) else { return false }
        return try write { db in try CallRecording.deleteOne(db, key: id) }
    }

    /// Recordings never finished (running now, or cut off by a crash).
    public func unfinishedRecordings() throws(StoreError) -> [CallRecording] {
        try read { db in try CallRecording.filter(Column("ended_at") == nil).order(Column("started_at")).fetchAll(db) }
    }

    /// Finalises every unfinished recording from its file under `directory` (call at start-up, before any call can
    /// record): the WAV header's sizes are made to cover the whole file, and the row gets the file's size, the
    /// audio's length and an end time (the file's modification time, or `now` when it is missing). Returns how many.
    @discardableResult
    public func finaliseUnfinishedRecordings(directory: String, now: Date = Date()) throws(StoreError) -> Int {
        let rows = try unfinishedRecordings()
        for r in rows {
            let full = directory + "/" + r.path
            let repaired = WAVRepair.repair(path: full)
            let modified = (try? FileManager.default.attributesOfItem(atPath: full)[.modificationDate] as? Date) ?? nil
            let ended = max(r.startedAt, modified ?? now)
            try finishRecording(id: r.id, endedAt: ended, durationMilliseconds: repaired?.durationMilliseconds ?? 0,
                                sizeBytes: repaired?.sizeBytes ?? 0)
        }
        return rows.count
    }
}
