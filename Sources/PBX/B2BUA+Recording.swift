import Foundation
import NIOCore
import Store
import TandemBase

/// What the B2BUA needs from a media engine to record a call: both legs of session `session` into one WAV file
/// (a channel per party). Separate from `CallMediaService` so engines without a recorder need nothing.
public protocol CallRecordingMediaService: Sendable {
    /// Starts recording session `session` into a new WAV file at `path` (absolute; the directory exists).
    func startRecording(session: String, path: String) async throws
    /// Stops the session's recording and returns once the file is final, with the audio's length in
    /// milliseconds (nil when the file's end was not confirmed: the caller reads the file instead).
    func stopRecording(session: String) async -> Int?
}

/// Why a recording could not start or stop.
public enum CallRecordingError: Error, Sendable, Equatable {
    /// No such active call.
    case noSuchCall
    /// The call is not answered yet (or is ending).
    case notAnswered
    /// The call is already being recorded.
    case alreadyRecording
    /// The call is not being recorded.
    case notRecording
    /// The server has no recorder (no recordings directory, or an engine that cannot record).
    case unavailable
    /// The engine or the disk refused; the text says why.
    case failed(String)
}

/// A recording starting or finishing, for the event feed and webhooks.
public struct CallRecordingNotice: Sendable {
    public enum Kind: String, Sendable { case started, finished }
    public var kind: Kind
    public var recording: CallRecording
}

/// The recordings of the B2BUA's calls: the directory they go to, their rows in the store, and which calls are
/// being recorded now. The table of running recordings is confined to the SIP endpoint's event loop (like the
/// B2BUA); store writes and file work run in the calls' media chains.
public final class CallRecorder: @unchecked Sendable {
    public let store: TandemStore
    /// The recordings directory; files go to `<tenant>/<yyyy-mm-dd>/<recording id>.wav` under it.
    public let directory: String
    let notify: @Sendable (CallRecordingNotice) -> Void
    /// Call id → the recording running for it (loop only).
    var running: [String: CallRecording] = [:]

    public init(store: TandemStore, directory: String, notify: @escaping @Sendable (CallRecordingNotice) -> Void = { _ in }) {
        self.store = store
        self.directory = directory
        self.notify = notify
    }

    /// The file of `recording`.
    public func fullPath(_ recording: CallRecording) -> String { directory + "/" + recording.path }

    /// Whether the extension option "record calls" is on for any of `numbers` of `tenantID`.
    func wantsRecording(tenantID: String, numbers: [String]) -> Bool {
        numbers.contains { n in (try? store.extensionRecord(tenantID: tenantID, number: n))??.recordsCalls == true }
    }
}

extension B2BUA {
    /// Starts recording call `callID` (call on the loop; the future completes once the file is being written):
    /// the row is inserted, then the engine records both legs. `tenantID` nil: any tenant's call.
    public func startRecording(callID: String, tenantID: String?) -> EventLoopFuture<CallRecording> {
        let loop = endpoint.eventLoop
        guard let recorder, let media = media as? any CallRecordingMediaService else {
            return loop.makeFailedFuture(CallRecordingError.unavailable)
        }
        guard let call = calls[callID], call.phase != .ended, tenantID == nil || call.tenant.id == tenantID else {
            return loop.makeFailedFuture(CallRecordingError.noSuchCall)
        }
        guard call.phase == .answered, call.acceptedCaller else { return loop.makeFailedFuture(CallRecordingError.notAnswered) }
        guard recorder.running[call.id] == nil else { return loop.makeFailedFuture(CallRecordingError.alreadyRecording) }
        let id = CallRecording.makeID(), now = Date()
        let row = CallRecording(id: id, tenantID: call.tenant.id, callID: call.id, caller: call.callerNumber,
                                callee: call.target.number, path: CallRecording.relativePath(tenantID: call.tenant.id, id: id, startedAt: now),
                                startedAt: now)
        recorder.running[call.id] = row
        let promise = loop.makePromise(of: CallRecording.self)
        let full = recorder.fullPath(row), session = call.id
        call.enqueueMedia {
            do {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try recorder.store.insertRecording(row)
                do {
                    try await media.startRecording(session: session, path: full)
                } catch {
                    _ = try? recorder.store.deleteRecording(id: row.id)
                    try? FileManager.default.removeItem(atPath: full)
                    throw error
                }
                recorder.notify(CallRecordingNotice(kind: .started, recording: row))
                promise.succeed(row)
            } catch {
                loop.execute {
                    if recorder.running[session]?.id == row.id { recorder.running[session] = nil }
                }
                promise.fail(CallRecordingError.failed(String(describing: error)))
            }
        }
        return promise.futureResult
    }

    /// Stops the recording of call `callID` (call on the loop; the future completes once the file is final and its
    /// row updated).
    public func stopRecording(callID: String, tenantID: String?) -> EventLoopFuture<CallRecording> {
        let loop = endpoint.eventLoop
        guard let call = calls[callID], call.phase != .ended, tenantID == nil || call.tenant.id == tenantID else {
            return loop.makeFailedFuture(CallRecordingError.noSuchCall)
        }
        guard recorder?.running[call.id] != nil else { return loop.makeFailedFuture(CallRecordingError.notRecording) }
        let promise = loop.makePromise(of: CallRecording.self)
        finishRecording(call, promise: promise)
        return promise.futureResult
    }

    /// The recording running for call `callID`, if any (call on the loop).
    public func runningRecording(callID: String) -> CallRecording? { recorder?.running[callID] }

    /// Ends call `call`'s recording, if one runs: the engine stops, the file is finalised and the row gets its end,
    /// length and size. Queued on the call's media chain, so it runs before a later `deleteSession`.
    func finishRecording(_ call: Call, promise: EventLoopPromise<CallRecording>? = nil) {
        guard let recorder, let row = recorder.running.removeValue(forKey: call.id) else {
            promise?.fail(CallRecordingError.notRecording)
            return
        }
        let media = media as? any CallRecordingMediaService, session = call.id
        call.enqueueMedia {
            let confirmed = await media?.stopRecording(session: session)
            let full = recorder.fullPath(row)
            // The writer patched the header when it finalised; the repair only covers a file it could not finish.
            let file = WAVRepair.repair(path: full)
            do {
                let done = try recorder.store.finishRecording(
                    id: row.id, endedAt: Date(), durationMilliseconds: confirmed ?? file?.durationMilliseconds ?? 0,
                    sizeBytes: file?.sizeBytes ?? 0)
                recorder.notify(CallRecordingNotice(kind: .finished, recording: done))
                promise?.succeed(done)
            } catch {
                promise?.fail(CallRecordingError.failed(String(describing: error)))
            }
        }
    }

    /// A call was answered: record it when the caller's or the answering extension's "record calls" option is on.
    func recordIfWanted(_ call: Call) {
        guard let recorder, media is any CallRecordingMediaService else { return }
        let loop = endpoint.eventLoop, id = call.id, tenantID = call.tenant.id
        let numbers = [call.callerNumber, call.target.number]
        Task.detached { [weak self] in
            guard recorder.wantsRecording(tenantID: tenantID, numbers: numbers), let b2bua = self else { return }
            loop.execute { _ = b2bua.startRecording(callID: id, tenantID: tenantID) }
        }
    }
}
