import Foundation
import Hummingbird
import NIOCore
import Store
import TandemBase

extension AdminAPIService {
    /// Records a finished call: the CDR and its webhook event in one transaction, then a `cdr` event on the
    /// event websocket. Called by the B2BUA's record sink (off the SIP loop).
    public func recordCall(_ record: CallDetailRecord) throws {
        let eventID = SecureRandom.identifier()
        let body = try APIJSON.encoder.encode(WebhookPayload.Body(id: eventID, type: "cdr", tenantID: record.tenantID,
                                                                  occurredAt: record.endedAt, data: record))
        try store.insertCallRecord(record, webhookEvent: WebhookEvent(
            id: eventID, tenantID: record.tenantID, type: "cdr", orderingKey: record.id, body: body, occurredAt: record.endedAt))
        webhooks.notify()
        var data: [String: String] = [
            "id": record.id, "call_id": record.id, "caller": record.caller, "callee": record.callee,
            "end_reason": record.endReason.rawValue, "hung_up_by": record.hungUpBy.rawValue,
            "duration_seconds": String(record.durationSeconds), "answered": String(record.answeredAt != nil),
        ]
        if let status = record.sipStatus { data["sip_status"] = String(status) }
        events.publish(APIEvent(topic: "cdr", type: "written", tenantID: record.tenantID, extension: record.caller,
                                occurredAt: record.endedAt, data: data))
    }

    /// The CDR `id` when the caller may see it (an extension user: only its own calls); 404 otherwise.
    func visibleCallRecord(_ caller: Caller, id: String) throws -> CallDetailRecord {
        guard let r = try store.callRecord(id: id), caller.sees(tenantID: r.tenantID) else { throw Problem.notFound("call record") }
        if caller.role == .extensionUser {
            let me = try visibleExtension(caller, id: caller.subjectID)
            guard r.tenantID == me.tenantID, r.caller == me.number || r.callee == me.number else { throw Problem.notFound("call record") }
        }
        return r
    }

    /// The query of a CDR list request, scoped to what the caller may see. Nil: nothing can match (an
    /// extension user asking about another extension).
    func callRecordQuery(_ request: Request, caller: Caller) throws -> CallRecordQuery? {
        let q = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var query = CallRecordQuery()
        func date(_ name: String) -> Date? {
            guard let raw = q.get(name) else { return nil }
            if let d = ISO8601.parse(raw) { return d }
            errors.append(.init(field: name, message: "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z"))
            return nil
        }
        query.from = date("from")
        query.to = date("to")
        if let f = query.from, let t = query.to, t < f { errors.append(.init(field: "to", message: "must not be before from")) }
        var number = q.get("extension")
        if let n = number, !TandemStore.isValidExtensionNumber(n) {
            errors.append(.init(field: "extension", message: "must be an extension number"))
        }
        switch q.get("direction") {
        case nil, "internal"?: break
        case "inbound"?: query.asCaller = false
        case "outbound"?: query.asCallee = false
        default: errors.append(.init(field: "direction", message: "must be inbound, outbound or internal"))
        }
        switch q.get("result") {
        case nil: break
        case "answered"?: query.answered = true
        case "unanswered"?: query.answered = false
        default: errors.append(.init(field: "result", message: "must be answered or unanswered"))
        }
        if let raw = q.get("end_reason") {
            for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
                if let r = CallDetailRecord.EndReason(rawValue: String(part)) { query.endReasons.append(r) } else {
                    errors.append(.init(field: "end_reason", message: "must be a comma-separated list of "
                        + CallDetailRecord.EndReason.allCases.map(\.rawValue).joined(separator: ", ")))
                    break
                }
            }
        }
        let requested = q.get("tenant_id")
        var nothingMatches = false
        if caller.role == .extensionUser {
            let me = try visibleExtension(caller, id: caller.subjectID)
            if let requested, requested != me.tenantID { throw Problem.notFound("tenant") }
            if let n = number, n != me.number { nothingMatches = true }
            number = me.number
            query.tenantID = me.tenantID
        } else if !(caller.isSystemAdmin && requested == nil) {
            query.tenantID = try tenantScope(caller, requested: requested)
        }
        if number == nil && (query.asCaller == false || query.asCallee == false) {
            errors.append(.init(field: "direction", message: "inbound and outbound need an extension"))
        }
        query.number = number
        if !errors.isEmpty { throw Problem(status: .badRequest, type: "bad-query", title: "Bad query parameters", errors: errors) }
        return nothingMatches ? nil : query
    }
}

