import Foundation
import Hummingbird
import NIOCore
import Store

/// Why starting or stopping a call's recording failed (the executable maps the B2BUA's errors onto these).
public enum RecordingControlError: Error, Sendable, Equatable {
    case noSuchCall, notAnswered, alreadyRecording, notRecording, unavailable
    case failed(String)
}

/// Starts and stops the recording of active calls. A `CallControlSource` that can record also conforms to this;
/// the API asks `calls as? any RecordingControl` (a server without it answers 503 to the recording routes that
/// need a call, and still lists, serves and deletes recordings in the store).
public protocol RecordingControl: Sendable {
    /// Where recording files are: each row's `path` is relative to this directory.
    var recordingsDirectory: String { get }
    /// Starts recording active call `callID`; the new recording (running).
    func startRecording(callID: String) async throws(RecordingControlError) -> CallRecording
    /// Stops the recording of active call `callID`; the finished recording.
    func stopRecording(callID: String) async throws(RecordingControlError) -> CallRecording
}

extension APIEvent {
    /// `recording.started` / `recording.finished` on topic `calls` (webhooks see `call.recording.started`, …),
    /// about the caller's extension.
    public static func recording(_ type: String, _ r: CallRecording, occurredAt: Date) -> APIEvent {
        var extra = ["recording_id": r.id, "format": r.format]
        if r.endedAt != nil {
            extra["duration_ms"] = String(r.durationMilliseconds)
            extra["size_bytes"] = String(r.sizeBytes)
        }
        return .call("recording." + type, callID: r.callID, tenantID: r.tenantID, caller: r.caller, callee: r.callee,
                     occurredAt: occurredAt, extra: extra)
    }
}

/// A recording as the API shows it (the file's location stays private).
struct RecordingDTO: Encodable {
    var r: CallRecording

    enum CodingKeys: String, CodingKey {
        case id, tenantID = "tenant_id", callID = "call_id", caller, callee, format, state, startedAt = "started_at"
        case endedAt = "ended_at", durationMS = "duration_ms", sizeBytes = "size_bytes", audioURL = "audio_url"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(r.id, forKey: .id)
        try c.encode(r.tenantID, forKey: .tenantID)
        try c.encode(r.callID, forKey: .callID)
        try c.encode(r.caller, forKey: .caller)
        try c.encode(r.callee, forKey: .callee)
        try c.encode(r.format, forKey: .format)
        try c.encode(r.endedAt == nil ? "recording" : "finished", forKey: .state)
        try c.encode(r.startedAt, forKey: .startedAt)
        try c.encode(r.endedAt, forKey: .endedAt)
        try c.encode(r.durationMilliseconds, forKey: .durationMS)
        try c.encode(r.sizeBytes, forKey: .sizeBytes)
        try c.encode("/api/v1/recordings/" + r.id + "/audio", forKey: .audioURL)
    }
}

extension RecordingControlError {
    var problem: Problem {
        switch self {
        case .noSuchCall: .notFound("call")
        case .notAnswered: .conflict("the call is not answered")
        case .alreadyRecording: .conflict("the call is already being recorded")
        case .notRecording: .conflict("the call is not being recorded")
        case .unavailable: Problem(status: .serviceUnavailable, type: "unavailable", title: "Service unavailable",
                                   detail: "this server cannot record calls")
        case .failed(let why): Problem(status: .internalServerError, type: "recording-failed", title: "Recording failed",
                                       detail: why)
        }
    }
}

extension AdminAPIService {
    var recordingControl: (any RecordingControl)? { calls as? any RecordingControl }

    /// Recording `id` when the caller may see it (an extension user: only recordings of its calls); 404 otherwise,
    /// also for ids that cannot be recording ids.
    func visibleRecording(_ caller: Caller, id: String) throws -> CallRecording {
        guard CallRecording.isValidID(id), let r = try storeCall({ () throws(StoreError) in try store.recording(id: id) }),
              caller.sees(tenantID: r.tenantID) else { throw Problem.notFound("recording") }
        if caller.role == .extensionUser {
            let me = try visibleExtension(caller, id: caller.subjectID)
            guard r.tenantID == me.tenantID, r.caller == me.number || r.callee == me.number else { throw Problem.notFound("recording") }
        }
        return r
    }

