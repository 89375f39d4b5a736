import Codecs
import Foundation
import MediaControl
@testable import MediaEngine
import RTP
import SDP
import Testing

/// Conference rooms spread over several media workers (`room-workers` / `spreadAcrossWorkers`): participants decode
/// and encode on their own worker, the mixing runs on the room's worker, frames cross over SPSC rings.
@Suite struct SpreadConferenceTests {
    typealias C = NGControllerTests
    typealias N = NGConferenceTests

    /// A port range of `count` ports at a random place, so that parallel test runs do not collide.
    static func ports(_ count: Int) -> ClosedRange<Int> {
        let base = 2 * Int.random(in: 23_500...(29_000 - count))
        return base...(base + count - 1)
    }

    struct Party {
        let name: String
        let format: AudioEndpointFormat
        let sdpFormats: String
        let maps: [String]
        let hz: Double
    }

    static let parties = [
        Party(name: "a", format: N.pcmu, sdpFormats: "0", maps: [], hz: 500),
        Party(name: "b", format: N.g722, sdpFormats: "9", maps: [], hz: 1100),
        Party(name: "c", format: N.opus, sdpFormats: "111", maps: ["a=rtpmap:111 opus/48000/2"], hz: 1700),
    ]

    /// Joins the three parties to `room`, the first join asking for `workers` room workers; returns endpoints and
    /// the ports Tandem answered with.
    static func joinThree(_ controller: NGCallController, room: String, workers: Int) async throws
        -> (endpoints: [RelayEndpoint], ports: [Int])
    {
        var endpoints: [RelayEndpoint] = []
        var ports: [Int] = []
        for p in parties {
            let e = try RelayEndpoint(host: "127.0.0.1")
            let answer = try C.rewritten(await controller.execute(N.join(
                room, p.name, sdp: N.offer(port: e.port, formats: p.sdpFormats, rtpmaps: p.maps),
                extra: ["room-workers": .integer(Int64(workers))])))
            #expect(answer.media[0].formats == [p.sdpFormats])
            endpoints.append(e)
            ports.append(Int(answer.media[0].port))
        }
        return (endpoints, ports)
    }

    /// The tone powers party `i` hears (by party), measured past the jitter buffer's start.
    static func heard(_ endpoint: RelayEndpoint, _ party: Party) throws -> [Double] {
        let packets = N.collect(endpoint, count: 60)
        #expect(packets.count >= 50, "\(party.name) received \(packets.count) packets")
        #expect(Set(packets.map(\.ssrc)).count == 1)
        let heard = try PipelineTestSupport.decode(packets, format: party.format)
        let middle = heard.pcm.dropFirst(heard.rate * 4 / 10).prefix(heard.rate / 2)
        return parties.map { PipelineTestSupport.goertzel(middle, hz: $0.hz, rate: heard.rate) }
    }

