import Testing
import TandemBase
@testable import SRTP

private func keys(_ suite: SRTPSuite, seed: UInt64) -> (key: [UInt8], salt: [UInt8]) {
    var random = TestRandom(seed: seed)
    return (random.bytes(suite.keyLength), random.bytes(suite.saltLength))
}

/// 400 packets from sequence 65,400: the sequence wraps after 136, so the ROC goes 0 → 1; mixed sizes,
/// CSRCs and header extensions.
private func packetSequence(ssrc: UInt32) -> [[UInt8]] {
    var random = TestRandom(seed: 42)
    return (0..<400).map { i in
        let sequence = UInt16(truncatingIfNeeded: 65_400 + i)
        return makeRTP(
            sequence: sequence, timestamp: UInt32(i * 160), ssrc: ssrc, payloadLength: random.int(0..<300),
            csrcs: i % 7 == 0 ? 2 : 0, extensionWords: i % 5 == 0 ? 2 : 0, fill: random.byte())
    }
}

@Suite struct SRTPVectorTests {
    @Test func rfc3711AppendixB2KeystreamMatches() throws {
        // RFC 3711 Appendix B.2: AES-CM keystream for session key 2B7E...3C and IV F0F1...FD0000.
        let key = hex("2B7E151628AED2A6ABF7158809CF4F3C")
        let iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        let cipher = try key.withUnsafeBytes { try AESCounterMode(key: $0) }
        var stream = [UInt8](repeating: 0, count: 48)
        let ok = iv.withUnsafeBytes { ivBytes in
            stream.withUnsafeMutableBytes { cipher.apply(iv: ivBytes.baseAddress!, to: $0.baseAddress!, count: 48) }
        }
        #expect(ok)
        #expect(stream == hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"))
    }

    @Test func rfc3711AppendixB3KeyDerivationMatches() throws {
        let masterKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139")
        let masterSalt = hex("0EC675AD498AFEEBB6960B3AABE6")
        #expect(try SRTPKeyDerivation.derive(masterKey: masterKey, masterSalt: masterSalt, label: .rtpEncryption, count: 16)
            == hex("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(try SRTPKeyDerivation.derive(masterKey: masterKey, masterSalt: masterSalt, label: .rtpSalt, count: 14)
            == hex("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(try SRTPKeyDerivation.derive(masterKey: masterKey, masterSalt: masterSalt, label: .rtpAuthentication, count: 20)
            == hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"))
    }

    @Test func hmacSHA1MatchesRFC2202() throws {
        // RFC 2202 test case 2 (key "Jefe") and 6 (80-byte key, longer than a block).
        let jefe = try Array("Jefe".utf8).withUnsafeBytes { try HMACSHA1(key: $0) }
        let message = Array("what do ya want for nothing?".utf8)
        var out = [UInt8](repeating: 0, count: 20)
        message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in
                // Split the message across the two parts to exercise the second one.
                jefe.authenticate(m.baseAddress!, count: 10, m.baseAddress! + 10, count: m.count - 10, into: o.baseAddress!)
            }
        }
        #expect(out == hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))
        let long = try [UInt8](repeating: 0xAA, count: 80).withUnsafeBytes { try HMACSHA1(key: $0) }
        let text = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        text.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in long.authenticate(m.baseAddress!, count: m.count, m.baseAddress!, count: 0, into: o.baseAddress!) }
        }
        #expect(out == hex("aa4ae5e15272d00e95705637ce8a3b55ed402112"))
    }

    @Test func rocEstimationFollowsAppendixA() {
        #expect(SRTPContext.estimateIndex(highest: 0, sequence: 65_535) == 65_535)
        #expect(SRTPContext.estimateIndex(highest: 65_535, sequence: 2) == 0x1_0002)
        #expect(SRTPContext.estimateIndex(highest: 0x1_0002, sequence: 65_530) == 65_530)
        #expect(SRTPContext.estimateIndex(highest: 0x5_9000, sequence: 0x8000) == 0x5_8000)
        #expect(SRTPContext.estimateIndex(highest: 0x5_9000, sequence: 0x0FFF) == 0x6_0FFF)
        #expect(SRTPContext.estimateIndex(highest: 0x5_9000, sequence: 0x1000) == 0x5_1000)
        #expect(SRTPContext.estimateIndex(highest: 0x5_0010, sequence: 0xFFF0) == 0x4_FFF0)
    }
}

