import RTP
import TandemBase
import Testing

@Suite struct RTCPTests {
    static let blockA = RTCPReportBlock(
        ssrc: SSRC(0x1111), fractionLost: 25, cumulativeLost: -3, extendedHighestSequenceNumber: 0x0001_0005,
        jitter: 77, lastSenderReport: 0xB705_2000, delaySinceLastSenderReport: 0x0005_4000)
    static let blockB = RTCPReportBlock(
        ssrc: SSRC(0x2222), fractionLost: 0, cumulativeLost: 0x7F_FFFF, extendedHighestSequenceNumber: 9,
        jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0)

    @Test func senderReportRoundTrip() throws {
        let blocks = [Self.blockA, Self.blockB]
        let out = try blocks.withUnsafeBufferPointer { bp in
            let w = RTCPSenderReportWriter(
                ssrc: SSRC(0xABCD), ntpTimestamp: NTPTimestamp(seconds: 0xE000_0001, fraction: 0x8000_0000),
                rtpTimestamp: RTPTimestamp(160_000), packetCount: 500, octetCount: 80_000, reportBlocks: bp)
            return try serialize(size: 100) { try w.write(to: $0) }
        }
        #expect(out.count == 28 + 48)
        #expect(out[0] == 0x82 && out[1] == 200 && out[2] == 0 && out[3] == 18)
        try withBytes(out) { b in
            let sr = try RTCPSenderReport(parsing: b)
            #expect(sr.ssrc == SSRC(0xABCD))
            #expect(sr.ntpTimestamp == NTPTimestamp(seconds: 0xE000_0001, fraction: 0x8000_0000))
            #expect(sr.ntpTimestamp.middle32 == 0x0001_8000)
            #expect(sr.rtpTimestamp == RTPTimestamp(160_000) && sr.packetCount == 500 && sr.octetCount == 80_000)
            #expect(Array(sr.reportBlocks) == blocks)
            #expect(sr.profileExtension.isEmpty)
        }
    }

    @Test func receiverReportRoundTripAndNegativeLoss() throws {
        let blocks = [Self.blockA]
        let out = try blocks.withUnsafeBufferPointer { bp in
            try serialize(size: 64) { try RTCPReceiverReportWriter(ssrc: SSRC(5), reportBlocks: bp).write(to: $0) }
        }
        #expect(out.count == 32)
        // cumulative lost -3 is 0xFFFFFD in 24 bits.
        #expect(Array(out[13..<16]) == [0xFF, 0xFF, 0xFD])
        try withBytes(out) { b in
            let rr = try RTCPReceiverReport(parsing: b)
            #expect(rr.ssrc == SSRC(5) && rr.reportBlockCount == 1)
            #expect(Array(rr.reportBlocks).first?.cumulativeLost == -3)
        }
        // An empty RR (no blocks) is 8 bytes.
        let empty = try serialize(size: 8) { try RTCPReceiverReportWriter(ssrc: SSRC(5)).write(to: $0) }
        #expect(empty == [0x80, 201, 0, 1, 0, 0, 0, 5])
    }

    @Test func reportBlockClampsCumulativeLost() {
        let b = RTCPReportBlock(
            ssrc: SSRC(1), fractionLost: 0, cumulativeLost: .max, extendedHighestSequenceNumber: 0, jitter: 0,
            lastSenderReport: 0, delaySinceLastSenderReport: 0)
        #expect(b.cumulativeLost == 0x7F_FFFF)
        let c = RTCPReportBlock(
            ssrc: SSRC(1), fractionLost: 0, cumulativeLost: .min, extendedHighestSequenceNumber: 0, jitter: 0,
            lastSenderReport: 0, delaySinceLastSenderReport: 0)
        #expect(c.cumulativeLost == -0x80_0000)
    }

