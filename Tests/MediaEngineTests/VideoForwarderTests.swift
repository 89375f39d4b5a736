#if canImport(Glibc)
import Glibc
#endif
@testable import MediaEngine
import RTP
import TandemBase
import Testing

/// Records what a forwarder sends, copying the borrowed bytes.
struct VideoCapturingSink: VideoForwarderSink {
    var rtp: [(participant: Int, bytes: [UInt8])] = []
    var rtcp: [(participant: Int, bytes: [UInt8])] = []

    mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
        rtp.append((participant, Array(packet)))
    }

    mutating func sendRTCP(participant: Int, packet: UnsafeRawBufferPointer) {
        rtcp.append((participant, Array(packet)))
    }
}

/// One decoded outgoing RTP packet.
struct VideoSent: Equatable {
    var receiver: Int
    var payloadType: UInt8
    var marker: Bool
    var sequence: UInt16
    var timestamp: UInt32
    var ssrc: UInt32
    var payload: [UInt8]
}

/// A keyframe request or NACK as the source sees it.
enum VideoFeedback: Equatable {
    case pli(sender: UInt32, media: UInt32)
    case fir(sender: UInt32, target: UInt32, sequence: UInt8)
    case nack(sender: UInt32, media: UInt32, lost: [UInt16])
    case other
}

/// A room of simulated video participants driving one forwarder in virtual time.
///
/// Every participant sends one frame every 33 ms; a participant that was sent a PLI or FIR since its
/// last frame makes its next frame a keyframe (unless `ignoresKeyframeRequests`). Each packet's
/// payload carries the sender's index at offset 2 so tests can tell whose video a receiver got.
struct VideoRoom {
    struct Source {
        var ssrc: UInt32
        var sequence: UInt16
        var timestamp: UInt32
        var payloadType: UInt8
        var kind: VideoCodecKind
        var keyframeRequested = false
        var ignoresKeyframeRequests = false
    }

    let forwarder: VideoForwarder
    var sink = VideoCapturingSink()
    var now: UInt64 = 1_000_000_000
    var sources: [Int: Source] = [:]
    var rtcpSeen = 0

    init(configuration: VideoForwarderConfiguration = VideoForwarderConfiguration(capacity: 8)) {
        forwarder = VideoForwarder(configuration: configuration)
    }

    static func outgoingSSRC(_ p: Int) -> UInt32 { 0xA000_0000 + UInt32(p) }

