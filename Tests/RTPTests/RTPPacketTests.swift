import RTP
import TandemBase
import Testing

@Suite struct RTPPacketTests {
    /// A minimal PCMU packet: V=2, M=1, PT=0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304, 3 payload bytes.
    static let simple: [UInt8] = [0x80, 0x80, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 0xAA, 0xBB, 0xCC]

    @Test func parsesFixedHeader() throws {
        try withBytes(Self.simple) { bytes in
            let p = try RTPPacket(parsing: bytes)
            #expect(p.version == 2)
            #expect(p.hasMarker)
            #expect(p.payloadType == .pcmu)
            #expect(p.sequenceNumber == SequenceNumber(0x1234))
            #expect(p.timestamp == RTPTimestamp(0xDEAD_BEEF))
            #expect(p.ssrc == SSRC(0x0102_0304))
            #expect(p.csrcCount == 0 && p.headerExtension == nil && p.paddingLength == 0)
            #expect(p.payload.array == [0xAA, 0xBB, 0xCC])
        }
    }

    @Test func parsesCSRCsAndPadding() throws {
        // CC=2, P=1, PT 8, two CSRCs, payload [9], padding 3 (two zeros + count).
        let bytes: [UInt8] = [0xA2, 0x08, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0, 0, 0, 0x11, 0, 0, 0, 0x22, 9, 0, 0, 3]
        try withBytes(bytes) { b in
            let p = try RTPPacket(parsing: b)
            #expect(p.csrcCount == 2)
            #expect(p.csrc(at: 0) == SSRC(0x11) && p.csrc(at: 1) == SSRC(0x22))
            #expect(p.payload.array == [9])
            #expect(p.paddingLength == 3)
            #expect(!p.hasMarker && p.payloadType == .pcma)
        }
    }

