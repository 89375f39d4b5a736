import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Store
import Testing
@testable import AdminAPI

/// The fake call source records too: rows in the store and a small WAV file per recording, in a side table (the
/// fake itself is shared with the other suites).
struct FakeRecorderState: Sendable {
    var store: TandemStore
    var directory: String
    var running: [String: CallRecording] = [:]
}

let fakeRecorders = NIOLockedValueBox<[ObjectIdentifier: FakeRecorderState]>([:])

extension FakeCalls: RecordingControl {
    func enableRecording(store: TandemStore, directory: String) {
        fakeRecorders.withLockedValue { $0[ObjectIdentifier(self)] = FakeRecorderState(store: store, directory: directory) }
    }

    var recordingsDirectory: String { fakeRecorders.withLockedValue { $0[ObjectIdentifier(self)]?.directory ?? "/nonexistent" } }

    func startRecording(callID: String) async throws(RecordingControlError) -> CallRecording {
        guard let call = list.withLockedValue({ $0.first { $0.id == callID } }) else { throw .noSuchCall }
        guard call.state == .answered else { throw .notAnswered }
        let key = ObjectIdentifier(self)
        return try fakeRecorders.withLockedValue { table -> Result<CallRecording, RecordingControlError> in
            guard var state = table[key] else { return .failure(.unavailable) }
            guard state.running[callID] == nil else { return .failure(.alreadyRecording) }
            let id = CallRecording.makeID(), now = Date(timeIntervalSince1970: 1_800_000_010)
            let r = CallRecording(id: id, tenantID: call.tenantID, callID: call.id, caller: call.caller, callee: call.target,
                                  path: CallRecording.relativePath(tenantID: call.tenantID, id: id, startedAt: now), startedAt: now)
            do { try state.store.insertRecording(r) } catch { return .failure(.failed("\(error)")) }
            state.running[callID] = r
            table[key] = state
            return .success(r)
        }.get()
    }

    func stopRecording(callID: String) async throws(RecordingControlError) -> CallRecording {
        let key = ObjectIdentifier(self)
        return try fakeRecorders.withLockedValue { table -> Result<CallRecording, RecordingControlError> in
            guard var state = table[key] else { return .failure(.unavailable) }
            guard let r = state.running.removeValue(forKey: callID) else { return .failure(.notRecording) }
            table[key] = state
            let full = state.directory + "/" + r.path
            let wav = RecordingAPITests.wav(milliseconds: 1500)
            do {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try wav.write(to: URL(fileURLWithPath: full))
                return .success(try state.store.finishRecording(id: r.id, endedAt: r.startedAt.addingTimeInterval(1.5),
                                                                durationMilliseconds: 1500, sizeBytes: Int64(wav.count)))
            } catch { return .failure(.failed("\(error)")) }
        }.get()
    }
}