    mutating func join(
        _ p: Int, kind: VideoCodecKind = .vp8, payloadType: UInt8 = 96, variant: UInt16 = 0, fir: Bool = false,
        signalSSRC: Bool = true, sequence: UInt16 = 1000, timestamp: UInt32 = 5000
    ) throws {
        let ssrc = 0x1000 + UInt32(p)
        let format = VideoParticipantFormat(
            formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: payloadType)!, kind: kind, variant: variant)],
            outgoingSSRC: SSRC(Self.outgoingSSRC(p)), supportsFIR: fir,
            sourceSSRC: signalSSRC ? SSRC(ssrc) : nil)
        try forwarder.join(participant: p, format: format, now: now, sink: &sink)
        sources[p] = Source(ssrc: ssrc, sequence: sequence, timestamp: timestamp, payloadType: payloadType, kind: kind)
    }

    /// Notes the keyframe requests the forwarder sent since the last call.
    mutating func absorbFeedback() {
        while rtcpSeen < sink.rtcp.count {
            let (p, bytes) = sink.rtcp[rtcpSeen]
            rtcpSeen += 1
            switch Self.decodeFeedback(bytes) {
            case .pli, .fir: sources[p]?.keyframeRequested = true
            default: break
            }
        }
    }

    static func packet(
        payloadType: UInt8, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool, payload: [UInt8]
    ) -> [UInt8] {
        var b: [UInt8] = [0x80, payloadType | (marker ? 0x80 : 0)]
        b += [UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        b += [UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF)]
        b += [UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        return b + payload
    }

    /// The payloads of one frame of `packets` packets from participant `p`.
    static func framePayloads(kind: VideoCodecKind, keyframe: Bool, packets: Int, p: Int) -> [[UInt8]] {
        (0..<packets).map { i -> [UInt8] in
            let tag = UInt8(p)
            switch kind {
            case .vp8:
                // Descriptor S bit on the first packet; VP8 payload header P bit 0 for a key frame.
                return i == 0 ? [0x10, keyframe ? 0x00 : 0x01, tag, 0xAA] : [0x00, 0x55, tag, 0xAA]
            case .h264:
                // A keyframe: STAP-A(SPS, PPS) then FU-A of an IDR; otherwise FU-A of a non-IDR slice.
                if keyframe {
                    if i == 0 { return [0x78, tag, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE] }
                    return [0x7C, i == 1 ? 0x85 : 0x05, tag, 0x88]
                }
                return [0x7C, i == 0 ? 0x81 : 0x01, tag, 0x9A]
            default:
                return [0x00, 0x00, tag]
            }
        }
    }

    /// Participant `p` sends one frame now; returns whether it was a keyframe.
    @discardableResult
    mutating func sendFrame(from p: Int, packets: Int = 2, forceKeyframe: Bool = false) -> Bool {
        absorbFeedback()
        var s = sources[p]!
        let keyframe = forceKeyframe || (s.keyframeRequested && !s.ignoresKeyframeRequests)
        s.keyframeRequested = false
        let payloads = Self.framePayloads(kind: s.kind, keyframe: keyframe, packets: packets, p: p)
        for (i, payload) in payloads.enumerated() {
            let bytes = Self.packet(
                payloadType: s.payloadType, sequence: s.sequence, timestamp: s.timestamp, ssrc: s.ssrc,
                marker: i == payloads.count - 1, payload: payload)
            s.sequence &+= 1
            bytes.withUnsafeBytes { forwarder.receiveRTP(from: p, packet: $0, now: now, sink: &sink) }
        }
        s.timestamp &+= 3000
        sources[p] = s
        return keyframe
    }

    /// Every participant sends a frame, then time moves on 33 ms and the forwarder ticks.
    mutating func step() {
        for p in sources.keys.sorted() { sendFrame(from: p) }
        now += 33_000_000
        forwarder.tick(now: now, sink: &sink)
    }

    mutating func receiveRTCP(from p: Int, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { forwarder.receiveRTCP(from: p, packet: $0, now: now, sink: &sink) }
    }

    /// Every RTP packet sent so far, decoded.
    var sent: [VideoSent] {
        sink.rtp.map { (p, b) in
            VideoSent(
                receiver: p, payloadType: b[1] & 0x7F, marker: b[1] & 0x80 != 0,
                sequence: UInt16(b[2]) << 8 | UInt16(b[3]),
                timestamp: UInt32(b[4]) << 24 | UInt32(b[5]) << 16 | UInt32(b[6]) << 8 | UInt32(b[7]),
                ssrc: UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11]),
                payload: Array(b[12...]))
        }
    }

    func sent(to r: Int) -> [VideoSent] { sent.filter { $0.receiver == r } }

    /// The feedback sent to `p`, decoded.
    func feedback(to p: Int) -> [VideoFeedback] {
        sink.rtcp.filter { $0.participant == p }.map { Self.decodeFeedback($0.bytes) }
    }

    static func decodeFeedback(_ bytes: [UInt8]) -> VideoFeedback {
        bytes.withUnsafeBytes { raw -> VideoFeedback in
            if let pli = try? RTCPPictureLossIndication(parsing: raw) {
                return .pli(sender: pli.senderSSRC.rawValue, media: pli.mediaSSRC.rawValue)
            }
            if let fir = try? RTCPFullIntraRequest(parsing: raw), fir.entryCount == 1 {
                let e = fir.entry(at: 0)
                return .fir(sender: fir.senderSSRC.rawValue, target: e.ssrc.rawValue, sequence: e.sequenceNumber)
            }
            if let nack = try? RTCPGenericNACK(parsing: raw) {
                return .nack(
                    sender: nack.senderSSRC.rawValue, media: nack.mediaSSRC.rawValue,
                    lost: nack.lostSequenceNumbers.map(\.rawValue))
            }
            return .other
        }
    }

    static func pli(sender: UInt32, media: UInt32) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 12)
        b.withUnsafeMutableBytes {
            _ = try! RTCPPictureLossIndicationWriter(senderSSRC: SSRC(sender), mediaSSRC: SSRC(media)).write(to: $0)
        }
        return b
    }

    static func fir(sender: UInt32, target: UInt32, sequence: UInt8) -> [UInt8] {
        let entries = [RTCPFIREntry(ssrc: SSRC(target), sequenceNumber: sequence)]
        var b = [UInt8](repeating: 0, count: 20)
        entries.withUnsafeBufferPointer { e in
            b.withUnsafeMutableBytes { _ = try! RTCPFullIntraRequestWriter(senderSSRC: SSRC(sender), entries: e).write(to: $0) }
        }
        return b
    }

    static func nack(sender: UInt32, media: UInt32, lost: [UInt16]) -> [UInt8] {
        let seqs = lost.map { SequenceNumber($0) }
        var items = [RTCPNACKItem](repeating: RTCPNACKItem(packetID: SequenceNumber(0), lostBitmask: 0), count: lost.count)
        let used = seqs.withUnsafeBufferPointer { s in items.withUnsafeMutableBufferPointer { RTCPGenericNACK.pack(lost: s, into: $0) } }
        var b = [UInt8](repeating: 0, count: 12 + 4 * used)
        items.withUnsafeBufferPointer { i in
            b.withUnsafeMutableBytes {
                _ = try! RTCPGenericNACKWriter(
                    senderSSRC: SSRC(sender), mediaSSRC: SSRC(media), items: UnsafeBufferPointer(rebasing: i[0..<used])
                ).write(to: $0)
            }
        }
        return b
    }

    /// A receiver report with no blocks (RFC 3550 §6.4.2), to build compound packets.
    static func emptyReceiverReport(sender: UInt32) -> [UInt8] {
        [0x80, 201, 0x00, 0x01, UInt8(sender >> 24), UInt8((sender >> 16) & 0xFF), UInt8((sender >> 8) & 0xFF), UInt8(sender & 0xFF)]
    }
}

@Suite struct VideoForwarderTests {
    /// The stream one receiver got: one SSRC, sequence numbers +1 each, timestamps never going back,
    /// and the first packet of every source run is the start of a keyframe.
    static func checkContinuous(_ packets: [VideoSent], receiver r: Int, kind: VideoCodecKind = .vp8) {
        #expect(!packets.isEmpty)
        for (i, p) in packets.enumerated() {
            #expect(p.ssrc == VideoRoom.outgoingSSRC(r))
            // The source never receives its own video.
            #expect(Int(p.payload[2]) != r)
            guard i > 0 else { continue }
            let prev = packets[i - 1]
            #expect(p.sequence == prev.sequence &+ 1, "receiver \(r) packet \(i)")
            let step = Int32(bitPattern: p.timestamp &- prev.timestamp)
            #expect(step >= 0, "receiver \(r) packet \(i)")
            if p.payload[2] != prev.payload[2] {
                // A switch: a plausible positive step (under 2 s) and the new source starts on a keyframe.
                #expect(step > 0 && step < 180_000)
                let isKey = p.payload.withUnsafeBytes { VideoKeyframeDetector.startsKeyframe($0, kind: kind) }
                #expect(isKey == true)
            }
        }
    }

