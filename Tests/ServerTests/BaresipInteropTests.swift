import Foundation
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two real softphones (baresip, Debian `baresip-core`) register to `tandem serve` and call each other through
/// the B2BUA; each plays a tone from a WAV file (`aufile`) and records what it hears (`sndfile`). The tone of each
/// side is found at the right frequency in the other side's recording: audio flowed both ways through Tandem's
/// engine. Once with both on PCMU (relayed), once with the caller offering only Opus and the callee only PCMU
/// (transcoded).
@Suite(.serialized) struct BaresipInteropTests {
    static func baresipPath() -> String? {
        ["/usr/bin/baresip", "/usr/local/bin/baresip"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A 16-bit PCM WAV of a sine at `hz`.
    static func writeTone(_ path: String, hz: Double, rate: Int, channels: Int, seconds: Double) throws {
        let frames = Int(Double(rate) * seconds)
        var data = Data(capacity: frames * channels * 2 + 44)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + frames * channels * 2)); data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(UInt16(channels)); u32(UInt32(rate))
        u32(UInt32(rate * channels * 2)); u16(UInt16(channels * 2)); u16(16)
        data.append(contentsOf: Array("data".utf8)); u32(UInt32(frames * channels * 2))
        for i in 0..<frames {
            let v = Int16(8000 * sin(2 * Double.pi * hz * Double(i) / Double(rate)))
            for _ in 0..<channels { u16(UInt16(bitPattern: v)) }
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// The first channel of a 16-bit PCM WAV, and its rate.
    static func readWAV(_ path: String) throws -> (samples: [Int16], rate: Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u32(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24 }
        var offset = 12
        var rate = 8000
        var channels = 1
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            if id == "fmt " {
                channels = Int(bytes[offset + 10]) | Int(bytes[offset + 11]) << 8
                rate = u32(offset + 12)
            } else if id == "data" {
                let end = min(bytes.count, offset + 8 + size)
                var samples: [Int16] = []
                var o = offset + 8
                while o + 1 < end {
                    samples.append(Int16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
                    o += 2 * channels
                }
                return (samples, rate)
            }
            offset += 8 + size + (size & 1)
        }
        return ([], rate)
    }

    /// Power of `hz` in `pcm` (Goertzel), per sample.
    static func power(_ pcm: ArraySlice<Int16>, hz: Double, rate: Int) -> Double {
        let c = 2 * cos(2 * Double.pi * hz / Double(rate))
        var s1 = 0.0, s2 = 0.0
        for x in pcm { let s0 = Double(x) + c * s1 - s2; s2 = s1; s1 = s0 }
        return (s1 * s1 + s2 * s2 - c * s1 * s2) / Double(max(1, pcm.count))
    }

    struct Phone {
        let directory: String
        let recordings: String
    }

    /// A baresip configuration directory for `number`, on its own SIP port, playing `wav`, offering `codec`.
    static func phone(_ root: String, number: String, password: String, sipPort: Int, server: Int, wav: String,
                      codec: String) throws -> Phone {
        let dir = root + "/" + number
        let recordings = dir + "/rec"
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let config = """
            sip_listen 127.0.0.1:\(sipPort)
            net_interface 127.0.0.1
            dns_server 127.0.0.1:53
            module_path /usr/lib/baresip/modules
            module g711.so
            module opus.so
            module aufile.so
            module sndfile.so
            module_app account.so
            module_app menu.so
            audio_source aufile,\(wav)
            audio_player aufile,/dev/null
            snd_path \(recordings)

            """
        try config.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let account = "<sip:\(number)@127.0.0.1:\(server)>;auth_pass=\(password);regint=60;answermode=auto;audio_codecs=\(codec)\n"
        try account.write(toFile: dir + "/accounts", atomically: true, encoding: .utf8)
        return Phone(directory: dir, recordings: recordings)
    }

    /// The decoded-audio recording sndfile wrote in `phone`'s directory.
    static func heard(_ phone: Phone) throws -> (samples: [Int16], rate: Int) {
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: phone.recordings).first { $0.hasSuffix("-dec.wav") })
        return try readWAV(phone.recordings + "/" + name)
    }