    /// RFC 3550 §6.4.1 worked example: A = 0xb710:8000, LSR = 0xb705:2000, DLSR = 0x0005:4000
    /// gives a round trip of 0x0006:2000 = 6.125 s.
    @Test func roundTripTimeWorkedExample() {
        let rtt = Self.blockA.roundTripTime(arrivalMiddle32: 0xB710_8000)
        #expect(rtt == 0x0006_2000)
        #expect(Self.blockA.roundTripSeconds(arrivalMiddle32: 0xB710_8000) == 6.125)
        #expect(Self.blockB.roundTripTime(arrivalMiddle32: 0xB710_8000) == nil, "LSR 0 means no SR yet")
        #expect(Self.blockA.roundTripTime(arrivalMiddle32: 0xB705_2000) == nil, "negative RTT is rejected")
    }

    @Test func sourceDescriptionCNAMERoundTrip() throws {
        let cname = Array("user@example.com".utf8)
        let out = try cname.withUnsafeBytes { c in
            try serialize(size: 64) { try RTCPSourceDescriptionWriter(ssrc: SSRC(0x42), cname: c).write(to: $0) }
        }
        // 4 + 4 + 2 + 16 + 1 = 27 → 28
        #expect(out.count == 28 && out.count % 4 == 0 && out.last == 0)
        try withBytes(out) { b in
            let sdes = try RTCPSourceDescription(parsing: b)
            let chunks = Array(sdes.chunks)
            #expect(chunks.count == 1)
            #expect(chunks[0].ssrc == SSRC(0x42))
            #expect(chunks[0].cname?.array == cname)
        }
    }