    /// The file of `r`, when this server knows the recordings directory and the file exists.
    func recordingFile(_ r: CallRecording) -> String? {
        guard let dir = recordingControl?.recordingsDirectory, !r.path.split(separator: "/").contains("..") else { return nil }
        let full = dir + "/" + r.path
        return FileManager.default.fileExists(atPath: full) ? full : nil
    }

    /// The query of a recordings list request, scoped to what the caller may see. Nil: nothing can match.
    func recordingQuery(_ request: Request, caller: Caller) throws -> RecordingQuery? {
        let q = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var query = RecordingQuery()
        func date(_ name: String) -> Date? {
            guard let raw = q.get(name) else { return nil }
            if let d = ISO8601.parse(raw) { return d }
            errors.append(.init(field: name, message: "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z"))
            return nil
        }
        query.from = date("from")
        query.to = date("to")
        if let f = query.from, let t = query.to, t < f { errors.append(.init(field: "to", message: "must not be before from")) }
        if let c = q.get("call_id") {
            if c.isEmpty || c.utf8.count > 128 { errors.append(.init(field: "call_id", message: "must be a call id")) }
            query.callID = c
        }
        var number = q.get("extension")
        if let n = number, !TandemStore.isValidExtensionNumber(n) {
            errors.append(.init(field: "extension", message: "must be an extension number"))
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
        query.number = number
        if !errors.isEmpty { throw Problem(status: .badRequest, type: "bad-query", title: "Bad query parameters", errors: errors) }
        return nothingMatches ? nil : query
    }
}

extension AdminAPIRoutes {
    // MARK: Recordings

    static func registerRecordings(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.post("calls/:id/recording") { _, context -> Response in
            let caller = try context.requireCaller()
            let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
            guard let control = s.recordingControl else { throw RecordingControlError.unavailable.problem }
            let r: CallRecording
            do throws(RecordingControlError) { r = try await control.startRecording(callID: call.id) } catch { throw error.problem }
            var response = try APIJSON.response(RecordingDTO(r: r), status: .created)
            response.headers[.location] = "/api/v1/recordings/" + r.id
            return response
        }
        g.delete("calls/:id/recording") { _, context -> Response in
            let caller = try context.requireCaller()
            let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
            guard let control = s.recordingControl else { throw RecordingControlError.unavailable.problem }
            let r: CallRecording
            do throws(RecordingControlError) { r = try await control.stopRecording(callID: call.id) } catch { throw error.problem }
            return try APIJSON.response(RecordingDTO(r: r))
        }
        g.get("recordings") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let before = try page.sequenceCursor()
            guard var query = try s.recordingQuery(request, caller: caller) else {
                return try APIJSON.response(Page<RecordingDTO>(items: [], nextCursor: nil))
            }
            query.before = before
            query.limit = page.limit + 1
            let rows = try storeCall { () throws(StoreError) in try s.store.recordings(query) }
            return try APIJSON.response(page.sequencePage(rows, sequence: \.seq, item: { RecordingDTO(r: $0.recording) }))
        }
        g.get("recordings/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            return try APIJSON.response(RecordingDTO(r: try s.visibleRecording(caller, id: try context.parameters.require("id"))))
        }
        g.get("recordings/:id/audio") { _, context -> Response in
            let caller = try context.requireCaller()
            let r = try s.visibleRecording(caller, id: try context.parameters.require("id"))
            guard r.endedAt != nil else { throw Problem.conflict("the recording is still running") }
            guard let path = s.recordingFile(r),
                  let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
            else { throw Problem.notFound("recording file") }
            // Streamed from disk in chunks (FileIO), never loaded whole.
            let body = try await FileIO().loadFile(path: path, context: context)
            var headers = HTTPFields()
            headers[.contentType] = "audio/wav"
            headers[.contentLength] = String(size)
            headers[.contentDisposition] = "attachment; filename=\"" + r.id + ".wav\""
            return Response(status: .ok, headers: headers, body: body)
        }
        g.delete("recordings/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let r = try s.visibleRecording(caller, id: try context.parameters.require("id"))
            guard r.endedAt != nil else { throw Problem.conflict("the recording is still running; stop it first") }
            if let path = s.recordingFile(r) {
                do { try FileManager.default.removeItem(atPath: path) } catch {
                    throw Problem(status: .internalServerError, type: "internal", title: "Internal server error",
                                  detail: "cannot delete the recording file")
                }
            }
            _ = try storeCall { () throws(StoreError) in try s.store.deleteRecording(id: r.id) }
            return APIJSON.noContent()
        }
    }
}