/// ISO 8601 date-times with or without fractional seconds.
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    static func format(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}

/// The CSV export of call records. Cells that a spreadsheet would take for a formula (starting with `=`, `+`,
/// `-`, `@`, tab or CR) are prefixed with `'`.
enum CDRCSV {
    static let columns = ["id", "tenant_id", "caller", "callee", "started_at", "answered_at", "ended_at", "duration_seconds",
                          "end_reason", "sip_status", "hung_up_by", "caller_codec", "callee_codec", "transcoded", "targets"]

    static func row(_ r: CallDetailRecord) -> String {
        let fields = [r.id, r.tenantID, r.caller, r.callee, ISO8601.format(r.startedAt), r.answeredAt.map(ISO8601.format) ?? "",
                      ISO8601.format(r.endedAt), String(format: "%.3f", r.durationSeconds), r.endReason.rawValue,
                      r.sipStatus.map(String.init) ?? "", r.hungUpBy.rawValue, r.callerCodec ?? "", r.calleeCodec ?? "",
                      String(r.transcoded), r.targets.joined(separator: " ")]
        return fields.map(cell).joined(separator: ",") + "\r\n"
    }

    /// One cell: defused if formula-like, then quoted per RFC 4180 when needed.
    static func cell(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) { v = "'" + v }
        return ExtensionCSV.quote(v)
    }

    static let maximumRows = 100_000
}

extension AdminAPIRoutes {
    // MARK: Call records

    static func registerCallRecords(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("cdrs") { request, context -> Response in
            let caller = try context.requireCaller()
            if wantsCSV(request) { return try csvResponse(request, caller: caller, s) }
            let page = try PageRequest(request)
            let before = try page.sequenceCursor()
            guard var query = try s.callRecordQuery(request, caller: caller) else {
                return try APIJSON.response(Page<CallDetailRecord>(items: [], nextCursor: nil))
            }
            query.before = before
            query.limit = page.limit + 1
            let rows = try storeCall { () throws(StoreError) in try s.store.callRecords(query) }
            return try APIJSON.response(page.sequencePage(rows, sequence: \.seq, item: \.record))
        }
        g.get("cdrs.csv") { request, context -> Response in
            try csvResponse(request, caller: try context.requireCaller(), s)
        }
        g.get("cdrs/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            return try APIJSON.response(try s.visibleCallRecord(caller, id: try context.parameters.require("id")))
        }
    }

    static func wantsCSV(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        return accept.contains("text/csv") && !accept.contains("application/json")
    }

    /// Every matching record (newest first, at most `CDRCSV.maximumRows`) as CSV.
    static func csvResponse(_ request: Request, caller: Caller, _ s: AdminAPIService) throws -> Response {
        var out = CDRCSV.columns.joined(separator: ",") + "\r\n"
        if var query = try s.callRecordQuery(request, caller: caller) {
            var total = 0
            query.limit = 1000
            while total < CDRCSV.maximumRows {
                let rows = try storeCall { () throws(StoreError) in try s.store.callRecords(query) }
                for r in rows { out += CDRCSV.row(r.record) }
                total += rows.count
                guard rows.count == query.limit, let last = rows.last else { break }
                query.before = last.seq
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"cdrs.csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: out)))
    }
}
