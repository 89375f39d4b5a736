import Codecs
import Foundation
import MediaControl
import MediaEngine
import RTP
import SDP
import Testing

/// Tandem's ng conference commands against a running engine: rooms on a worker, participants on real sockets.
@Suite struct NGConferenceTests {
    typealias C = NGControllerTests

    static func join(_ room: String, _ participant: String, sdp: String, extra: [String: BencodeValue] = [:]) -> NGRequest {
        var r = NGRequest(command: .conferenceJoin)
        r.sdp = sdp
        r.extra = extra
        r.extra["room"] = .string(room)
        r.extra["participant"] = .string(participant)
        return r
    }

    static func command(_ command: NGCommand, _ room: String, _ extra: [String: BencodeValue] = [:]) -> NGRequest {
        var r = NGRequest(command: command)
        r.extra = extra
        r.extra["room"] = .string(room)
        return r
    }

    static func offer(port: Int, formats: String, rtpmaps: [String] = [], video: (port: Int, lines: [String])? = nil) -> String {
        var lines = ["v=0", "o=p 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", "m=audio \(port) RTP/AVP \(formats)"]
        lines += rtpmaps
        lines.append("a=sendrecv")
        if let video { lines += ["m=video \(video.port) RTP/AVPF 96"] + video.lines }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Up to `count` datagrams already queued at `endpoint` (or arriving within 300 ms each), RTP only.
    static func collect(_ endpoint: RelayEndpoint, count: Int) -> [PipelineOutputPacket] {
        var out: [PipelineOutputPacket] = []
        while out.count < count, let d = endpoint.receive(timeoutMS: 300) {
            guard d.bytes.count >= 12, d.bytes[1] & 0x7F < 72 || d.bytes[1] & 0x7F > 76 else { continue }
            out.append(PipelineOutputPacket(
                payloadType: d.bytes[1] & 0x7F, hasMarker: d.bytes[1] & 0x80 != 0,
                sequenceNumber: UInt16(d.bytes[2]) << 8 | UInt16(d.bytes[3]),
                timestamp: d.bytes[4..<8].reduce(0) { $0 << 8 | UInt32($1) },
                ssrc: d.bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }, payload: Array(d.bytes[12...]), producedAtMs: 0))
        }
        return out
    }

    static let pcmu = AudioEndpointFormat(codec: .pcmu, payloadType: 0)
    static let g722 = AudioEndpointFormat(codec: .g722, payloadType: 9)
    static let opus = AudioEndpointFormat(codec: .opus, payloadType: 111)

    @Test func threePartiesOnDifferentCodecsEachHearTheOtherTwoAndNotThemselves() async throws {
        let engine = try makeEngine(ports: 46000...46099)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let parties: [(name: String, format: AudioEndpointFormat, sdpFormats: String, maps: [String], hz: Double)] = [
            ("a", Self.pcmu, "0", [], 500), ("b", Self.g722, "9", [], 1100),
            ("c", Self.opus, "111", ["a=rtpmap:111 opus/48000/2"], 1700),
        ]
        var endpoints: [RelayEndpoint] = []
        var ports: [Int] = []
        for p in parties {
            let e = try RelayEndpoint(host: "127.0.0.1")
            let answer = try C.rewritten(await controller.execute(
                Self.join("room-3", p.name, sdp: Self.offer(port: e.port, formats: p.sdpFormats, rtpmaps: p.maps))))
            #expect(answer.media[0].formats == [p.sdpFormats])
            #expect(answer.media[0].ptime == 20)
            #expect(answer.media[0].connections.first?.address == "192.0.2.10")
            endpoints.append(e)
            ports.append(Int(answer.media[0].port))
        }
        let (e0, e1, e2) = (endpoints[0], endpoints[1], endpoints[2])
        let (p0, p1, p2) = (ports[0], ports[1], ports[2])
        async let s0: Void = TerminatingEngineTests.sendTone(500, seconds: 1.2, format: Self.pcmu, from: e0, to: p0, ssrc: 0xA)
        async let s1: Void = TerminatingEngineTests.sendTone(1100, seconds: 1.2, format: Self.g722, from: e1, to: p1, ssrc: 0xB)
        async let s2: Void = TerminatingEngineTests.sendTone(1700, seconds: 1.2, format: Self.opus, from: e2, to: p2, ssrc: 0xC)
        _ = try await (s0, s1, s2)

        for (i, p) in parties.enumerated() {
            let packets = Self.collect(endpoints[i], count: 60)
            #expect(packets.count >= 50, "\(p.name) received \(packets.count) packets")
            #expect(Set(packets.map(\.ssrc)).count == 1)
            let heard = try PipelineTestSupport.decode(packets, format: p.format)
            // Past the jitter buffer's start and talker selection.
            let middle = heard.pcm.dropFirst(heard.rate * 4 / 10).prefix(heard.rate / 2)
            let own = PipelineTestSupport.goertzel(middle, hz: p.hz, rate: heard.rate)
            for (j, other) in parties.enumerated() where j != i {
                let theirs = PipelineTestSupport.goertzel(middle, hz: other.hz, rate: heard.rate)
                #expect(theirs > 20 * own, "\(p.name) hears \(other.name) at \(theirs), itself at \(own)")
            }
        }

        guard case .fields(let stats) = await controller.execute(Self.command(.conferenceQuery, "room-3")) else {
            Issue.record("query failed")
            return
        }
        #expect(stats["participant-count"] == .integer(3))
        #expect(stats["encode-groups"].flatMap(\.integerValue).map { $0 >= 3 } == true)
    }

