import Foundation
import Store
import Testing

/// Migration v7-recordings: insert on start, finish on stop, filters and keyset pagination, delete, and crash
/// recovery (unfinished rows finalised from the file, the WAV header patched).
@Suite struct RecordingStoreTests {
    func recording(_ tenant: String, call: String, caller: String, callee: String, at: Date) -> CallRecording {
        let id = CallRecording.makeID()
        return CallRecording(id: id, tenantID: tenant, callID: call, caller: caller, callee: callee,
                             path: CallRecording.relativePath(tenantID: tenant, id: id, startedAt: at), startedAt: at)
    }

    @Test func insertFinishListFilterPageAndDelete() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TandemStore(directory: dir)
        #expect(try store.appliedMigrations().contains("v7-recordings"))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var all: [CallRecording] = []
        for i in 0..<5 {
            let r = recording(i < 4 ? "ta" : "tb", call: "call-\(i % 2)", caller: "10\(i)", callee: "200",
                              at: t0.addingTimeInterval(Double(i) * 60))
            try store.insertRecording(r)
            all.append(r)
        }
        #expect(all[0].path.hasPrefix("ta/2027-01-15/") && all[0].path.hasSuffix(all[0].id + ".wav"))
        #expect(try store.recording(id: all[1].id)?.endedAt == nil)
        #expect(try store.unfinishedRecordings().count == 5)
        let done = try store.finishRecording(id: all[1].id, endedAt: t0.addingTimeInterval(100), durationMilliseconds: 4_000,
                                             sizeBytes: 64_044)
        #expect(done.durationMilliseconds == 4_000 && done.sizeBytes == 64_044 && done.endedAt != nil)
        #expect(try store.recording(id: all[1].id) == done)
        #expect(try store.unfinishedRecordings().count == 4)

        var q = RecordingQuery()
        q.tenantID = "ta"
        #expect(try store.recordings(q).map(\.recording.id) == all[0..<4].reversed().map(\.id))
        q.callID = "call-1"
        #expect(try store.recordings(q).map(\.recording.id) == [all[3].id, all[1].id])
        q.callID = nil
        q.number = "102"
        #expect(try store.recordings(q).map(\.recording.id) == [all[2].id])
        q.number = "200"
        q.from = t0.addingTimeInterval(60)
        q.to = t0.addingTimeInterval(180)
        #expect(try store.recordings(q).map(\.recording.id) == [all[2].id, all[1].id])
        // Keyset pages: two, then the rest, nothing repeated.
        var page = RecordingQuery()
        page.tenantID = "ta"
        page.limit = 2
        let first = try store.recordings(page)
        page.before = first.last?.seq
        let second = try store.recordings(page)
        #expect(first.count == 2 && second.count == 2)
        #expect(Set(first.map(\.recording.id)).isDisjoint(with: second.map(\.recording.id)))

        #expect(try store.deleteRecording(id: all[0].id))
        #expect(try !store.deleteRecording(id: all[0].id))
        #expect(try store.recording(id: all[0].id) == nil)
        // Bad ids: never a path, never found, never inserted.
        #expect(try store.recording(id: "../../etc/passwd") == nil)
        #expect(try !store.deleteRecording(id: "a/b"))
        var bad = all[2]
        bad.id = "../x"
        #expect(throws: StoreError.self) { try store.insertRecording(bad) }
        #expect(throws: StoreError.self) { try store.finishRecording(id: "nope", endedAt: t0, durationMilliseconds: 0, sizeBytes: 0) }
    }

    /// A WAV header as a writer leaves it before its first patch: RIFF and data sizes zero.
    static func unpatchedWAV(samples: Int, channels: Int = 2, rate: Int = 8000) -> Data {
        var b: [UInt8] = []
        func u32(_ v: Int) { for i in 0..<4 { b.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        func u16(_ v: Int) { for i in 0..<2 { b.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        b += Array("RIFF".utf8); u32(0); b += Array("WAVE".utf8)
        b += Array("fmt ".utf8); u32(16); u16(1); u16(channels); u32(rate); u32(rate * channels * 2); u16(channels * 2); u16(16)
        b += Array("data".utf8); u32(0)
        for i in 0..<(samples * channels) { u16(i % 2 == 0 ? 1000 : 65536 - 1000) }
        return Data(b)
    }

    @Test func startUpFinalisesUnfinishedRowsAndPatchesTheHeader() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recordings = dir + "/recordings"
        let store = try TandemStore(directory: dir)
        let started = Date().addingTimeInterval(-10)
        let crashed = recording("ta", call: "c1", caller: "100", callee: "200", at: started)
        let missing = recording("ta", call: "c2", caller: "100", callee: "200", at: started)
        try store.insertRecording(crashed)
        try store.insertRecording(missing)
        let full = recordings + "/" + crashed.path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // 2 s of stereo 8 kHz 16-bit audio behind a header that says nothing.
        try Self.unpatchedWAV(samples: 16_000).write(to: URL(fileURLWithPath: full))

        #expect(try store.finaliseUnfinishedRecordings(directory: recordings) == 2)
        #expect(try store.unfinishedRecordings().isEmpty)
        let fixed = try #require(try store.recording(id: crashed.id))
        #expect(fixed.sizeBytes == 44 + 64_000)
        #expect(fixed.durationMilliseconds == 2_000)
        #expect(fixed.endedAt.map { $0 >= started } == true)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: full)))
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        #expect(u32(4) == bytes.count - 8)
        #expect(u32(40) == 64_000)
        // Running again changes nothing; the repair is idempotent.
        #expect(try store.finaliseUnfinishedRecordings(directory: recordings) == 0)
        #expect(WAVRepair.repair(path: full)?.patched == false)
        let gone = try #require(try store.recording(id: missing.id))
        #expect(gone.sizeBytes == 0 && gone.durationMilliseconds == 0 && gone.endedAt != nil)
        // Not a WAV file: no repair, no crash.
        try Data("hello world, not a wav".utf8).write(to: URL(fileURLWithPath: dir + "/junk.wav"))
        #expect(WAVRepair.repair(path: dir + "/junk.wav") == nil)
    }
}