@Suite struct SRTPOracleTests {
    @Test(arguments: SRTPSuite.allCases)
    func rtpProtectIsByteIdenticalToLibSRTPAcrossWrap(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 7)
        let tandem = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracle = Oracle(suite: suite, key: key, salt: salt, inbound: false)
        let tandemReceiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracleReceiver = Oracle(suite: suite, key: key, salt: salt, inbound: true)
        for packet in packetSequence(ssrc: 0xCAFE_BABE) {
            let ours = try tandem.protect(packet)
            let theirs = try #require(oracle.protect(packet))
            #expect(ours == theirs)
            #expect(ours.count == packet.count + suite.rtpTagLength)
            // Cross-unprotect both ways.
            #expect(try tandemReceiver.unprotect(theirs) == packet)
            #expect(oracleReceiver.unprotect(ours) == packet)
        }
    }

    @Test(arguments: SRTPSuite.allCases)
    func libSRTPUnprotectsTandemRTP(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 8)
        let tandem = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracleReceiver = Oracle(suite: suite, key: key, salt: salt, inbound: true)
        for packet in packetSequence(ssrc: 0x0102_0304) {
            #expect(oracleReceiver.unprotect(try tandem.protect(packet)) == packet)
        }
    }

    @Test(arguments: SRTPSuite.allCases)
    func rtcpIsByteIdenticalAndCrossUnprotects(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 9)
        let tandem = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracle = Oracle(suite: suite, key: key, salt: salt, inbound: false)
        let tandemReceiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracleReceiver = Oracle(suite: suite, key: key, salt: salt, inbound: true)
        let tagLength = suite.rtpTagLength == 16 ? 16 : 10
        for i in 0..<20 {
            let packet = makeRTCP(ssrc: 0xCAFE_BABE, salt: UInt8(i))
            let ours = try tandem.protectRTCP(packet)
            let theirs = try #require(oracle.protectRTCP(packet))
            #expect(ours == theirs)
            #expect(ours.count == packet.count + 4 + tagLength)
            #expect(try tandemReceiver.unprotectRTCP(theirs) == packet)
            #expect(oracleReceiver.unprotectRTCP(ours) == packet)
        }
    }
}