    static func sourcesSeen(_ packets: [VideoSent]) -> [Int] {
        var runs: [Int] = []
        for p in packets where runs.last != Int(p.payload[2]) { runs.append(Int(p.payload[2])) }
        return runs
    }

    @Test func switchingSendsPLIAndFIRToTheNewSource() throws {
        var room = VideoRoom()
        try room.join(0)
        try room.join(1, fir: true)
        try room.join(2)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        #expect(room.feedback(to: 0) == [.pli(sender: VideoRoom.outgoingSSRC(0), media: 0x1000)])
        #expect(room.forwarder.pendingSource == 0)
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        let toOne = room.feedback(to: 1)
        #expect(toOne.count == 2)
        #expect(toOne.contains(.pli(sender: VideoRoom.outgoingSSRC(1), media: 0x1001)))
        #expect(toOne.contains(.fir(sender: VideoRoom.outgoingSSRC(1), target: 0x1001, sequence: 1)))
        #expect(room.feedback(to: 2).isEmpty)
        #expect(room.forwarder.counters.pliSent == 2)
        #expect(room.forwarder.counters.firSent == 1)
        // A flapping speaker: back to 1 within the interval sends nothing new (the request is in flight) …
        room.forwarder.setActiveSpeaker(2, now: room.now, sink: &room.sink)
        room.forwarder.setActiveSpeaker(1, now: room.now + 100_000_000, sink: &room.sink)
        #expect(room.feedback(to: 1).count == 2)
        // … a later one is a new request with the next FIR command sequence number.
        room.forwarder.setActiveSpeaker(2, now: room.now + 200_000_000, sink: &room.sink)
        room.forwarder.setActiveSpeaker(1, now: room.now + 400_000_000, sink: &room.sink)
        #expect(room.feedback(to: 1).count == 4)
        #expect(room.feedback(to: 1).contains(.fir(sender: VideoRoom.outgoingSSRC(1), target: 0x1001, sequence: 3)))
    }