    static func sendTones(_ endpoints: [RelayEndpoint], _ ports: [Int], only: Set<Int> = [0, 1, 2], seconds: Double = 1.2)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in only.sorted() {
                let p = parties[i]
                group.addTask {
                    try await TerminatingEngineTests.sendTone(p.hz, seconds: seconds, format: p.format, from: endpoints[i],
                                                              to: ports[i], ssrc: UInt32(0xA + i))
                }
            }
            try await group.waitForAll()
        }
    }

    @Test(arguments: [1, 3])
    func threePartiesEachHearTheOtherTwoAndNotThemselves(workers: Int) async throws {
        let engine = try makeEngine(workers: 3, ports: Self.ports(90))
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let (endpoints, ports) = try await Self.joinThree(controller, room: "big", workers: workers)
        // Spread: one participant session on each worker; unspread: all three on the room's worker.
        #expect(engine.sessionsPerWorker.sorted() == (workers == 3 ? [1, 1, 1] : [0, 0, 3]))
        try await Self.sendTones(endpoints, ports)
        for (i, p) in Self.parties.enumerated() {
            let powers = try Self.heard(endpoints[i], p)
            for j in Self.parties.indices where j != i {
                #expect(powers[j] > 20 * powers[i], "\(p.name) hears \(Self.parties[j].name) at \(powers[j]), itself at \(powers[i])")
            }
        }
        guard case .fields(let stats) = await controller.execute(N.command(.conferenceQuery, "big")) else {
            Issue.record("query failed")
            return
        }
        #expect(stats["participant-count"] == .integer(3))
        if let room = engine.room(id: "big") {
            let snapshot = try await engine.statistics(of: room)
            #expect(snapshot.participants.map(\.participant).sorted() == [0, 1, 2])
            #expect(snapshot.room.packetsSent >= 150)
        }
    }

    @Test func muteKickAndLeaveWorkAcrossWorkers() async throws {
        let engine = try makeEngine(workers: 2, ports: Self.ports(60))
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let (endpoints, ports) = try await Self.joinThree(controller, room: "mk", workers: 2)
        #expect(engine.sessionsPerWorker.sorted() == [1, 2])
        let room = try #require(engine.room(id: "mk"))
        // B (on the other worker than A and C) is muted: A and C hear only each other.
        #expect(await controller.execute(N.command(.conferenceUpdate, "mk", ["participant": .string("b"), "muted": .string("yes")])) == .ok())
        try await Self.sendTones(endpoints, ports)
        let atA = try Self.heard(endpoints[0], Self.parties[0])
        #expect(atA[2] > 20 * atA[1], "A hears C at \(atA[2]), muted B at \(atA[1])")
        let atC = try Self.heard(endpoints[2], Self.parties[2])
        #expect(atC[0] > 20 * atC[1], "C hears A at \(atC[0]), muted B at \(atC[1])")
        // Kicking C (the third join: shard 0, local index 1, room index 2) reports `kicked` on C's leg under the
        // room's handle. (Through the engine: ng's kick deletes the session before the event is drained.)
        let before = try await engine.statistics(of: room)
        let legOfC = try #require(before.participants.first { $0.participant == 2 }?.leg)
        async let kicked = nextEvent(engine) { $0.kind == .kicked }
        try await engine.update(room, participant: 2, .kick)
        let event = await kicked
        #expect(event?.room == room)
        #expect(event?.leg == legOfC)
        let snapshot = try await engine.statistics(of: room)
        #expect(snapshot.room.participants == 2)
        // Leaving everyone destroys the room and frees every session on both workers.
        for name in ["a", "b", "c"] {
            _ = await controller.execute(N.command(.conferenceLeave, "mk", ["participant": .string(name)]))
        }
        #expect(engine.room(id: "mk") == nil)
        #expect(engine.sessionsPerWorker == [0, 0])
    }

    @Test func participantsJoiningAndLeavingWhileTheRoomRunsDoNotDisturbIt() async throws {
        let engine = try makeEngine(workers: 3, ports: Self.ports(120))
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let (endpoints, ports) = try await Self.joinThree(controller, room: "churn", workers: 3)
        let extra = try RelayEndpoint(host: "127.0.0.1")
        async let tones: Void = Self.sendTones(endpoints, ports, seconds: 1.6)
        // Joins and leaves on every worker while A, B and C talk.
        for round in 0..<12 {
            let name = "x\(round % 4)"
            let reply = await controller.execute(N.join("churn", name, sdp: N.offer(port: extra.port, formats: "8")))
            #expect(C.errorReason(reply) == nil, "join \(round): \(reply)")
            if round % 2 == 1 {
                #expect(await controller.execute(N.command(.conferenceLeave, "churn", ["participant": .string(name)])) == .ok())
            }
        }
        try await tones
        let atA = try Self.heard(endpoints[0], Self.parties[0])
        #expect(atA[1] > 20 * atA[0] && atA[2] > 20 * atA[0], "A hears \(atA)")
        let room = try #require(engine.room(id: "churn"))
        let snapshot = try await engine.statistics(of: room)
        #expect(snapshot.room.participants == 5) // a, b, c, x0, x2
        for name in ["a", "b", "c", "x0", "x2"] {
            #expect(await controller.execute(N.command(.conferenceLeave, "churn", ["participant": .string(name)])) == .ok())
        }
        #expect(engine.sessionsPerWorker == [0, 0, 0])
    }

    @Test func spreadRoomsRefuseWhatOnlyOneWorkerCanDo() async throws {
        let engine = try makeEngine(workers: 2, ports: Self.ports(20))
        defer { engine.stop() }
        let room = try await engine.createRoom(id: "r", configuration: ConferenceRoomConfiguration(spreadAcrossWorkers: 2))
        await #expect(throws: ConferenceControlError.room(.invalidConfiguration)) {
            try await engine.play(PlaybackRequest(.tones("440/100")), in: room)
        }
        await #expect(throws: ConferenceControlError.room(.noSuchParticipant(-1))) {
            try await engine.leave(room, participant: -1)
        }
        try await engine.destroyRoom(room)
        #expect(engine.room(id: "r") == nil)
    }

    @Test func ringHandsFramesOverInOrderBetweenTwoThreads() async throws {
        let ring = ConferenceFrameRing(slotBytes: 64, capacity: 4)
        let total = 20_000
        let producer = Thread {
            var i = 0
            while i < total {
                guard let slot = ring.producerSlot() else { continue }
                slot.storeBytes(of: i, as: Int.self)
                slot.storeBytes(of: i &* 7, toByteOffset: 8, as: Int.self)
                ring.publish()
                i += 1
            }
        }
        producer.start()
        var expected = 0
        var bad = 0
        let deadline = Date().addingTimeInterval(20)
        while expected < total, Date() < deadline {
            guard let slot = ring.consumerSlot() else { continue }
            if slot.load(as: Int.self) != expected || slot.load(fromByteOffset: 8, as: Int.self) != expected &* 7 { bad += 1 }
            ring.release()
            expected += 1
        }
        #expect(expected == total)
        #expect(bad == 0)
        #expect(ring.count == 0)
    }
}
