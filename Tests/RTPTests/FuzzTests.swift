import RTP
import TandemBase
import Testing

/// Bounded, fixed-seed fuzzing: every parser sees 20,000 random and mutated inputs, must never trap,
/// and whatever parses must survive write → parse unchanged.
@Suite struct FuzzTests {
    static let iterations = 20_000

    static func randomBytes(_ rng: inout SplitMix64, count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 2:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            case 3:
                bytes += randomBytes(&rng, count: Int.random(in: 1...8, using: &rng))
            default:
                if bytes.count > 3 { bytes[Int.random(in: 0..<4, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
        }
        return bytes
    }

    // MARK: RTP

    static func validRTP(_ rng: inout SplitMix64) -> [UInt8] {
        let csrcs = (0..<Int.random(in: 0...3, using: &rng)).map { _ in SSRC(UInt32.random(in: 0...UInt32.max, using: &rng)) }
        let payload = randomBytes(&rng, count: Int.random(in: 0...40, using: &rng))
        let form = Int.random(in: 0..<4, using: &rng)
        let datas = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            randomBytes(&rng, count: Int.random(in: form == 1 ? 1...16 : 0...20, using: &rng))
        }
        let ids = datas.indices.map { _ in UInt8.random(in: form == 1 ? 1...14 : 1...255, using: &rng) }
        let raw = randomBytes(&rng, count: 4 * Int.random(in: 0...3, using: &rng))
        let profile = UInt16.random(in: 0...UInt16.max, using: &rng)
        let marker = Bool.random(using: &rng)
        let pt = PayloadType(rawValue: UInt8.random(in: 0...127, using: &rng))!
        let seq = SequenceNumber(UInt16.random(in: 0...UInt16.max, using: &rng))
        let ts = RTPTimestamp(UInt32.random(in: 0...UInt32.max, using: &rng))
        let ssrc = SSRC(UInt32.random(in: 0...UInt32.max, using: &rng))
        let padding = Bool.random(using: &rng) ? 0 : Int.random(in: 1...12, using: &rng)

        // Keep every borrowed buffer alive while writing.
        let flat = datas.flatMap { $0 }
        return flat.withUnsafeBytes { all in
            var offset = 0
            let elements = datas.indices.map { i -> RTPHeaderExtensionElement in
                defer { offset += datas[i].count }
                return RTPHeaderExtensionElement(id: ids[i], data: UnsafeRawBufferPointer(rebasing: all[offset..<offset + datas[i].count]))
            }
            return elements.withUnsafeBufferPointer { els in
                raw.withUnsafeBytes { rawBytes in
                    csrcs.withUnsafeBufferPointer { cs in
                        payload.withUnsafeBytes { pl in
                            let layout: RTPHeaderExtensionLayout
                            switch form {
                            case 0: layout = .none
                            case 1: layout = .oneByte(els)
                            case 2: layout = .twoByte(els, appBits: UInt8(profile & 0xF))
                            default: layout = .raw(profile: profile, data: rawBytes)
                            }
                            let w = RTPPacketWriter(
                                hasMarker: marker, payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc: ssrc,
                                csrcs: cs, headerExtension: layout, payload: pl, paddingLength: padding)
                            return (try? serialize(size: w.serializedSize) { try w.write(to: $0) }) ?? []
                        }
                    }
                }
            }
        }
    }

    static func checkRTPRoundTrip(_ p: RTPPacket) throws {
        let csrcs = (0..<p.csrcCount).map { p.csrc(at: $0) }
        let ext = p.headerExtension
        let layout: RTPHeaderExtensionLayout = ext.map { .raw(profile: $0.profile, data: $0.data) } ?? .none
        let out = try csrcs.withUnsafeBufferPointer { cs in
            let w = RTPPacketWriter(
                hasMarker: p.hasMarker, payloadType: p.payloadType, sequenceNumber: p.sequenceNumber,
                timestamp: p.timestamp, ssrc: p.ssrc, csrcs: cs, headerExtension: layout, payload: p.payload,
                paddingLength: p.paddingLength)
            return try serialize(size: w.serializedSize) { try w.write(to: $0) }
        }
        // Identical except padding filler, which the writer zeroes (only the count byte is defined).
        let original = p.bytes.array
        let defined = p.headerLength + p.payloadLength
        #expect(out.count == original.count)
        #expect(out.prefix(defined) == original.prefix(defined))
        #expect(out.last == original.last)
        try withBytes(out) { b in
            let q = try RTPPacket(parsing: b)
            #expect(q.payload.array == p.payload.array && q.paddingLength == p.paddingLength)
            #expect(q.headerExtension?.data.array == ext?.data.array)
        }
        // RFC 8285 elements must survive being re-laid out by the element writer.
        guard let ext, ext.isOneByte || ext.isTwoByte else { return }
        let elements = Array(ext.elements)
        let relaid = try elements.withUnsafeBufferPointer { els in
            let w = RTPPacketWriter(
                payloadType: p.payloadType, sequenceNumber: p.sequenceNumber, timestamp: p.timestamp, ssrc: p.ssrc,
                headerExtension: ext.isOneByte ? .oneByte(els) : .twoByte(els, appBits: UInt8(ext.profile & 0xF)))
            return try serialize(size: w.serializedSize) { try w.write(to: $0) }
        }
        try withBytes(relaid) { b in
            let again = try #require(try RTPPacket(parsing: b).headerExtension)
            let reparsed = Array(again.elements)
            #expect(reparsed.map(\.id) == elements.map(\.id))
            #expect(reparsed.map(\.data.array) == elements.map(\.data.array))
        }
    }

    @Test func rtpParserNeverTrapsAndRoundTrips() throws {
        var rng = SplitMix64(seed: 0x5254_5031)
        var parsed = 0
        var counters = RTPDropCounters()
        for i in 0..<Self.iterations {
            let input = i % 5 == 0
                ? Self.randomBytes(&rng, count: Int.random(in: 0...64, using: &rng))
                : Self.mutate(Self.validRTP(&rng), &rng)
            try withBytes(input) { b in
                do {
                    let p = try RTPPacket(parsing: b)
                    parsed += 1
                    try Self.checkRTPRoundTrip(p)
                } catch let error as RTPParseError {
                    counters.record(error)
                }
            }
        }
        // Both outcomes must be exercised for the run to mean anything.
        #expect(parsed > Self.iterations / 3)
        #expect(counters.total > 1000)
        #expect(counters.total + UInt64(parsed) == UInt64(Self.iterations))
    }

    // MARK: RTCP

    static func randomBlock(_ rng: inout SplitMix64) -> RTCPReportBlock {
        RTCPReportBlock(
            ssrc: SSRC(UInt32.random(in: 0...UInt32.max, using: &rng)), fractionLost: UInt8.random(in: 0...255, using: &rng),
            cumulativeLost: Int32.random(in: -0x80_0000...0x7F_FFFF, using: &rng),
            extendedHighestSequenceNumber: UInt32.random(in: 0...UInt32.max, using: &rng),
            jitter: UInt32.random(in: 0...UInt32.max, using: &rng), lastSenderReport: UInt32.random(in: 0...UInt32.max, using: &rng),
            delaySinceLastSenderReport: UInt32.random(in: 0...UInt32.max, using: &rng))
    }

    static func validRTCP(_ rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let ssrc = SSRC(UInt32.random(in: 0...UInt32.max, using: &rng))
            let blocks = (0..<Int.random(in: 0...3, using: &rng)).map { _ in randomBlock(&rng) }
            let text = randomBytes(&rng, count: Int.random(in: 0...20, using: &rng))
            let ssrcs = (0..<Int.random(in: 0...3, using: &rng)).map { _ in SSRC(UInt32.random(in: 0...UInt32.max, using: &rng)) }
            let nacks = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                RTCPNACKItem(packetID: SequenceNumber(UInt16.random(in: 0...UInt16.max, using: &rng)), lostBitmask: UInt16.random(in: 0...UInt16.max, using: &rng))
            }
            let firs = ssrcs.map { RTCPFIREntry(ssrc: $0, sequenceNumber: UInt8.random(in: 0...255, using: &rng)) }
            let kind = Int.random(in: 0..<7, using: &rng)
            let ntp = NTPTimestamp(rawValue: UInt64.random(in: 0...UInt64.max, using: &rng))
            let packet: [UInt8] = blocks.withUnsafeBufferPointer { bl in
                text.withUnsafeBytes { tx in
                    ssrcs.withUnsafeBufferPointer { ss in
                        nacks.withUnsafeBufferPointer { nk in
                            firs.withUnsafeBufferPointer { fr in
                                let result: [UInt8]?
                                switch kind {
                                case 0:
                                    let w = RTCPSenderReportWriter(ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: RTPTimestamp(7), packetCount: 1, octetCount: 2, reportBlocks: bl)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                case 1:
                                    let w = RTCPReceiverReportWriter(ssrc: ssrc, reportBlocks: bl)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                case 2:
                                    let w = RTCPSourceDescriptionWriter(ssrc: ssrc, cname: tx)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                case 3:
                                    let w = RTCPGoodbyeWriter(ssrcs: ss, reason: text.isEmpty ? nil : tx)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                case 4:
                                    let w = RTCPGenericNACKWriter(senderSSRC: ssrc, mediaSSRC: SSRC(9), items: nk)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                case 5:
                                    let w = RTCPPictureLossIndicationWriter(senderSSRC: ssrc, mediaSSRC: SSRC(9))
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                default:
                                    let w = RTCPFullIntraRequestWriter(senderSSRC: ssrc, entries: fr)
                                    result = try? serialize(size: w.serializedSize) { try w.write(to: $0) }
                                }
                                return result ?? []
                            }
                        }
                    }
                }
            }
            out += packet
        }
        return out
    }

    /// Re-serialises a parsed message with the matching writer and checks the fields survive.
    static func checkRTCPRoundTrip(_ message: RTCPMessage) throws {
        switch message {
        case .senderReport(let sr):
            let blocks = Array(sr.reportBlocks)
            let out = try blocks.withUnsafeBufferPointer { bl in
                let w = RTCPSenderReportWriter(
                    ssrc: sr.ssrc, ntpTimestamp: sr.ntpTimestamp, rtpTimestamp: sr.rtpTimestamp,
                    packetCount: sr.packetCount, octetCount: sr.octetCount, reportBlocks: bl)
                return try serialize(size: w.serializedSize) { try w.write(to: $0) }
            }
            try withBytes(out) { b in
                let again = try RTCPSenderReport(parsing: b)
                #expect(again.ssrc == sr.ssrc && again.ntpTimestamp == sr.ntpTimestamp && again.rtpTimestamp == sr.rtpTimestamp)
                #expect(again.packetCount == sr.packetCount && again.octetCount == sr.octetCount)
                #expect(Array(again.reportBlocks) == blocks)
            }
        case .receiverReport(let rr):
            let blocks = Array(rr.reportBlocks)
            let out = try blocks.withUnsafeBufferPointer { bl in
                let w = RTCPReceiverReportWriter(ssrc: rr.ssrc, reportBlocks: bl)
                return try serialize(size: w.serializedSize) { try w.write(to: $0) }
            }
            try withBytes(out) { b in
                let again = try RTCPReceiverReport(parsing: b)
                #expect(again.ssrc == rr.ssrc && Array(again.reportBlocks) == blocks)
            }
        case .sourceDescription(let sdes):
            for chunk in sdes.chunks {
                _ = Array(chunk.items).count
                guard let cname = chunk.cname else { continue }
                let out = try serialize(size: 64 + cname.count) { try RTCPSourceDescriptionWriter(ssrc: chunk.ssrc, cname: cname).write(to: $0) }
                try withBytes(out) { b in
                    let again = try #require(Array(try RTCPSourceDescription(parsing: b).chunks).first)
                    #expect(again.ssrc == chunk.ssrc && again.cname?.array == cname.array)
                }
            }
        case .goodbye(let bye):
            let ssrcs = (0..<bye.ssrcCount).map { bye.ssrc(at: $0) }
            let reason = bye.reason
            let out = try ssrcs.withUnsafeBufferPointer { ss in
                let w = RTCPGoodbyeWriter(ssrcs: ss, reason: reason)
                return try serialize(size: w.serializedSize) { try w.write(to: $0) }
            }
            try withBytes(out) { b in
                let again = try RTCPGoodbye(parsing: b)
                #expect((0..<again.ssrcCount).map { again.ssrc(at: $0) } == ssrcs)
                #expect(again.reason?.array == reason?.array)
            }
        case .genericNACK(let nack):
            let items = (0..<nack.itemCount).map { nack.item(at: $0) }
            let lost = Array(nack.lostSequenceNumbers)
            let out = try items.withUnsafeBufferPointer { it in
                let w = RTCPGenericNACKWriter(senderSSRC: nack.senderSSRC, mediaSSRC: nack.mediaSSRC, items: it)
                return try serialize(size: w.serializedSize) { try w.write(to: $0) }
            }
            try withBytes(out) { b in
                let again = try RTCPGenericNACK(parsing: b)
                #expect(again.senderSSRC == nack.senderSSRC && again.mediaSSRC == nack.mediaSSRC)
                #expect(Array(again.lostSequenceNumbers) == lost)
            }
        case .pictureLossIndication(let pli):
            let out = try serialize(size: 12) { try RTCPPictureLossIndicationWriter(senderSSRC: pli.senderSSRC, mediaSSRC: pli.mediaSSRC).write(to: $0) }
            try withBytes(out) { b in
                let again = try RTCPPictureLossIndication(parsing: b)
                #expect(again.senderSSRC == pli.senderSSRC && again.mediaSSRC == pli.mediaSSRC)
            }
        case .fullIntraRequest(let fir):
            let entries = (0..<fir.entryCount).map { fir.entry(at: $0) }
            let out = try entries.withUnsafeBufferPointer { en in
                let w = RTCPFullIntraRequestWriter(senderSSRC: fir.senderSSRC, entries: en)
                return try serialize(size: w.serializedSize) { try w.write(to: $0) }
            }
            try withBytes(out) { b in
                let again = try RTCPFullIntraRequest(parsing: b)
                #expect(again.senderSSRC == fir.senderSSRC && (0..<again.entryCount).map { again.entry(at: $0) } == entries)
            }
        case .application(let app):
            _ = (app.subtype, app.ssrc, app.name, app.data.count)
        case .receiverEstimatedMaximumBitrate(let raw), .unknown(let raw):
            _ = (raw.packetType, raw.count, raw.body.count)
        }
    }

    @Test func rtcpParserNeverTrapsAndRoundTrips() throws {
        var rng = SplitMix64(seed: 0x5254_4350)
        var compounds = 0
        var messages = 0
        var counters = RTPDropCounters()
        for i in 0..<Self.iterations {
            let input = i % 5 == 0
                ? Self.randomBytes(&rng, count: Int.random(in: 0...64, using: &rng))
                : Self.mutate(Self.validRTCP(&rng), &rng)
            try withBytes(input) { b in
                do {
                    let compound = try RTCPCompoundPacket(parsing: b)
                    compounds += 1
                    var seen = 0
                    for packet in compound {
                        seen += 1
                        do {
                            try Self.checkRTCPRoundTrip(try packet.message())
                            messages += 1
                        } catch let error as RTCPParseError {
                            counters.record(error)
                        }
                    }
                    #expect(seen == compound.packetCount)
                } catch let error as RTCPParseError {
                    counters.record(error)
                }
            }
        }
        #expect(compounds > Self.iterations / 3)
        #expect(messages > compounds)
        #expect(counters.total > 1000)
    }

    // MARK: Payload formats

    @Test func payloadFormatParsersNeverTrapAndRoundTrip() throws {
        var rng = SplitMix64(seed: 0x4733_3389)
        var parsedEvents = 0
        var parsedNoise = 0
        for _ in 0..<Self.iterations {
            let input = Self.randomBytes(&rng, count: Int.random(in: 0...8, using: &rng))
            try withBytes(input) { b in
                if let event = try? TelephoneEvent(parsing: b) {
                    parsedEvents += 1
                    let out = try serialize(size: 4) { try event.write(to: $0) }
                    try withBytes(out) { o in
                        let again = try TelephoneEvent(parsing: o)
                        #expect(again == event)
                    }
                }
                if let cn = try? ComfortNoise(parsing: b) {
                    parsedNoise += 1
                    let out = try serialize(size: cn.serializedSize) { try cn.write(to: $0) }
                    #expect(out == input)
                }
                _ = DatagramKind(classifying: b)
            }
        }
        #expect(parsedEvents > 1000 && parsedNoise > 1000)
    }
}