@Suite struct SRTPReceiveTests {
    @Test(arguments: SRTPSuite.allCases)
    func tamperedPacketsFailAuthentication(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 10)
        let sender = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let receiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let protected = try sender.protect(makeRTP(sequence: 1, timestamp: 0, ssrc: 5, payloadLength: 160))
        for position in [1, 4, 12, 100, protected.count - 1] {
            var tampered = protected
            tampered[position] ^= 0x01
            #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(tampered) }
        }
        // The failures did not poison the window: the genuine packet still passes.
        #expect(try receiver.unprotect(protected).count == 12 + 160)
        let rtcp = try sender.protectRTCP(makeRTCP(ssrc: 5, salt: 1))
        var tamperedRTCP = rtcp
        tamperedRTCP[20] ^= 0x80
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotectRTCP(tamperedRTCP) }
        #expect(try receiver.unprotectRTCP(rtcp) == makeRTCP(ssrc: 5, salt: 1))
    }

    @Test(arguments: SRTPSuite.allCases)
    func replayWindowRejectsDuplicatesAndOldPackets(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 11)
        let sender = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let receiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let protected = try (1...300).map { try sender.protect(makeRTP(sequence: UInt16($0), timestamp: 0, ssrc: 9, payloadLength: 20)) }
        _ = try receiver.unprotect(protected[0])
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(protected[0]) }
        // Reordered within the window: 3 before 2.
        _ = try receiver.unprotect(protected[2])
        _ = try receiver.unprotect(protected[1])
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(protected[2]) }
        // Jump to sequence 200; 73 is 127 behind (accepted), 72 is 128 behind (too old).
        _ = try receiver.unprotect(protected[199])
        _ = try receiver.unprotect(protected[72])
        #expect(throws: SRTPError.tooOld) { try receiver.unprotect(protected[71]) }
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(protected[72]) }
        // RTCP: duplicate index rejected.
        let rtcp = try sender.protectRTCP(makeRTCP(ssrc: 9, salt: 0))
        _ = try receiver.unprotectRTCP(rtcp)
        #expect(throws: SRTPError.replayed) { try receiver.unprotectRTCP(rtcp) }
    }

    @Test func replayWindowAgreesWithLibSRTP() throws {
        // Random arrival orders (late, duplicated) of a wrapping sequence: Tandem and libsrtp accept the same set.
        let suite = SRTPSuite.aesCM128HMACSHA1_80
        let (key, salt) = keys(suite, seed: 12)
        let sender = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let protected = try (0..<600).map {
            try sender.protect(makeRTP(sequence: UInt16(truncatingIfNeeded: 65_300 + $0), timestamp: 0, ssrc: 3, payloadLength: 8))
        }
        let receiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let oracle = Oracle(suite: suite, key: key, salt: salt, inbound: true)
        var random = TestRandom(seed: 99)
        var agreed = 0
        var rejected = 0
        for i in 0..<protected.count {
            // Mostly in order; sometimes a late copy of an earlier packet (up to 199 behind), sometimes skip.
            var arrivals = random.int(0..<5) == 0 ? [] : [i]
            if random.int(0..<3) == 0 { arrivals.append(max(0, i - random.int(0..<200))) }
            for pick in arrivals {
                let ours = try? receiver.unprotect(protected[pick])
                let theirs = oracle.unprotect(protected[pick])
                #expect(ours == theirs)
                if ours != nil { agreed += 1 } else { rejected += 1 }
            }
        }
        #expect(rejected > 50)
        #expect(agreed > 400)
    }

    @Test func shortAndMalformedPacketsAreRejected() throws {
        let suite = SRTPSuite.aesCM128HMACSHA1_80
        let (key, salt) = keys(suite, seed: 13)
        let context = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        #expect(throws: SRTPError.tooShort) { try context.unprotect([0x80, 0, 0, 1]) }
        #expect(throws: SRTPError.tooShort) { try context.protect([0x80, 0, 0, 1]) }
        #expect(throws: SRTPError.malformed) { try context.protect([UInt8](repeating: 0, count: 20)) }
        // CSRC count 15 in a 20-byte packet: header overruns.
        #expect(throws: SRTPError.malformed) { try context.protect([0x8F] + [UInt8](repeating: 0, count: 19)) }
        #expect(throws: SRTPError.tooShort) { try context.unprotectRTCP([0x81, 201, 0, 1, 0, 0, 0, 1]) }
        // No room for the tag.
        var exact = makeRTP(sequence: 1, timestamp: 0, ssrc: 1, payloadLength: 10)
        let count = exact.count
        let outcome = exact.withUnsafeMutableBytes { b in Result { () throws(SRTPError) in try context.protect(b, length: count) } }
        #expect(outcome == .failure(.bufferTooSmall))
    }

    @Test(arguments: SRTPSuite.allCases)
    func garbageNeverCrashes(suite: SRTPSuite) throws {
        let (key, salt) = keys(suite, seed: 14)
        let sender = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let receiver = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        let genuine = try sender.protect(makeRTP(sequence: 7, timestamp: 0, ssrc: 1, payloadLength: 50))
        var random = TestRandom(seed: 15)
        var accepted = 0
        for i in 0..<5_000 {
            var packet: [UInt8]
            if i % 2 == 0 {
                packet = random.bytes(random.int(0..<120))
            } else {
                packet = Array(genuine.prefix(random.int(0..<(genuine.count + 1))))
                if !packet.isEmpty { packet[random.int(0..<packet.count)] ^= random.byte() | 1 }
            }
            if (try? receiver.unprotect(packet)) != nil { accepted += 1 }
            _ = try? receiver.unprotectRTCP(packet)
        }
        #expect(accepted == 0)
        #expect(try receiver.unprotect(genuine).count == genuine.count - suite.rtpTagLength)
    }

    @Test func streamLimitIsEnforced() throws {
        let suite = SRTPSuite.aeadAES128GCM
        let (key, salt) = keys(suite, seed: 16)
        let sender = try SRTPContext(suite: suite, masterKey: key, masterSalt: salt)
        for ssrc in 0..<UInt32(SRTPContext.maximumStreams) {
            _ = try sender.protect(makeRTP(sequence: 1, timestamp: 0, ssrc: ssrc, payloadLength: 4))
        }
        #expect(throws: SRTPError.tooManyStreams) {
            try sender.protect(makeRTP(sequence: 1, timestamp: 0, ssrc: 1000, payloadLength: 4))
        }
    }

    @Test func wrongKeyLengthsAreRejected() {
        #expect(throws: SRTPError.invalidKey) {
            try SRTPContext(suite: .aeadAES256GCM, masterKey: [UInt8](repeating: 1, count: 16), masterSalt: [UInt8](repeating: 1, count: 12))
        }
        #expect(throws: SRTPError.invalidKey) {
            try SRTPContext(suite: .aesCM128HMACSHA1_80, masterKey: [UInt8](repeating: 1, count: 16), masterSalt: [UInt8](repeating: 1, count: 12))
        }
    }
}