@Suite struct RecordingAPITests {
    /// A stereo 8 kHz 16-bit WAV of `milliseconds` with a non-zero ramp.
    static func wav(milliseconds: Int) -> Data {
        let frames = 8 * milliseconds
        var b: [UInt8] = []
        func u32(_ v: Int) { for i in 0..<4 { b.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        func u16(_ v: Int) { for i in 0..<2 { b.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        b += Array("RIFF".utf8); u32(36 + frames * 4); b += Array("WAVE".utf8)
        b += Array("fmt ".utf8); u32(16); u16(1); u16(2); u32(8000); u32(32000); u16(4); u16(16)
        b += Array("data".utf8); u32(frames * 4)
        for i in 0..<(frames * 2) { u16(i % 500) }
        return Data(b)
    }

    func fixture() throws -> Fixture {
        let f = try Fixture()
        f.calls.enableRecording(store: f.store, directory: f.directory + "/recordings")
        f.calls.list.withLockedValue {
            $0 = [activeCall("alive", tenant: f.tenantA.id, caller: "100", callee: "101"),
                  activeCall("aring", tenant: f.tenantA.id, caller: "101", callee: "100", answered: false),
                  activeCall("blive", tenant: f.tenantB.id, caller: "200", callee: "201")]
        }
        return f
    }

    @Test func startStopListDownloadAndDelete() async throws {
        let f = try fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            let started = try await c.call(.post, "/api/v1/calls/alive/recording", token: a)
            #expect(started.status == .created, "\(started.text)")
            let id = try #require(started.json["id"] as? String)
            #expect(started.json["state"] as? String == "recording")
            #expect(started.json["call_id"] as? String == "alive")
            #expect(started.json["path"] == nil)
            #expect(started.headers[.location] == "/api/v1/recordings/\(id)")
            // Twice: 409; a ringing call: 409; unknown call: 404.
            let again = try await c.call(.post, "/api/v1/calls/alive/recording", token: a)
            #expect(again.status == .conflict && (again.json["detail"] as? String)?.contains("already") == true, "\(again.text)")
            #expect(try await c.call(.post, "/api/v1/calls/aring/recording", token: a).status == .conflict)
            #expect(try await c.call(.post, "/api/v1/calls/nope/recording", token: a).status == .notFound)
            #expect(try await c.call(.delete, "/api/v1/calls/aring/recording", token: a).status == .conflict)
            // Still running: no audio, no delete.
            #expect(try await c.call(.get, "/api/v1/recordings/\(id)/audio", token: a).status == .conflict)
            #expect(try await c.call(.delete, "/api/v1/recordings/\(id)", token: a).status == .conflict)

            let stopped = try await c.call(.delete, "/api/v1/calls/alive/recording", token: a)
            #expect(stopped.status == .ok, "\(stopped.text)")
            #expect(stopped.json["state"] as? String == "finished")
            #expect(stopped.json["duration_ms"] as? Int == 1500)

            let list = try await c.call(.get, "/api/v1/recordings", token: a)
            #expect(list.items.compactMap { $0["id"] as? String } == [id])
            #expect(try await c.call(.get, "/api/v1/recordings?call_id=alive", token: a).items.count == 1)
            #expect(try await c.call(.get, "/api/v1/recordings?call_id=other", token: a).items.isEmpty)
            #expect(try await c.call(.get, "/api/v1/recordings?extension=101", token: a).items.count == 1)
            #expect(try await c.call(.get, "/api/v1/recordings?from=2030-01-01T00:00:00Z", token: a).items.isEmpty)
            let one = try await c.call(.get, "/api/v1/recordings/\(id)", token: a)
            #expect(one.status == .ok && one.json["size_bytes"] as? Int == 44 + 1500 * 32)

            let audio = try await c.call(.get, "/api/v1/recordings/\(id)/audio", token: a)
            #expect(audio.status == .ok)
            #expect(audio.headers[.contentType] == "audio/wav")
            #expect(audio.headers[.contentLength] == String(44 + 1500 * 32))
            #expect(audio.text.hasPrefix("RIFF"))

            let deleted = try await c.call(.delete, "/api/v1/recordings/\(id)", token: a)
            #expect(deleted.status == .noContent)
            #expect(try await c.call(.get, "/api/v1/recordings/\(id)", token: a).status == .notFound)
            let files = FileManager.default.enumerator(atPath: f.directory + "/recordings")?.allObjects as? [String] ?? []
            #expect(!files.contains { $0.hasSuffix(".wav") })
        }
    }

    @Test func badInputGetsProblems() async throws {
        let f = try fixture()
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            for path in ["/api/v1/recordings/..%2F..%2Fetc%2Fpasswd", "/api/v1/recordings/doesnotexist",
                         "/api/v1/recordings/..%2Fx/audio", "/api/v1/recordings/%2E%2E"] {
                let r = try await c.call(.get, path, token: a)
                #expect(r.status == .notFound, "\(path) → \(r.status)")
                #expect(r.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            }
            #expect(try await c.call(.delete, "/api/v1/recordings/..%2F..%2Fstore.sqlite", token: a).status == .notFound)
            let bad = try await c.call(.get, "/api/v1/recordings?cursor=zzz&from=yesterday&extension=x%2Fy", token: a)
            #expect(bad.status == .badRequest)
            let badCursor = try await c.call(.get, "/api/v1/recordings?cursor=" + Base64URL.encode(Array("k:abc".utf8)), token: a)
            #expect(badCursor.status == .badRequest && badCursor.fieldErrors == ["cursor"])
            #expect(try await c.call(.get, "/api/v1/recordings", token: nil).status == .unauthorized)
        }
    }

    @Test func paginationAndExtensionUserScope() async throws {
        let f = try fixture()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        for i in 0..<5 {
            let id = CallRecording.makeID()
            try f.store.insertRecording(CallRecording(
                id: id, tenantID: f.tenantA.id, callID: "c\(i)", caller: i < 2 ? "100" : "101", callee: "102",
                path: CallRecording.relativePath(tenantID: f.tenantA.id, id: id, startedAt: t0), startedAt: t0.addingTimeInterval(Double(i)),
                endedAt: t0.addingTimeInterval(Double(i) + 1), durationMilliseconds: 1000, sizeBytes: 8044))
        }
        try await f.withClient { c in
            let a = try await c.token("alice@a.example", "alice-secret")
            var seen: [String] = []
            var cursor: String?
            repeat {
                let r = try await c.call(.get, "/api/v1/recordings?limit=2" + (cursor.map { "&cursor=" + $0 } ?? ""), token: a)
                #expect(r.status == .ok)
                seen += r.items.compactMap { $0["call_id"] as? String }
                cursor = r.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == ["c4", "c3", "c2", "c1", "c0"])
            // Extension 100 sees only recordings of its calls, whatever it asks.
            let me = try await c.token("100@a.example", "web-100-pass")
            let mine = try await c.call(.get, "/api/v1/recordings", token: me)
            #expect(Set(mine.items.compactMap { $0["call_id"] as? String }) == ["c0", "c1"])
            #expect(try await c.call(.get, "/api/v1/recordings?extension=101", token: me).items.isEmpty)
            let other = try #require(try f.store.recordings(RecordingQuery()).first { $0.recording.callID == "c4" })
            #expect(try await c.call(.get, "/api/v1/recordings/\(other.recording.id)", token: me).status == .notFound)
        }
    }

    @Test func recordingEventsReachTheCallsTopicAndWebhooks() throws {
        let r = CallRecording(id: "abc", tenantID: "t", callID: "call", caller: "100", callee: "101", path: "t/x/abc.wav",
                              startedAt: Date(), endedAt: Date(), durationMilliseconds: 2000, sizeBytes: 32044)
        let e = APIEvent.recording("finished", r, occurredAt: Date())
        #expect(e.topic == "calls" && e.type == "recording.finished")
        #expect(e.data["recording_id"] == "abc" && e.data["call_id"] == "call" && e.data["duration_ms"] == "2000")
        #expect(WebhookPayload.event(e)?.type == "call.recording.finished")
        #expect(WebhookPayload.isValidPattern("call.recording.started"))
    }
}