    @Test func continuousStreamPerReceiverAcrossSeveralSwitches() throws {
        var room = VideoRoom()
        // Sequence and timestamp bases near the wrap, different per source; participant 3 uses another PT.
        try room.join(0, signalSSRC: false, sequence: 65_530, timestamp: 0xFFFF_F000)
        try room.join(1, sequence: 10, timestamp: 123_456)
        try room.join(2, sequence: 40_000, timestamp: 0x8000_0000)
        try room.join(3, payloadType: 100, sequence: 7, timestamp: 9)
        var speakers: [Int] = []
        for speaker in [0, 1, 2, 0, 3, 1] {
            room.forwarder.setActiveSpeaker(speaker, now: room.now, sink: &room.sink)
            speakers.append(speaker)
            for _ in 0..<10 { room.step() }
            #expect(room.forwarder.currentSource == speaker)
        }
        #expect(room.forwarder.counters.switchesOnKeyframe == 6)
        #expect(room.forwarder.counters.switchesWithoutKeyframe == 0)
        for r in 0..<4 {
            let packets = room.sent(to: r)
            Self.checkContinuous(packets, receiver: r)
            #expect(Self.sourcesSeen(packets) == speakers.filter { $0 != r }.reduce(into: [Int]()) {
                if $0.last != $1 { $0.append($1) }
            })
            #expect(Set(packets.map(\.payloadType)) == [r == 3 ? 100 : 96])
            let stats = try #require(room.forwarder.receiverStatistics(r))
            #expect(stats.packetsSent == UInt64(packets.count))
            #expect(stats.payloadBytesSent == UInt64(packets.reduce(0) { $0 + $1.payload.count }))
            #expect(stats.lastSequenceNumber.rawValue == packets.last!.sequence)
            #expect(stats.lastTimestamp.rawValue == packets.last!.timestamp)
            #expect(stats.ssrc.rawValue == VideoRoom.outgoingSSRC(r))
        }
        // The first packet a receiver gets carries the initial values derived from its SSRC.
        let format = VideoParticipantFormat(formats: [], outgoingSSRC: SSRC(VideoRoom.outgoingSSRC(1)))
        #expect(room.sent(to: 1).first?.sequence == format.initialSequenceNumber)
        #expect(room.sent(to: 1).first?.timestamp == format.initialTimestamp)
    }

    @Test func switchWaitsForAVP8Keyframe() throws {
        var room = VideoRoom()
        try room.join(0)
        try room.join(1)
        try room.join(2)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        room.step()
        #expect(room.forwarder.currentSource == 0)
        room.sources[1]!.ignoresKeyframeRequests = true
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        for _ in 0..<5 { room.step() }
        // Still the old source while 1 sends only inter frames.
        #expect(room.forwarder.currentSource == 0)
        #expect(room.forwarder.pendingSource == 1)
        #expect(room.forwarder.counters.awaitingKeyframe == 10)
        #expect(room.sent(to: 2).allSatisfy { $0.payload[2] == 0 })
        room.sendFrame(from: 1, forceKeyframe: true)
        #expect(room.forwarder.currentSource == 1)
        room.step()
        Self.checkContinuous(room.sent(to: 2), receiver: 2)
        Self.checkContinuous(room.sent(to: 0), receiver: 0)
        #expect(Self.sourcesSeen(room.sent(to: 2)) == [0, 1])
        #expect(Self.sourcesSeen(room.sent(to: 0)) == [1])
    }

    @Test func switchWaitsForAnH264Keyframe() throws {
        var room = VideoRoom()
        for p in 0..<3 { try room.join(p, kind: .h264, payloadType: 102, variant: 1) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 0)
        room.sources[1]!.ignoresKeyframeRequests = true
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 0)
        // An IDR sent as FU-A only (no SPS first) also ends the wait.
        let s = room.sources[1]!
        let idr = VideoRoom.packet(
            payloadType: 102, sequence: s.sequence, timestamp: s.timestamp, ssrc: s.ssrc, marker: false,
            payload: [0x7C, 0x85, 1, 0x88])
        idr.withUnsafeBytes { room.forwarder.receiveRTP(from: 1, packet: $0, now: room.now, sink: &room.sink) }
        room.sources[1]!.sequence &+= 1
        room.sources[1]!.timestamp &+= 3000
        #expect(room.forwarder.currentSource == 1)
        room.sources[1]!.ignoresKeyframeRequests = false
        room.forwarder.setActiveSpeaker(2, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 2)
        Self.checkContinuous(room.sent(to: 0), receiver: 0, kind: .h264)
        #expect(Self.sourcesSeen(room.sent(to: 0)) == [1, 2])
        #expect(room.forwarder.counters.switchesOnKeyframe == 3)
    }

    @Test func switchTimesOutAndPLIIsResentAtABoundedRate() throws {
        var room = VideoRoom(configuration: VideoForwarderConfiguration(
            capacity: 4, keyframeTimeout: 500_000_000, keyframeRequestInterval: 100_000_000))
        try room.join(0)
        try room.join(1)
        try room.join(2)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        room.step()
        room.sources[1]!.ignoresKeyframeRequests = true
        let start = room.now
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        var pliTimes: [UInt64] = []
        var seen = room.feedback(to: 1).count
        pliTimes.append(room.now)
        while room.forwarder.currentSource != 1 && room.now - start < 2_000_000_000 {
            room.step()
            let f = room.feedback(to: 1)
            if f.count > seen { pliTimes.append(room.now); seen = f.count }
        }
        #expect(room.forwarder.currentSource == 1)
        #expect(room.forwarder.counters.switchesWithoutKeyframe == 1)
        // The switch came with 1's first packet after the timeout, not before.
        #expect(room.now - start >= 500_000_000 && room.now - start < 600_000_000)
        // Re-sent, but never more often than the interval: 500 ms / 100 ms → at most 6 requests.
        #expect(pliTimes.count >= 4 && pliTimes.count <= 6)
        for i in 1..<pliTimes.count { #expect(pliTimes[i] - pliTimes[i - 1] >= 100_000_000) }
        // Switched without a keyframe: keep asking until one comes, then stop.
        let before = room.feedback(to: 1).count
        for _ in 0..<10 { room.step() }
        #expect(room.feedback(to: 1).count > before)
        room.sendFrame(from: 1, forceKeyframe: true)
        let after = room.feedback(to: 1).count
        for _ in 0..<20 { room.step() }
        #expect(room.feedback(to: 1).count == after)
        // Across the timed-out switch the receivers' streams stay continuous in sequence and time.
        for r in [0, 2] {
            let packets = room.sent(to: r)
            for i in 1..<packets.count {
                #expect(packets[i].sequence == packets[i - 1].sequence &+ 1)
                #expect(Int32(bitPattern: packets[i].timestamp &- packets[i - 1].timestamp) >= 0)
            }
        }
    }

    @Test func pinnedParticipantOverridesTheSpeaker() throws {
        var room = VideoRoom()
        for p in 0..<3 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        room.step()
        try room.forwarder.pin(2, now: room.now, sink: &room.sink)
        #expect(room.forwarder.pendingSource == 2)
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        #expect(room.forwarder.pendingSource == 2)
        #expect(room.feedback(to: 1).isEmpty)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 2)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 2)
        room.forwarder.unpin(now: room.now, sink: &room.sink)
        #expect(room.forwarder.pendingSource == 0)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 0)
        #expect(Self.sourcesSeen(room.sent(to: 1)) == [0, 2, 0])
        #expect(throws: VideoForwarderError.unknownParticipant) { try room.forwarder.pin(7, now: room.now, sink: &room.sink) }
        for r in 0..<3 { Self.checkContinuous(room.sent(to: r), receiver: r) }
    }

    @Test func sourceReceivesNothingOfItsOwnVideo() throws {
        var room = VideoRoom()
        for p in 0..<3 { try room.join(p) }
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        for _ in 0..<10 { room.step() }
        #expect(room.sent(to: 1).isEmpty)
        #expect(room.sent(to: 0).count == 20)
        #expect(room.sent(to: 2).count == 20)
    }

    @Test func receiverNACKAndPLIReachTheCurrentSourceTranslated() throws {
        var room = VideoRoom(configuration: VideoForwarderConfiguration(capacity: 4, keyframeRequestInterval: 100_000_000))
        try room.join(0, fir: true, sequence: 65_533)
        try room.join(1)
        try room.join(2)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<5 { room.step() }
        let toOne = room.sent(to: 1)
        #expect(toOne.count == 10)
        // Which source packets those were: 0 sent 2 per frame from 65533 and its first frame was a
        // keyframe (the PLI went out at once, its SSRC being signalled): 65533, 65534, 65535, 0, … .
        let sourceSequences: [UInt16] = (0..<10).map { 65_533 &+ UInt16($0) }
        let rtcpBefore = room.feedback(to: 0).count
        room.receiveRTCP(
            from: 1,
            VideoRoom.emptyReceiverReport(sender: 0x1001)
                + VideoRoom.nack(sender: 0x1001, media: VideoRoom.outgoingSSRC(1), lost: [toOne[2].sequence, toOne[4].sequence]))
        let relayed = Array(room.feedback(to: 0).dropFirst(rtcpBefore))
        #expect(relayed == [.nack(sender: VideoRoom.outgoingSSRC(0), media: 0x1000, lost: [sourceSequences[2], sourceSequences[4]])])
        #expect(room.forwarder.counters.rtcpOther == 1)
        // The source's retransmission of a NACKed packet goes to the receiver that asked, with the
        // sequence number it NACKed, and to nobody else; a reordered packet nobody NACKed goes to all.
        let sentBefore = room.sent.count
        let resend = VideoRoom.packet(
            payloadType: 96, sequence: sourceSequences[2], timestamp: 1, ssrc: 0x1000, marker: false, payload: [0x00, 0x55, 0, 0xAA])
        resend.withUnsafeBytes { room.forwarder.receiveRTP(from: 0, packet: $0, now: room.now, sink: &room.sink) }
        let retransmitted = Array(room.sent.dropFirst(sentBefore))
        #expect(retransmitted.map(\.receiver) == [1])
        #expect(retransmitted.first?.sequence == toOne[2].sequence)
        #expect(retransmitted.first?.ssrc == VideoRoom.outgoingSSRC(1))
        #expect(room.forwarder.counters.retransmissionsTargeted == 1)
        let reordered = VideoRoom.packet(
            payloadType: 96, sequence: sourceSequences[3], timestamp: 1, ssrc: 0x1000, marker: false, payload: [0x00, 0x55, 0, 0xAA])
        reordered.withUnsafeBytes { room.forwarder.receiveRTP(from: 0, packet: $0, now: room.now, sink: &room.sink) }
        #expect(Array(room.sent.dropFirst(sentBefore + 1)).map(\.receiver).sorted() == [1, 2])
        // Feedback about an SSRC the receiver was never sent is not relayed.
        room.receiveRTCP(from: 1, VideoRoom.nack(sender: 0x1001, media: 0x1000, lost: [toOne[2].sequence]))
        #expect(room.forwarder.counters.feedbackUnmatched == 1)

        // PLI from receivers: one request per interval reaches the source; a FIR from a receiver
        // counts the same. The source negotiated FIR, so a request is PLI + FIR.
        room.now += 200_000_000
        let beforePLI = room.feedback(to: 0).count
        room.receiveRTCP(from: 1, VideoRoom.pli(sender: 0x1001, media: VideoRoom.outgoingSSRC(1)))
        room.receiveRTCP(from: 2, VideoRoom.fir(sender: 0x1002, target: VideoRoom.outgoingSSRC(2), sequence: 9))
        let requests = Array(room.feedback(to: 0).dropFirst(beforePLI))
        #expect(requests.count == 2)
        #expect(requests.contains(.pli(sender: VideoRoom.outgoingSSRC(0), media: 0x1000)))
        #expect(room.forwarder.counters.keyframeRequestsRateLimited == 1)
        room.now += 100_000_000
        room.receiveRTCP(from: 2, VideoRoom.fir(sender: 0x1002, target: VideoRoom.outgoingSSRC(2), sequence: 9))
        #expect(room.feedback(to: 0).count == beforePLI + 4)

        // After a switch, NACKs for the earlier source's packets are dropped; new ones go to the new source.
        room.forwarder.setActiveSpeaker(2, now: room.now, sink: &room.sink)
        // 2's next frame is its keyframe (asked for just now), so it starts at this sequence number.
        let twoKeyframeSequence = room.sources[2]!.sequence
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 2)
        let fromTwo = room.sent(to: 1).filter { $0.payload[2] == 2 }
        let feedbackTo0 = room.feedback(to: 0).count
        let feedbackTo2 = room.feedback(to: 2).count
        let dropped = room.forwarder.counters.nackItemsDropped
        room.receiveRTCP(from: 1, VideoRoom.nack(sender: 0x1001, media: VideoRoom.outgoingSSRC(1), lost: [toOne[3].sequence]))
        #expect(room.forwarder.counters.nackItemsDropped == dropped + 1)
        #expect(room.feedback(to: 0).count == feedbackTo0)
        #expect(room.feedback(to: 2).count == feedbackTo2)
        room.receiveRTCP(
            from: 1,
            VideoRoom.nack(sender: 0x1001, media: VideoRoom.outgoingSSRC(1), lost: [toOne[9].sequence, fromTwo[1].sequence]))
        #expect(room.forwarder.counters.nackItemsDropped == dropped + 2)
        #expect(Array(room.feedback(to: 2).dropFirst(feedbackTo2)) == [
            .nack(sender: VideoRoom.outgoingSSRC(2), media: room.sources[2]!.ssrc, lost: [twoKeyframeSequence &+ 1])
        ])
    }

    @Test func codecMismatchAndPayloadTypeMapping() throws {
        var room = VideoRoom()
        try room.join(0, payloadType: 96)
        try room.join(1, payloadType: 120)
        try room.join(2, kind: .h264, payloadType: 96, variant: 1)
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.sent(to: 2).isEmpty)
        #expect(Set(room.sent(to: 1).map(\.payloadType)) == [120])
        #expect(room.forwarder.counters.noCommonCodec == UInt64(room.sent(to: 1).count))
        // Same kind, different variant: no match either.
        try room.join(3, kind: .h264, payloadType: 97, variant: 0)
        room.forwarder.setActiveSpeaker(2, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 2)
        #expect(room.sent(to: 3).isEmpty)
    }

    @Test func participantWithSeveralFormatsGetsItsPreferredPayloadType() throws {
        let forwarder = VideoForwarder(configuration: VideoForwarderConfiguration(capacity: 4))
        var sink = VideoCapturingSink()
        try forwarder.join(
            participant: 0,
            format: VideoParticipantFormat(
                formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8)],
                outgoingSSRC: SSRC(1)),
            now: 0, sink: &sink)
        try forwarder.join(
            participant: 1,
            format: VideoParticipantFormat(
                formats: [
                    VideoPayloadFormat(payloadType: PayloadType(rawValue: 102)!, kind: .h264, variant: 1),
                    VideoPayloadFormat(payloadType: PayloadType(rawValue: 98)!, kind: .vp8),
                    VideoPayloadFormat(payloadType: PayloadType(rawValue: 99)!, kind: .vp8),
                ],
                outgoingSSRC: SSRC(2)),
            now: 0, sink: &sink)
        #expect(throws: VideoForwarderError.invalidFormats) {
            try forwarder.join(
                participant: 2,
                format: VideoParticipantFormat(
                    formats: [
                        VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8),
                        VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .h264),
                    ], outgoingSSRC: SSRC(3)),
                now: 0, sink: &sink)
        }
        #expect(throws: VideoForwarderError.participantExists) {
            try forwarder.join(
                participant: 1,
                format: VideoParticipantFormat(
                    formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8)], outgoingSSRC: SSRC(4)),
                now: 0, sink: &sink)
        }
        #expect(throws: VideoForwarderError.participantOutOfRange) {
            try forwarder.join(
                participant: 4,
                format: VideoParticipantFormat(
                    formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8)], outgoingSSRC: SSRC(4)),
                now: 0, sink: &sink)
        }
        forwarder.setActiveSpeaker(0, now: 0, sink: &sink)
        let key = VideoRoom.packet(payloadType: 96, sequence: 1, timestamp: 1, ssrc: 77, marker: true, payload: [0x10, 0x00, 0])
        key.withUnsafeBytes { forwarder.receiveRTP(from: 0, packet: $0, now: 0, sink: &sink) }
        #expect(sink.rtp.count == 1)
        let first = try #require(sink.rtp.first)
        #expect(first.participant == 1)
        // Marker kept, PT 96 mapped to the receiver's first VP8 payload type.
        #expect(first.bytes[1] == 0x80 | 98)
        // The speaker's H.264 PT (102) would be accepted too; an unknown PT is not.
        let unknown = VideoRoom.packet(payloadType: 111, sequence: 2, timestamp: 1, ssrc: 77, marker: true, payload: [0x10, 0x00, 0])
        unknown.withUnsafeBytes { forwarder.receiveRTP(from: 0, packet: $0, now: 0, sink: &sink) }
        #expect(forwarder.counters.unknownPayloadType == 1)
        #expect(sink.rtp.count == 1)
    }

    @Test func badInputIsCountedAndDoesNotDisturbTheStream() throws {
        var room = VideoRoom(configuration: VideoForwarderConfiguration(
            capacity: 4, maxPacketSize: 1200, maxPacketsPerSecond: 1000, packetBurst: 50))
        for p in 0..<3 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        let forwarded = room.forwarder.counters.forwarded
        let feed: (inout VideoRoom, Int, [UInt8]) -> Void = { room, p, bytes in
            bytes.withUnsafeBytes { room.forwarder.receiveRTP(from: p, packet: $0, now: room.now, sink: &room.sink) }
        }
        // Malformed: short, wrong version, bad padding, extension overrun; an unknown slot.
        feed(&room, 0, [0x80, 0x60])
        feed(&room, 0, [0x40] + [UInt8](repeating: 0, count: 20))
        feed(&room, 0, [0xA0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x10, 0, 0x10, 0x00, 0x00, 0x09])
        feed(&room, 0, [0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x10, 0, 0xBE, 0xDE, 0x00, 0x09])
        feed(&room, 3, VideoRoom.packet(payloadType: 96, sequence: 1, timestamp: 1, ssrc: 5, marker: false, payload: [1]))
        feed(&room, -1, VideoRoom.packet(payloadType: 96, sequence: 1, timestamp: 1, ssrc: 5, marker: false, payload: [1]))
        #expect(room.forwarder.counters.malformedRTP == 6)
        // Oversized.
        feed(&room, 0, VideoRoom.packet(payloadType: 96, sequence: 1, timestamp: 1, ssrc: 0x1000, marker: false, payload: [UInt8](repeating: 0, count: 1300)))
        #expect(room.forwarder.counters.oversizedRTP == 1)
        // Unknown PT from the source, and anything from a non-source.
        feed(&room, 0, VideoRoom.packet(payloadType: 33, sequence: 1, timestamp: 1, ssrc: 0x1000, marker: false, payload: [1]))
        #expect(room.forwarder.counters.unknownPayloadType == 1)
        let nonSource = room.forwarder.counters.fromNonSource
        for i in 0..<500 {
            feed(&room, 1, VideoRoom.packet(payloadType: 96, sequence: UInt16(i), timestamp: 1, ssrc: 0x1001, marker: false, payload: [0x10, 0x00, 1]))
        }
        #expect(room.forwarder.counters.fromNonSource == nonSource + 500)
        #expect(room.forwarder.counters.forwarded == forwarded)
        // A flood from the source itself: the excess over the burst is dropped and counted.
        let s = room.sources[0]!
        for i in 0..<1000 {
            feed(&room, 0, VideoRoom.packet(payloadType: 96, sequence: s.sequence &+ UInt16(i), timestamp: s.timestamp, ssrc: s.ssrc, marker: false, payload: [0x00, 0x00, 0]))
        }
        #expect(room.forwarder.counters.rateLimited >= 900)
        // Malformed RTCP: garbage, a truncated NACK, a PLI with a short body.
        room.receiveRTCP(from: 1, [0x01, 0x02, 0x03])
        room.receiveRTCP(from: 1, [0x81, 205, 0x00, 0x01, 0, 0, 0, 1])
        room.receiveRTCP(from: 1, [0x81, 206, 0x00, 0x01, 0, 0, 0, 1])
        #expect(room.forwarder.counters.malformedRTCP == 3)
        // One second on, the room carries on normally: continuous stream, nothing from the non-source.
        room.now += 1_000_000_000
        room.sources[0]!.sequence &+= 1000
        for _ in 0..<5 { room.step() }
        for r in [1, 2] {
            let packets = room.sent(to: r)
            #expect(packets.allSatisfy { $0.payload[2] == 0 && $0.ssrc == VideoRoom.outgoingSSRC(r) })
            #expect(packets.count > 10)
        }
    }

    @Test func currentSourceLeavingStopsTheStreamAndOthersCarryOn() throws {
        var room = VideoRoom()
        for p in 0..<3 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        try room.forwarder.leave(participant: 0)
        room.sources[0] = nil
        #expect(room.forwarder.currentSource == -1)
        #expect(room.forwarder.activeSpeaker == -1)
        #expect(throws: VideoForwarderError.unknownParticipant) { try room.forwarder.leave(participant: 0) }
        let before = room.sent.count
        room.step()
        #expect(room.sent.count == before)
        room.forwarder.setActiveSpeaker(1, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.currentSource == 1)
        Self.checkContinuous(room.sent(to: 2), receiver: 2)
        // The slot can be reused.
        try room.join(0)
        for _ in 0..<3 { room.step() }
        #expect(!room.sent(to: 0).isEmpty)
    }

    @Test func longStreamAndSequenceJumpStayContinuous() throws {
        // Regression: the switch-point floor once made every packet after 32768 in one epoch look old.
        var room = VideoRoom(configuration: VideoForwarderConfiguration(capacity: 2, maxPacketsPerSecond: 1_000_000))
        for p in 0..<2 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<20_000 {
            room.sendFrame(from: 0, packets: 4)
            room.now += 4_000_000
        }
        // A restart without a new SSRC: the sequence numbers jump by 30000.
        room.sources[0]!.sequence &+= 30_000
        for _ in 0..<10 { room.sendFrame(from: 0, packets: 2) }
        #expect(room.forwarder.counters.sourceSequenceJumps == 1)
        #expect(room.forwarder.counters.tooOldAfterSwitch == 0)
        let packets = room.sent(to: 1)
        #expect(packets.count == 80_020)
        var breaks = 0
        for i in 1..<packets.count where packets[i].sequence != packets[i - 1].sequence &+ 1 { breaks += 1 }
        #expect(breaks == 0)
    }

    @Test func headerExtensionsAreKeptOrStripped() throws {
        // One-byte extension (RFC 8285 §4.2): id 3, length 2 (0x31 = id 3, len-1 = 1), padded to 4 bytes.
        let withExtension: [UInt8] = [0x90, 96, 0, 5, 0, 0, 0, 9, 0, 0, 0x10, 0x00, 0xBE, 0xDE, 0x00, 0x01, 0x31, 0xAB, 0xCD, 0x00]
            + [0x10, 0x00, 0, 0xAA]
        for strips in [false, true] {
            let forwarder = VideoForwarder(configuration: VideoForwarderConfiguration(capacity: 2, stripsHeaderExtensions: strips))
            var sink = VideoCapturingSink()
            for p in 0..<2 {
                try forwarder.join(
                    participant: p,
                    format: VideoParticipantFormat(
                        formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8)],
                        outgoingSSRC: SSRC(0x77 + UInt32(p)), sourceSSRC: SSRC(0x1000 + UInt32(p))),
                    now: 0, sink: &sink)
            }
            forwarder.setActiveSpeaker(0, now: 0, sink: &sink)
            withExtension.withUnsafeBytes { forwarder.receiveRTP(from: 0, packet: $0, now: 1, sink: &sink) }
            let out = try #require(sink.rtp.first?.bytes)
            let parsed = try out.withUnsafeBytes { raw in
                let packet = try RTPPacket(parsing: raw)
                return (packet.hasExtension, Array(packet.payload), packet.ssrc.rawValue)
            }
            #expect(parsed.0 == !strips)
            #expect(parsed.1 == [0x10, 0x00, 0, 0xAA])
            #expect(parsed.2 == 0x78)
            #expect(out.count == (strips ? 16 : withExtension.count))
        }
    }

    @Test func randomBytesNeverTrapAndAreCounted() throws {
        var room = VideoRoom(configuration: VideoForwarderConfiguration(capacity: 4, maxPacketsPerSecond: 1_000_000_000))
        for p in 0..<3 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        room.step()
        // A fixed-seed generator so a failure reproduces.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for i in 0..<20_000 {
            var bytes = (0..<Int(next() % 80)).map { _ in UInt8(truncatingIfNeeded: next()) }
            // Half of them look like version 2 so the deeper paths run.
            if i % 2 == 0, !bytes.isEmpty { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
            if i % 4 == 1, bytes.count > 1 { bytes[1] = 200 + UInt8(next() % 8) }
            let from = Int(next() % 5) - 1
            bytes.withUnsafeBytes {
                room.forwarder.receiveRTP(from: from, packet: $0, now: room.now, sink: &room.sink)
                room.forwarder.receiveRTCP(from: from, packet: $0, now: room.now, sink: &room.sink)
            }
        }
        let c = room.forwarder.counters
        #expect(c.malformedRTP > 0 && c.malformedRTCP > 0)
        // The room still works afterwards.
        let before = room.sent(to: 1).count
        room.step()
        #expect(room.sent(to: 1).count > before)
    }

    @Test func sourceSSRCChangeKeepsReceiversContinuous() throws {
        var room = VideoRoom()
        for p in 0..<2 { try room.join(p) }
        room.forwarder.setActiveSpeaker(0, now: room.now, sink: &room.sink)
        for _ in 0..<3 { room.step() }
        // The source restarts with a new SSRC and unrelated sequence/timestamp bases.
        room.sources[0]!.ssrc = 0xBEEF
        room.sources[0]!.sequence = 3
        room.sources[0]!.timestamp = 77
        for _ in 0..<3 { room.step() }
        #expect(room.forwarder.counters.sourceSSRCChanges == 1)
        #expect(room.forwarder.sourceSSRC(of: 0) == SSRC(0xBEEF))
        let packets = room.sent(to: 1)
        #expect(packets.count == 12)
        for i in 1..<packets.count {
            #expect(packets[i].sequence == packets[i - 1].sequence &+ 1)
            #expect(Int32(bitPattern: packets[i].timestamp &- packets[i - 1].timestamp) >= 0)
        }
    }
}

