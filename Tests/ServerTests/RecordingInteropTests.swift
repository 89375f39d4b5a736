import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real call between two SIPp instances through `tandem serve`, recorded through the admin API: started while
/// SIPp plays PCMA RTP (the callee echoes it back through Tandem), stopped, listed, downloaded (a stereo WAV with
/// audio in it and about the recorded length), deleted (file gone); afterwards the engine holds no session.
@Suite(.serialized) struct RecordingInteropTests {
    let base = B2BUAInteropTests()

    func api(_ method: String, _ url: String, token: String) async throws -> (status: Int, json: [String: Any], data: Data,
                                                                              headers: [AnyHashable: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:], data,
                http?.allHeaderFields ?? [:])
    }

    /// The WAV's format and samples: (channels, rate, bits, samples of the data chunk).
    static func parseWAV(_ d: [UInt8]) -> (channels: Int, rate: Int, bits: Int, samples: [Int16])? {
        guard d.count >= 44, d[0..<4].elementsEqual(Array("RIFF".utf8)), d[8..<12].elementsEqual(Array("WAVE".utf8)) else { return nil }
        func u32(_ i: Int) -> Int { Int(d[i]) | Int(d[i + 1]) << 8 | Int(d[i + 2]) << 16 | Int(d[i + 3]) << 24 }
        func u16(_ i: Int) -> Int { Int(d[i]) | Int(d[i + 1]) << 8 }
        var at = 12
        var format: (Int, Int, Int)?
        while at + 8 <= d.count {
            let id = String(decoding: d[at..<at + 4], as: UTF8.self), length = u32(at + 4)
            if id == "fmt " { format = (u16(at + 10), u32(at + 12), u16(at + 22)) }
            if id == "data", let (channels, rate, bits) = format {
                let end = min(d.count, at + 8 + length)
                var samples: [Int16] = []
                var i = at + 8
                while i + 1 < end { samples.append(Int16(bitPattern: UInt16(u16(i)))); i += 2 }
                return (channels, rate, bits, samples)
            }
            at += 8 + length + (length & 1)
        }
        return nil
    }

    @Test(.timeLimit(.minutes(2)))
    func callRecordedThroughTheAPIIsListedDownloadedAndDeleted() async throws {
        let server = try await base.startServer()
        let url = "http://127.0.0.1:\(server.http)"
        let login = try await postJSON(url + "/api/v1/auth/login", ["username": "admin", "password": "operator-chosen-1"])
        let token = try #require(login["access_token"] as? String, "login: \(login)")

        let calleePort = SIPInteropTests.freePort(udp: true)
        try await base.registerCallee(server, local: calleePort)
        async let uas = base.sipp("b2bua-uas.xml", port: server.udp, local: calleePort, service: "200",
                                  extra: ["-rtp_echo", "-mp", String(SIPInteropTests.freePort(udp: true) & ~1)])
        async let uac = base.sipp("b2bua-uac-record.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                  service: "200", extra: base.caller + ["-mp", String(SIPInteropTests.freePort(udp: true) & ~1)])

        // The call shows up answered (polled, bounded: SIP and HTTP are separate processes' events).
        var callID: String?
        for _ in 0..<100 {
            let items = try await api("GET", url + "/api/v1/calls", token: token).json["items"] as? [[String: Any]] ?? []
            if let c = items.first, c["state"] as? String == "answered" { callID = c["id"] as? String; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let id = try #require(callID, "no answered call; server: \(server.process.stderr.all.suffix(3000))")
        let started = try await api("POST", url + "/api/v1/calls/\(id)/recording", token: token)
        #expect(started.status == 201, "start: \(started.json)")
        let recordingID = try #require(started.json["id"] as? String)
        #expect(started.json["state"] as? String == "recording" && started.json["call_id"] as? String == id)
        #expect(try await api("POST", url + "/api/v1/calls/\(id)/recording", token: token).status == 409)
        // About 2.5 s of the call's audio go into the file (this wait is the recording's length, not a synchronisation).
        try await Task.sleep(for: .milliseconds(2500))
        let stopped = try await api("DELETE", url + "/api/v1/calls/\(id)/recording", token: token)
        #expect(stopped.status == 200, "stop: \(stopped.json)")
        #expect(stopped.json["state"] as? String == "finished")
        let durationMS = stopped.json["duration_ms"] as? Int ?? 0
        #expect((1500...4000).contains(durationMS), "duration \(durationMS) ms")
        #expect(try await api("DELETE", url + "/api/v1/calls/\(id)/recording", token: token).status == 409)

        let caller = try await uac, callee = try await uas
        #expect(caller.status == 0 && caller.successful == 1, "caller: \(caller.output.suffix(2500))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        #expect(try await base.openLegsAfterSettling(server) == 0)
        #expect(try await base.metric(server, "tandem_media_worker_sessions") == 0)

        let list = try await api("GET", url + "/api/v1/recordings?call_id=\(id)", token: token)
        let items = list.json["items"] as? [[String: Any]] ?? []
        #expect(items.compactMap { $0["id"] as? String } == [recordingID], "\(list.json)")
        let size = items.first?["size_bytes"] as? Int ?? 0

        let audio = try await api("GET", url + "/api/v1/recordings/\(recordingID)/audio", token: token)
        #expect(audio.status == 200)
        #expect(audio.headers["Content-Type"] as? String == "audio/wav")
        #expect(audio.headers["Content-Length"] as? String == String(audio.data.count) && audio.data.count == size)
        let wav = try #require(Self.parseWAV([UInt8](audio.data)), "not a WAV file: \(audio.data.prefix(64))")
        #expect(wav.channels == 2 && wav.rate == 8000 && wav.bits == 16)
        let seconds = Double(wav.samples.count) / Double(wav.channels * wav.rate)
        #expect(seconds > 1.5 && seconds < 4.0, "\(seconds) s of audio")
        // Both parties' channels carry audio (PCMA from the pcap; the callee echoes it back through Tandem).
        let left = stride(from: 0, to: wav.samples.count, by: 2).filter { wav.samples[$0] != 0 }.count
        let right = stride(from: 1, to: wav.samples.count, by: 2).filter { wav.samples[$0] != 0 }.count
        #expect(left > wav.rate / 2 && right > wav.rate / 2, "non-zero samples: left \(left), right \(right)")

        // The file sits under <data>/recordings/<tenant>/<day>/<id>.wav until the recording is deleted.
        let store = try TandemStore(directory: server.data)
        let row = try #require(try store.recording(id: recordingID))
        let file = server.data + "/recordings/" + row.path
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(try await api("DELETE", url + "/api/v1/recordings/\(recordingID)", token: token).status == 204)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try await api("GET", url + "/api/v1/recordings/\(recordingID)", token: token).status == 404)
        await base.stop(server)
    }

    /// Extension 200's option "record calls": its calls are recorded from answer to hang-up without any API call;
    /// the row is finished when the call ends, with the file's size and length, and a webhook sees both events.
    @Test(.timeLimit(.minutes(2)))
    func extensionWithRecordCallsIsRecordedAutomatically() async throws {
        let server = try await base.startServer()
        do {
            let store = try TandemStore(directory: server.data)
            let tenant = try #require(try store.tenant(domain: "127.0.0.1"))
            let ext = try #require(try store.extensionRecord(tenantID: tenant.id, number: "200"))
            var settings = ext.settings
            settings.recordsCalls = true
            _ = try store.updateExtension(id: ext.id, settings: settings)
            try store.insertWebhook(WebhookRecord(id: "rec-hook", tenantID: tenant.id, url: "http://127.0.0.1:9/hook",
                                                  events: ["call.recording.*"], secret: "whsec_rec", isEnabled: true, createdAt: Date()))
        }
        let calleePort = SIPInteropTests.freePort(udp: true)
        try await base.registerCallee(server, local: calleePort)
        async let uas = base.sipp("b2bua-uas.xml", port: server.udp, local: calleePort, service: "200",
                                  extra: ["-rtp_echo", "-mp", String(SIPInteropTests.freePort(udp: true) & ~1)])
        let caller = try await base.sipp("b2bua-uac.xml", port: server.udp, local: SIPInteropTests.freePort(udp: true),
                                         service: "200", extra: base.caller + ["-mp", String(SIPInteropTests.freePort(udp: true) & ~1)])
        let callee = try await uas
        #expect(caller.status == 0 && caller.successful == 1, "caller: \(caller.output.suffix(2500))")
        #expect(callee.status == 0 && callee.successful == 1, "callee: \(callee.output.suffix(2500))")
        #expect(try await base.openLegsAfterSettling(server) == 0)
        // The row is finished in the call's media chain, before its session goes: bounded wait for it.
        let store = try TandemStore(directory: server.data)
        var finished: CallRecording?
        for _ in 0..<50 {
            if let r = try store.recordings(RecordingQuery()).first?.recording, r.endedAt != nil { finished = r; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let r = try #require(finished, "no finished recording; server: \(server.process.stderr.all.suffix(3000))")
        #expect(r.caller == "100" && r.callee == "200")
        #expect(r.durationMilliseconds > 500 && r.durationMilliseconds < 3000, "\(r)")
        let file = server.data + "/recordings/" + r.path
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
        #expect(size == r.sizeBytes && r.sizeBytes > 44)
        var outbox: [String] = []
        for _ in 0..<50 {  // the finished event follows the row's update
            outbox = try store.webhookDeliveries(webhookID: "rec-hook").map(\.eventType)
            if outbox.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(outbox == ["call.recording.started", "call.recording.finished"], "\(outbox)")
        await base.stop(server)
    }
}
