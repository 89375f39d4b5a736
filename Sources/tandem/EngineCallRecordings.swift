import Foundation
import MediaEngine
import PBX
import Synchronization

/// The recorder behind `EngineCallMedia`: one `RecordingWriter` thread for every call recording of the process
/// (started on first use), and the waiters for each file's final `.stopped`/`.failed` event, so that stopping a
/// recording returns once its file is complete.
final class EngineCallRecordings: Sendable {
    private struct State {
        var writer: RecordingWriter?
        /// Path → who waits for that file's end.
        var waiters: [String: CheckedContinuation<Int?, Never>] = [:]
        /// Ends reported before anyone waited (path → duration, nil for a failure).
        var ended: [String: Int?] = [:]
    }

    private let state = Mutex(State())
    /// How long `stopped(path:)` waits for the writer before the caller reads the file itself.
    let stopTimeout: Duration

    init(stopTimeout: Duration = .seconds(5)) { self.stopTimeout = stopTimeout }

    /// The writer, started on first use.
    func writer() throws -> RecordingWriter {
        try state.withLock { s in
            if let w = s.writer { return w }
            let w = try RecordingWriter(onEvent: { [weak self] event in self?.handle(event) })
            s.writer = w
            return w
        }
    }

    private func handle(_ event: RecordingEvent) {
        let path: String, duration: Int?
        switch event {
        case .started: return
        case .stopped(_, let p, let ms):
            path = p
            duration = ms
        case .failed(_, let p, _):
            path = p
            duration = nil
        }
        let waiter = state.withLock { s -> CheckedContinuation<Int?, Never>? in
            if let w = s.waiters.removeValue(forKey: path) { return w }
            s.ended[path] = .some(duration)
            return nil
        }
        waiter?.resume(returning: duration)
    }

    /// Forgets any earlier end reported for `path` (a new recording into it starts).
    func reset(path: String) { _ = state.withLock { $0.ended.removeValue(forKey: path) } }

    /// Waits for the end of the recording into `path` (after its channel was stopped); its duration in
    /// milliseconds, or nil after a failure or `stopTimeout`.
    func stopped(path: String) async -> Int? {
        let timeout = stopTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            let w = self?.state.withLock { $0.waiters.removeValue(forKey: path) }
            w?.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (c: CheckedContinuation<Int?, Never>) in
            let done = state.withLock { s -> Int?? in
                if let d = s.ended.removeValue(forKey: path) { return .some(d) }
                s.waiters[path] = c
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Stops the writer: every running recording is finalised (call at shutdown).
    func shutdown() {
        let w = state.withLock { $0.writer }
        w?.shutdown()
    }
}

extension EngineCallMedia: CallRecordingMediaService {
    func startRecording(session id: String, path: String) async throws {
        guard let session = sessionHandle(id) else { throw MediaSessionError.unknownSession }
        recordings.reset(path: path)
        let writer = try recordings.writer()
        _ = try await engine.startRecording(session, writer: writer, path: path)
    }

    func stopRecording(session id: String) async -> Int? {
        guard let session = sessionHandle(id), let channel = engine.recording(of: session) else { return nil }
        do { try await engine.stopRecording(session) } catch { return nil }
        return await recordings.stopped(path: channel.path)
    }
}