/// Heap allocations on the forwarding path, counted by the malloc interposer described in
/// `RecordingAllocationTests` (runs only with it preloaded).
@Suite struct VideoForwarderAllocationTests {
    typealias Counter = @convention(c) () -> UInt64

    static let counter: Counter? = {
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "tandem_test_thread_allocations") else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)
    }()

    static var isCounting: Bool { counter != nil }

    struct NullSink: VideoForwarderSink {
        var packets = 0
        var bytes = 0
        mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
            packets &+= 1
            bytes &+= packet.count
        }
        mutating func sendRTCP(participant: Int, packet: UnsafeRawBufferPointer) { packets &+= 1 }
    }

    @Test(.enabled(if: isCounting, "needs LD_PRELOAD of the allocation counter"))
    func forwardingAndFeedbackDoNotAllocate() throws {
        let counter = try #require(Self.counter)
        let forwarder = VideoForwarder(configuration: VideoForwarderConfiguration(capacity: 8, maxPacketsPerSecond: 1_000_000))
        var sink = NullSink()
        for p in 0..<8 {
            try forwarder.join(
                participant: p,
                format: VideoParticipantFormat(
                    formats: [VideoPayloadFormat(payloadType: PayloadType(rawValue: 96)!, kind: .vp8)],
                    outgoingSSRC: SSRC(0x100 + UInt32(p)), supportsFIR: true, sourceSSRC: SSRC(UInt32(p) + 1)),
                now: 0, sink: &sink)
        }
        var packets: [[UInt8]] = []
        for p in 0..<8 {
            packets.append(VideoRoom.packet(payloadType: 96, sequence: 1, timestamp: 1, ssrc: UInt32(p) + 1, marker: false, payload: [0x10, 0x00] + [UInt8](repeating: 7, count: 1000)))
        }
        var nack = VideoRoom.nack(sender: 9, media: 0x101, lost: [3, 5, 9])
        let pli = VideoRoom.pli(sender: 9, media: 0x101)
        var now: UInt64 = 1
        func run(_ iterations: Range<Int>) {
            for i in iterations {
                now += 1_000_000
                let source = (i / 1000) % 8
                if i % 1000 == 0 { forwarder.setActiveSpeaker(source, now: now, sink: &sink) }
                packets[source].withUnsafeMutableBytes { b in
                    b[2] = UInt8(truncatingIfNeeded: i >> 8)
                    b[3] = UInt8(truncatingIfNeeded: i)
                    forwarder.receiveRTP(from: source, packet: UnsafeRawBufferPointer(b), now: now, sink: &sink)
                }
                if i % 50 == 0 {
                    // NACK packets receiver 1 was really sent, so the relay path runs.
                    let last = forwarder.receiverStatistics(1)?.lastSequenceNumber.rawValue ?? 0
                    nack[12] = UInt8(truncatingIfNeeded: (last &- 12) >> 8)
                    nack[13] = UInt8(truncatingIfNeeded: last &- 12)
                    nack.withUnsafeBytes { forwarder.receiveRTCP(from: 1, packet: $0, now: now, sink: &sink) }
                    pli.withUnsafeBytes { forwarder.receiveRTCP(from: 1, packet: $0, now: now, sink: &sink) }
                    forwarder.tick(now: now, sink: &sink)
                }
            }
        }
        // Warm up (one-time runtime metadata), then count.
        run(0..<2000)
        let before = counter()
        run(2000..<22_000)
        let allocations = counter() - before
        #expect(allocations == 0)
        #expect(forwarder.counters.nackRelayed > 100)
        #expect(forwarder.counters.pliSent > 20)
        #expect(sink.packets > 100_000)
    }
}