    @Test(arguments: [false, true])
    func twoPhonesHearEachOthersToneThroughTandem(transcoded: Bool) async throws {
        let baresip = try #require(Self.baresipPath(), "baresip is not installed (Debian package baresip-core)")
        let data = temporaryDataDirectory()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        do {
            let store = try TandemStore(directory: data)
            let tenant = try store.createTenant(name: "Phones", domain: "127.0.0.1")
            try store.createExtension(tenantID: tenant.id, number: "100", sipPassword: "baresip-100-secret")
            try store.createExtension(tenantID: tenant.id, number: "200", sipPassword: "baresip-200-secret")
        }
        let first = 32_000 + Int.random(in: 0..<30) * 100
        let server = try TandemProcess(
            arguments: ["serve", "--data", data, "--rtp-ports", "\(first)-\(first + 99)", "--workers", "1"] + ephemeralListeners,
            environment: ["TANDEM_ADMIN_PASSWORD": "operator-chosen-1"])
        defer { server.signal(SIGTERM) }
        let ready = await server.stdout.line(where: { $0.contains("SIP listening on udp ") }, within: 60)
        let sipPort = try #require(ready.flatMap { Int($0.split(separator: ":").last ?? "") }, "server: \(server.stderr.all)")

        // Caller 100 plays 440 Hz, callee 200 plays 1000 Hz. baresip's aufile does not convert: the file matches the codec.
        let root = data + "/phones"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let callerWAV = root + "/caller.wav", calleeWAV = root + "/callee.wav"
        try Self.writeTone(callerWAV, hz: 440, rate: transcoded ? 48000 : 8000, channels: transcoded ? 2 : 1, seconds: 10)
        try Self.writeTone(calleeWAV, hz: 1000, rate: 8000, channels: 1, seconds: 10)
        let base = 41_000 + Int.random(in: 0..<400) * 10
        let caller = try Self.phone(root, number: "100", password: "baresip-100-secret", sipPort: base, server: sipPort,
                                    wav: callerWAV, codec: transcoded ? "opus/48000/2" : "pcmu")
        let callee = try Self.phone(root, number: "200", password: "baresip-200-secret", sipPort: base + 2, server: sipPort,
                                    wav: calleeWAV, codec: "pcmu")

        let answering = try TandemProcess(executable: baresip, arguments: ["-f", callee.directory, "-t", "20"])
        defer { if answering.process.isRunning { answering.signal(SIGKILL) } }
        let registered = await answering.stdout.line(where: { $0.contains("200 OK") && $0.contains("binding") }, within: 15)
        try #require(registered != nil, "callee did not register: \(answering.stdout.all.suffix(2000))")

        let (_, out, err) = try await runProcess(baresip, ["-f", caller.directory, "-e", "/dial sip:200@127.0.0.1:\(sipPort)", "-t", "6"],
                                                 within: 20)
        #expect(out.contains("Set audio encoder: \(transcoded ? "opus" : "PCMU")"), "caller: \(out.suffix(2000)) \(err.suffix(500))")
        answering.signal(SIGTERM)
        _ = await answering.waitForExit(within: 10)

        let atCallee = try Self.heard(callee)
        let atCaller = try Self.heard(caller)
        for (name, heard, theirs, own) in [("callee", atCallee, 440.0, 1000.0), ("caller", atCaller, 1000.0, 440.0)] {
            // A second from the start of the call: past ringing, jitter buffers and the first packets.
            #expect(heard.samples.count > heard.rate * 3, "\(name) recorded \(heard.samples.count) samples")
            let window = heard.samples.dropFirst(heard.rate).prefix(heard.rate)
            let tone = Self.power(window, hz: theirs, rate: heard.rate)
            let echo = Self.power(window, hz: own, rate: heard.rate)
            let off = Self.power(window, hz: 2 * theirs + 130, rate: heard.rate)
            #expect(tone > 100 * max(echo, off, 1), "\(name): \(theirs) Hz \(tone), own \(own) Hz \(echo), elsewhere \(off)")
        }
        // The call is in the store, relayed or transcoded as negotiated.
        server.signal(SIGTERM)
        _ = await server.waitForExit(within: 20)
        let records = try TandemStore(directory: data).callRecords(limit: 10)
        #expect(records.count == 1)
        #expect(records.first?.endReason == .normal)
    }
}