    @Test func leavingTheLastParticipantDestroysTheRoomAndReturnsItsPorts() async throws {
        let engine = try makeEngine(ports: 46100...46109)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        for round in 0..<3 {
            // Five pairs in the range: three rounds of four joins would exhaust it if leaving leaked ports.
            for n in 0..<4 {
                let reply = await controller.execute(Self.join("r", "p\(n)", sdp: Self.offer(port: a.port, formats: "8")))
                #expect(C.errorReason(reply) == nil, "round \(round) join \(n): \(reply)")
            }
            #expect(engine.room(id: "r") != nil)
            for n in 0..<4 {
                #expect(await controller.execute(Self.command(.conferenceLeave, "r", ["participant": .string("p\(n)")])) == .ok())
            }
            #expect(engine.room(id: "r") == nil)
            #expect(C.errorReason(await controller.execute(Self.command(.conferenceQuery, "r"))) == "Unknown room")
        }
        #expect(engine.sessionsPerWorker == [0])
    }

    @Test func badRequestsGetErrorsAndGarbageIsCountedOnItsSenderOnly() async throws {
        let engine = try makeEngine(ports: 46200...46249)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")

        #expect(C.errorReason(await controller.execute(NGRequest(command: .conferenceJoin))) == "No room given")
        var noSDP = Self.join("bad", "x", sdp: "")
        noSDP.sdp = nil
        #expect(C.errorReason(await controller.execute(noSDP)) == "Failed to parse SDP")
        #expect(C.errorReason(await controller.execute(Self.join("bad", "x", sdp: Self.offer(port: a.port, formats: "18")))) != nil)
        #expect(engine.room(id: "bad") == nil)
        #expect(C.errorReason(await controller.execute(
            Self.join("bad", "x", sdp: Self.offer(port: a.port, formats: "0"), extra: ["room-rate": .integer(11025)]))) == "Invalid room settings")
        #expect(C.errorReason(await controller.execute(Self.command(.conferenceUpdate, "nope", ["locked": .string("yes")]))) == "Unknown room")

        let toA = try C.rewritten(await controller.execute(Self.join("g", "a", sdp: Self.offer(port: a.port, formats: "0"))))
        let toB = try C.rewritten(await controller.execute(Self.join("g", "b", sdp: Self.offer(port: b.port, formats: "0"))))
        #expect(C.errorReason(await controller.execute(Self.command(.conferenceUpdate, "g", ["participant": .string("zz"), "muted": .string("yes")]))) == "Unknown participant")
        // Locked rooms refuse newcomers.
        #expect(await controller.execute(Self.command(.conferenceUpdate, "g", ["locked": .string("yes")])) == .ok())
        #expect(C.errorReason(await controller.execute(Self.join("g", "c", sdp: Self.offer(port: b.port, formats: "0"))))?.contains("locked") == true)

        // A sends garbage and a wrong payload type; B keeps being served.
        for i in 0..<20 { a.send([0x80, 0x63, 0, UInt8(i), 0, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0xFF, count: 160), to: Int(toA.media[0].port)) }
        for _ in 0..<5 { a.send([1, 2, 3], to: Int(toA.media[0].port)) }
        try await TerminatingEngineTests.sendTone(800, seconds: 0.4, format: Self.pcmu, from: b, to: Int(toB.media[0].port), ssrc: 0xB)
        let atA = Self.collect(a, count: 15)
        #expect(atA.count == 15)
        guard case .fields(let stats) = await controller.execute(Self.command(.conferenceQuery, "g")),
              case .list(let participants) = stats["participants"] else {
            Issue.record("query failed")
            return
        }
        func counter(_ name: String, _ key: String) -> Int64? {
            for p in participants {
                guard let d = p.dictionaryValue, d[Array("participant".utf8)]?.stringValue == name else { continue }
                return d[Array(key.utf8)]?.integerValue
            }
            return nil
        }
        #expect(counter("a", "unknown-payload-types") == 20)
        #expect(counter("b", "unknown-payload-types") == 0)
        #expect(counter("b", "frames-decoded").map { $0 > 10 } == true)
    }

    @Test func videoFollowsTheSpeakerWithAKeyframeRequestAndOneStreamPerReceiver() async throws {
        let engine = try makeEngine(ports: 46300...46349)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let videoLines = ["a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 ccm fir", "a=rtcp-mux"]
        var audio: [RelayEndpoint] = []
        var video: [RelayEndpoint] = []
        var audioPorts: [Int] = []
        var videoPorts: [Int] = []
        for (name, ssrc) in [("a", 0xA0A), ("b", 0xB0B), ("c", 0xC0C)] {
            let ae = try RelayEndpoint(host: "127.0.0.1")
            let ve = try RelayEndpoint(host: "127.0.0.1")
            let answer = try C.rewritten(await controller.execute(Self.join(
                "v", name, sdp: Self.offer(port: ae.port, formats: "0", video: (ve.port, videoLines + ["a=ssrc:\(ssrc) cname:\(name)"])))))
            #expect(answer.media.count == 2)
            #expect(answer.media[1].formats == ["96"])
            audio.append(ae)
            video.append(ve)
            audioPorts.append(Int(answer.media[0].port))
            videoPorts.append(Int(answer.media[1].port))
        }
        // B talks: its video becomes the source, and it is asked for a keyframe (RTCP on the RTP port: rtcp-mux).
        try await TerminatingEngineTests.sendTone(700, seconds: 0.5, format: Self.pcmu, from: audio[1], to: audioPorts[1], ssrc: 0xB)
        var sawPLI = false
        while let d = video[1].receive(timeoutMS: 300) {
            if d.bytes.count >= 12, d.bytes[1] == 206, d.bytes[0] & 0x1F == 1 { sawPLI = true }
        }
        #expect(sawPLI)
        // A VP8 keyframe (payload descriptor S=1, PID 0; P bit clear), then inter frames.
        for i in 0..<10 {
            let descriptor: [UInt8] = [0x10]
            let header: [UInt8] = i == 0 ? [0x10, 0x02, 0x00] : [0x11, 0x02, 0x00]
            video[1].send(makeRTP(sequence: UInt16(100 + i), timestamp: UInt32(i * 3000), ssrc: 0xB0B, payloadType: 96,
                                  payload: descriptor + header + [UInt8](repeating: 0x55, count: 200)), to: videoPorts[1])
        }
        for receiver in [0, 2] {
            var packets: [[UInt8]] = []
            while packets.count < 10, let d = video[receiver].receive(timeoutMS: 500) {
                if d.bytes.count > 12, d.bytes[1] & 0x7F == 96 { packets.append(d.bytes) }
            }
            #expect(packets.count == 10, "receiver \(receiver) got \(packets.count)")
            #expect(Set(packets.map(ssrc(of:))).count == 1)
            #expect(!packets.contains { ssrc(of: $0) == 0xB0B })
            let sequences = packets.map(sequence(of:))
            #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        }
        // The source does not get its own video back.
        var echoed = 0
        while let d = video[1].receive(timeoutMS: 100) { if d.bytes.count > 12, d.bytes[1] & 0x7F == 96 { echoed += 1 } }
        #expect(echoed == 0)
    }
}