    @Test(arguments: [
        ([UInt8](), RTPParseError.truncated),
        ([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .truncated),
        ([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .wrongVersion),
        ([0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .truncated),  // CC=1 but no CSRC
        ([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .badPadding),  // P set, nothing after header
        ([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], .badPadding),  // padding count 0
        ([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3], .badPadding),  // padding longer than body
        ([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE], .truncated),  // half an extension header
        ([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1, 0x10], .badExtensionLength),
    ])
    func rejectsMalformed(bytes: [UInt8], error: RTPParseError) {
        withBytes(bytes) { b in
            #expect(throws: error) { try RTPPacket(parsing: b) }
        }
    }

    @Test func paddingThatFillsWholeBodyIsAccepted() throws {
        try withBytes([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]) { b in
            let p = try RTPPacket(parsing: b)
            #expect(p.payloadLength == 0 && p.paddingLength == 4)
        }
    }

    /// RFC 8285 §4.2 figure: elements with L=0, L=1, two padding bytes, then L=3.
    @Test func rfc8285OneByteExample() throws {
        let header: [UInt8] = [0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
        let ext: [UInt8] = [
            0xBE, 0xDE, 0x00, 0x03,
            0x10, 0xAA, 0x21, 0xBB,
            0xCC, 0x00, 0x00, 0x33,
            0x01, 0x02, 0x03, 0x04,
        ]
        try withBytes(header + ext + [0x55]) { b in
            let p = try RTPPacket(parsing: b)
            let e = try #require(p.headerExtension)
            #expect(e.isOneByte && !e.isTwoByte)
            let elements = Array(e.elements).map { ($0.id, $0.data.array) }
            #expect(elements.count == 3)
            #expect(elements[0].0 == 1 && elements[0].1 == [0xAA])
            #expect(elements[1].0 == 2 && elements[1].1 == [0xBB, 0xCC])
            #expect(elements[2].0 == 3 && elements[2].1 == [1, 2, 3, 4])
            #expect(e.element(id: 2)?.array == [0xBB, 0xCC])
            #expect(e.element(id: 9) == nil)
            #expect(p.payload.array == [0x55])
        }
    }

    /// RFC 8285 §4.3 figure: elements with L=0, L=1, one padding byte, then L=4.
    @Test func rfc8285TwoByteExample() throws {
        let header: [UInt8] = [0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
        let ext: [UInt8] = [
            0x10, 0x00, 0x00, 0x03,
            0x01, 0x00, 0x02, 0x01,
            0xAA, 0x00, 0x03, 0x04,
            0x01, 0x02, 0x03, 0x04,
        ]
        try withBytes(header + ext) { b in
            let p = try RTPPacket(parsing: b)
            let e = try #require(p.headerExtension)
            #expect(e.isTwoByte)
            let elements = Array(e.elements).map { ($0.id, $0.data.array) }
            #expect(elements.count == 3)
            #expect(elements[0].0 == 1 && elements[0].1.isEmpty)
            #expect(elements[1].0 == 2 && elements[1].1 == [0xAA])
            #expect(elements[2].0 == 3 && elements[2].1 == [1, 2, 3, 4])
        }
    }

    @Test func oneByteID15StopsProcessing() throws {
        let bytes: [UInt8] = [0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0xF0, 0x10]
        try withBytes(bytes) { b in
            let e = try #require(try RTPPacket(parsing: b).headerExtension)
            #expect(Array(e.elements).map(\.id) == [1])
        }
    }

    /// Regression (found by the fuzz test): a one-byte element with ID 0 and a non-zero length was
    /// returned as element 0, which the writer then refused. It is malformed padding: stop there.
    @Test func oneByteID0WithLengthStopsProcessing() throws {
        let bytes: [UInt8] = [0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0x05, 0x10]
        try withBytes(bytes) { b in
            let e = try #require(try RTPPacket(parsing: b).headerExtension)
            #expect(Array(e.elements).map(\.id) == [1])
        }
    }

    @Test func genericExtensionIsKeptRaw() throws {
        let bytes: [UInt8] = [0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x12, 0x34, 0, 1, 9, 8, 7, 6]
        try withBytes(bytes) { b in
            let e = try #require(try RTPPacket(parsing: b).headerExtension)
            #expect(e.profile == 0x1234 && !e.isOneByte && !e.isTwoByte)
            #expect(Array(e.elements).isEmpty)
            #expect(e.data.array == [9, 8, 7, 6])
        }
    }

    @Test func writerRoundTripsOneByteExtensionCSRCsAndPadding() throws {
        let csrcs = [SSRC(0xA), SSRC(0xB), SSRC(0xC)]
        let e1: [UInt8] = [0x30]  // e.g. audio level
        let e2: [UInt8] = Array(0..<16)
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        let out = try csrcs.withUnsafeBufferPointer { cs in
            try e1.withUnsafeBytes { d1 in
                try e2.withUnsafeBytes { d2 in
                    let elements = [RTPHeaderExtensionElement(id: 1, data: d1), RTPHeaderExtensionElement(id: 14, data: d2)]
                    return try elements.withUnsafeBufferPointer { els in
                        try payload.withUnsafeBytes { pl in
                            let w = RTPPacketWriter(
                                hasMarker: true, payloadType: PayloadType(rawValue: 111)!,
                                sequenceNumber: SequenceNumber(65535), timestamp: RTPTimestamp(42), ssrc: SSRC(99),
                                csrcs: cs, headerExtension: .oneByte(els), payload: pl, paddingLength: 7)
                            let bytes = try serialize(size: 200) { try w.write(to: $0) }
                            #expect(bytes.count == w.serializedSize)
                            // 12 + 12 (CSRCs) + 4 + 20 (2 + 17 → 19 → 20) + 5 + 7
                            #expect(bytes.count == 60)
                            return bytes
                        }
                    }
                }
            }
        }
        try withBytes(out) { b in
            let p = try RTPPacket(parsing: b)
            #expect(p.hasMarker && p.payloadType.rawValue == 111)
            #expect(p.sequenceNumber == SequenceNumber(65535) && p.timestamp == RTPTimestamp(42) && p.ssrc == SSRC(99))
            #expect((0..<p.csrcCount).map { p.csrc(at: $0) } == csrcs)
            let e = try #require(p.headerExtension)
            #expect(e.isOneByte)
            let els = Array(e.elements)
            #expect(els.map(\.id) == [1, 14])
            #expect(els[0].data.array == e1 && els[1].data.array == e2)
            #expect(p.payload.array == payload)
            #expect(p.paddingLength == 7)
        }
    }

    @Test func writerRoundTripsTwoByteExtension() throws {
        let big = [UInt8](repeating: 7, count: 255)
        let empty: [UInt8] = []
        let out = try big.withUnsafeBytes { d1 in
            try empty.withUnsafeBytes { d2 in
                let elements = [RTPHeaderExtensionElement(id: 200, data: d1), RTPHeaderExtensionElement(id: 3, data: d2)]
                return try elements.withUnsafeBufferPointer { els in
                    let w = RTPPacketWriter(
                        payloadType: .pcma, sequenceNumber: SequenceNumber(1), timestamp: RTPTimestamp(2),
                        ssrc: SSRC(3), headerExtension: .twoByte(els, appBits: 5))
                    return try serialize(size: w.serializedSize) { try w.write(to: $0) }
                }
            }
        }
        #expect(out.count == 12 + 4 + 260)
        try withBytes(out) { b in
            let e = try #require(try RTPPacket(parsing: b).headerExtension)
            #expect(e.isTwoByte && e.profile == 0x1005)
            let els = Array(e.elements)
            #expect(els.map(\.id) == [200, 3])
            #expect(els[0].data.array == big && els[1].data.isEmpty)
        }
    }

    @Test func writerRejectsInvalidFieldsAndSmallBuffers() {
        let data: [UInt8] = [1]
        data.withUnsafeBytes { d in
            let bad = [RTPHeaderExtensionElement(id: 15, data: d)]
            bad.withUnsafeBufferPointer { els in
                let w = RTPPacketWriter(
                    payloadType: .pcmu, sequenceNumber: SequenceNumber(0), timestamp: RTPTimestamp(0), ssrc: SSRC(0),
                    headerExtension: .oneByte(els))
                #expect(throws: RTPWriteError.invalidField) { _ = try serialize(size: 64) { try w.write(to: $0) } }
            }
        }
        let w = RTPPacketWriter(payloadType: .pcmu, sequenceNumber: SequenceNumber(0), timestamp: RTPTimestamp(0), ssrc: SSRC(0))
        #expect(throws: RTPWriteError.bufferTooSmall) { _ = try serialize(size: 11) { try w.write(to: $0) } }
        var p = w
        p.paddingLength = 256
        #expect(throws: RTPWriteError.invalidField) { _ = try serialize(size: 400) { try p.write(to: $0) } }
    }

    @Test func editorRewritesInPlace() throws {
        var bytes = Self.simple
        bytes.withUnsafeMutableBytes { b in
            guard let editor = RTPHeaderEditor(b) else {
                Issue.record("editor refused a valid header")
                return
            }
            editor.ssrc = SSRC(0xCAFE_BABE)
            editor.sequenceNumber = SequenceNumber(7)
            editor.timestamp = RTPTimestamp(123_456)
            editor.payloadType = PayloadType(rawValue: 101)!
            #expect(editor.hasMarker, "changing PT keeps the marker")
            editor.hasMarker = false
            #expect(editor.payloadType.rawValue == 101)
        }
        try withBytes(bytes) { b in
            let p = try RTPPacket(parsing: b)
            #expect(p.ssrc == SSRC(0xCAFE_BABE) && p.sequenceNumber == SequenceNumber(7))
            #expect(p.timestamp == RTPTimestamp(123_456) && p.payloadType.rawValue == 101 && !p.hasMarker)
            #expect(p.payload.array == [0xAA, 0xBB, 0xCC])
        }
        var short: [UInt8] = [0x80, 0, 0]
        short.withUnsafeMutableBytes { #expect(RTPHeaderEditor($0) == nil) }
    }

    @Test func demultiplexesPerRFC7983And5761() {
        let cases: [([UInt8], DatagramKind)] = [
            ([0x00, 0x01], .stun), ([0x03], .stun), ([16], .zrtp), ([22, 0xFE], .dtls), ([63], .dtls),
            ([64, 0], .turnChannel), ([79], .turnChannel), ([0x80, 0x00], .rtp), ([0x80, 0x60], .rtp),
            ([0x80, 0xE0], .rtp),  // marker + PT 96
            ([0x80, 200], .rtcp), ([0x81, 201], .rtcp), ([0x80, 192], .rtcp), ([0x80, 223], .rtcp),
            ([0x80, 224], .rtp), ([0x80], .unknown), ([], .unknown), ([200, 0], .unknown), ([8], .unknown),
        ]
        for (bytes, kind) in cases {
            withBytes(bytes) { #expect(DatagramKind(classifying: $0) == kind, "\(bytes)") }
        }
    }

    @Test func dropCountersCountPerKind() {
        var counters = RTPDropCounters()
        counters.record(RTPParseError.truncated)
        counters.record(RTPParseError.truncated)
        counters.record(RTCPParseError.badLength)
        counters.record(RTPPayloadParseError.invalidValue)
        #expect(counters.rtpTruncated == 2 && counters.rtcpBadLength == 1 && counters.payloadInvalidValue == 1)
        #expect(counters.total == 4)
    }
}