    @Test func sourceDescriptionWithTwoChunksAndSeveralItems() throws {
        let bytes: [UInt8] = [
            0x82, 202, 0, 6,
            0, 0, 0, 1, 1, 2, 0x61, 0x62, 6, 1, 0x74, 0,  // CNAME "ab", TOOL "t", end
            0, 0, 0, 2, 2, 3, 0x78, 0x79, 0x7A, 0, 0, 0,  // NAME "xyz", end, pad
        ]
        try withBytes(bytes) { b in
            let sdes = try RTCPSourceDescription(parsing: b)
            let chunks = Array(sdes.chunks)
            #expect(chunks.map(\.ssrc) == [SSRC(1), SSRC(2)])
            #expect(Array(chunks[0].items).map(\.type) == [1, 6])
            #expect(chunks[0].cname?.array == [0x61, 0x62])
            #expect(chunks[1].cname == nil)
            #expect(Array(chunks[1].items).first?.value.array == [0x78, 0x79, 0x7A])
        }
        // Declaring three chunks when two are present is a length error.
        var three = bytes
        three[0] = 0x83
        withBytes(three) { b in #expect(throws: RTCPParseError.badLength) { try RTCPSourceDescription(parsing: b) } }
    }

    @Test func goodbyeRoundTripWithAndWithoutReason() throws {
        let ssrcs = [SSRC(1), SSRC(2)]
        let reason = Array("bye now".utf8)
        let out = try ssrcs.withUnsafeBufferPointer { s in
            try reason.withUnsafeBytes { r in
                try serialize(size: 64) { try RTCPGoodbyeWriter(ssrcs: s, reason: r).write(to: $0) }
            }
        }
        #expect(out.count == 4 + 8 + 8)
        try withBytes(out) { b in
            let bye = try RTCPGoodbye(parsing: b)
            #expect(bye.ssrcCount == 2 && bye.ssrc(at: 1) == SSRC(2))
            #expect(bye.reason?.array == reason)
        }
        let plain = try ssrcs.withUnsafeBufferPointer { s in
            try serialize(size: 64) { try RTCPGoodbyeWriter(ssrcs: s).write(to: $0) }
        }
        try withBytes(plain) { b in
            let bye = try RTCPGoodbye(parsing: b)
            #expect(bye.reason == nil && bye.ssrc(at: 0) == SSRC(1))
        }
    }

    @Test func applicationPacketIsParsed() throws {
        let bytes: [UInt8] = [0x85, 204, 0, 3, 0, 0, 0, 9, 0x54, 0x45, 0x53, 0x54, 1, 2, 3, 4]
        try withBytes(bytes) { b in
            let packet = try RTCPPacket(parsing: b)
            guard case .application(let app) = try packet.message() else {
                Issue.record("not classified as APP")
                return
            }
            #expect(app.subtype == 5 && app.ssrc == SSRC(9) && app.name == 0x5445_5354)
            #expect(app.data.array == [1, 2, 3, 4])
        }
    }

    @Test func nackBitmaskDecoding() throws {
        // PID 100 with BLP 0b1000_0000_0000_0101: 100, 101, 103, 116; then PID 65535, BLP 0b1: 65535, 0.
        let bytes: [UInt8] = [0x81, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 100, 0x80, 0x05, 0xFF, 0xFF, 0, 1]
        try withBytes(bytes) { b in
            let nack = try RTCPGenericNACK(parsing: b)
            #expect(nack.senderSSRC == SSRC(1) && nack.mediaSSRC == SSRC(2) && nack.itemCount == 2)
            #expect(Array(nack.lostSequenceNumbers).map(\.rawValue) == [100, 101, 103, 116, 65535, 0])
        }
    }

    @Test func nackPackAndRoundTrip() throws {
        let lost: [SequenceNumber] = [65534, 65535, 0, 5, 15, 16, 40, 40, 41].map { SequenceNumber($0) }
        var items = [RTCPNACKItem](repeating: RTCPNACKItem(packetID: SequenceNumber(0), lostBitmask: 0), count: 8)
        let used = lost.withUnsafeBufferPointer { l in
            items.withUnsafeMutableBufferPointer { RTCPGenericNACK.pack(lost: l, into: $0) }
        }
        #expect(used == 3)
        #expect(items[0] == RTCPNACKItem(packetID: SequenceNumber(65534), lostBitmask: 0b0100_0011))
        #expect(items[1] == RTCPNACKItem(packetID: SequenceNumber(15), lostBitmask: 0b1))
        #expect(items[2] == RTCPNACKItem(packetID: SequenceNumber(40), lostBitmask: 0b1))
        let out = try items.withUnsafeBufferPointer { i in
            try serialize(size: 64) {
                try RTCPGenericNACKWriter(senderSSRC: SSRC(7), mediaSSRC: SSRC(8), items: UnsafeBufferPointer(rebasing: i[0..<used])).write(to: $0)
            }
        }
        try withBytes(out) { b in
            let nack = try RTCPGenericNACK(parsing: b)
            var unique: [UInt16] = []
            for s in lost.map(\.rawValue) where !unique.contains(s) { unique.append(s) }
            #expect(Array(nack.lostSequenceNumbers).map(\.rawValue) == unique)
        }
    }

    @Test func pliAndFIRRoundTrip() throws {
        let pli = try serialize(size: 12) { try RTCPPictureLossIndicationWriter(senderSSRC: SSRC(1), mediaSSRC: SSRC(2)).write(to: $0) }
        #expect(pli == [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])
        try withBytes(pli) { b in
            guard case .pictureLossIndication(let v) = try RTCPPacket(parsing: b).message() else {
                Issue.record("not PLI")
                return
            }
            #expect(v.senderSSRC == SSRC(1) && v.mediaSSRC == SSRC(2))
        }
        let entries = [RTCPFIREntry(ssrc: SSRC(0xAA), sequenceNumber: 3), RTCPFIREntry(ssrc: SSRC(0xBB), sequenceNumber: 255)]
        let fir = try entries.withUnsafeBufferPointer { e in
            try serialize(size: 64) { try RTCPFullIntraRequestWriter(senderSSRC: SSRC(1), entries: e).write(to: $0) }
        }
        #expect(fir.count == 28 && fir[0] == 0x84 && fir[1] == 206)
        try withBytes(fir) { b in
            guard case .fullIntraRequest(let v) = try RTCPPacket(parsing: b).message() else {
                Issue.record("not FIR")
                return
            }
            #expect(v.senderSSRC == SSRC(1) && v.mediaSSRC == SSRC(0))
            #expect((0..<v.entryCount).map { v.entry(at: $0) } == entries)
        }
    }

    @Test func compoundIterationClassifiesEveryPacket() throws {
        // RR, SDES, REMB, unknown PT 207 (XR), PSFB FMT 2 (SLI, unknown here), BYE with padding.
        var bytes: [UInt8] = [0x80, 201, 0, 1, 0, 0, 0, 1]
        bytes += [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 1, 0x61, 0]
        bytes += [0x8F, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0x52, 0x45, 0x4D, 0x42, 1, 0x0A, 0xBC, 0xDE, 0, 0, 0, 2]
        bytes += [0x80, 207, 0, 1, 0, 0, 0, 1]
        bytes += [0x82, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]
        bytes += [0xA1, 203, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4]
        try withBytes(bytes) { b in
            let compound = try RTCPCompoundPacket(parsing: b)
            #expect(compound.packetCount == 6)
            var kinds: [String] = []
            for packet in compound {
                switch try packet.message() {
                case .receiverReport: kinds.append("RR")
                case .sourceDescription(let s): kinds.append("SDES:" + String(decoding: s.chunks.first(where: { _ in true })!.cname!, as: UTF8.self))
                case .receiverEstimatedMaximumBitrate(let raw): kinds.append("REMB:\(raw.bytes.count)")
                case .unknown(let raw): kinds.append("?\(raw.packetType)/\(raw.count)")
                case .goodbye(let bye): kinds.append("BYE:\(bye.ssrcCount):\(bye.reason == nil)")
                default: kinds.append("other")
                }
            }
            #expect(kinds == ["RR", "SDES:a", "REMB:24", "?207/0", "?206/2", "BYE:1:true"])
        }
    }

    @Test(arguments: [
        ([UInt8](), RTCPParseError.truncated),
        ([0x80, 201, 0], .truncated),
        ([0x40, 201, 0, 1, 0, 0, 0, 1], .wrongVersion),
        ([0x80, 201, 0, 2, 0, 0, 0, 1], .badLength),  // length says 12 bytes, 8 present
        ([0xA0, 201, 0, 1, 0, 0, 0, 0], .badPadding),  // padding count 0
        ([0xA0, 201, 0, 1, 0, 0, 0, 9], .badPadding),  // padding longer than body
        ([0x80, 201, 0, 1, 0, 0, 0, 1, 0x80], .truncated),  // trailing garbage in compound
    ])
    func compoundRejectsMalformed(bytes: [UInt8], error: RTCPParseError) {
        withBytes(bytes) { b in #expect(throws: error) { try RTCPCompoundPacket(parsing: b) } }
    }

    @Test(arguments: [
        [UInt8]([0x81, 201, 0, 1, 0, 0, 0, 1]),  // RR claims one block, has none
        [0x80, 200, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],  // SR without full sender info
        [0xA1, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2],  // NACK FCI of 2 bytes once padding is removed
        [0x81, 203, 0, 0],  // BYE claims one SSRC
        [0x80, 203, 0, 1, 5, 0, 0, 0],  // BYE reason longer than the packet
        [0x80, 204, 0, 1, 0, 0, 0, 1],  // APP without name
        [0x84, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4],  // FIR with half an entry
    ])
    func bodiesRejectInconsistentLengths(bytes: [UInt8]) throws {
        try withBytes(bytes) { b in
            let packet = try RTCPPacket(parsing: b)
            #expect(throws: RTCPParseError.badLength) { try packet.message() }
        }
    }

    @Test func typedParserRejectsWrongType() {
        withBytes([0x80, 201, 0, 1, 0, 0, 0, 1]) { b in
            #expect(throws: RTCPParseError.wrongPacketType) { try RTCPSenderReport(parsing: b) }
        }
    }
}
