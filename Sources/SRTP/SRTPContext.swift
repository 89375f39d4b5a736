import TandemBase

/// SRTP and SRTCP protection for one direction of one media session (RFC 3711, RFC 7714).
///
/// Create one for sending (`protect`, `protectRTCP`) and one for receiving (`unprotect`,
/// `unprotectRTCP`). Each context tracks up to `maximumStreams` SSRCs, each with its own rollover
/// counter, SRTCP index and 128-packet replay windows. Construction derives the session keys and allocates;
/// the per-packet methods work in place on the caller's buffer and never allocate, lock or format.
/// A context is owned by one thread at a time (it may be handed to a worker once, then used only there).
public final class SRTPContext: @unchecked Sendable {
    /// The crypto suite.
    public let suite: SRTPSuite
    /// SSRCs one context tracks; a further SSRC is refused with `.tooManyStreams`.
    public static let maximumStreams = 8

    private let isAEAD: Bool
    private let rtpTagLength: Int
    private let rtpCipher: AESCounterMode?
    private let rtcpCipher: AESCounterMode?
    private let rtpAuthenticator: HMACSHA1?
    private let rtcpAuthenticator: HMACSHA1?
    private let rtpAEAD: AESGCM?
    private let rtcpAEAD: AESGCM?
    /// Scratch and salts; see the offsets below. Allocated once.
    private let memory: UnsafeMutableRawPointer
    private let streams: UnsafeMutablePointer<StreamState>
    private var streamCount = 0

    // Offsets into `memory`: session salts are stored zero-padded to 16 bytes.
    private static let rtpSaltOffset = 0
    private static let rtcpSaltOffset = 16
    private static let ivOffset = 32
    private static let macOffset = 48  // 20 bytes of HMAC-SHA1 output
    private static let wordOffset = 72  // 4 bytes: ROC or E||SRTCP index, big-endian
    private static let memorySize = 80

    /// SRTCP tag length: 80 bits for both AES-CM suites (RFC 4568 §6.2.2 keeps SRTCP at 80 bits for
    /// _32), 128 bits for AEAD.
    private var rtcpTagLength: Int { isAEAD ? 16 : 10 }

    private struct StreamState {
        var ssrc: UInt32
        /// Highest 48-bit SRTP index protected (send) — ROC || SEQ.
        var rtpSendIndex: UInt64 = 0
        var rtpReceive = ReplayWindow()
        /// Last SRTCP index used (send); the first packet uses 1, as libsrtp does.
        var rtcpSendIndex: UInt32 = 0
        var rtcpReceive = ReplayWindow()

        init(ssrc: UInt32) { self.ssrc = ssrc }
    }

    /// Derives the session keys from a master key and salt whose lengths match `suite`. Allocates.
    public init(suite: SRTPSuite, masterKey: [UInt8], masterSalt: [UInt8]) throws(SRTPError) {
        guard masterKey.count == suite.keyLength, masterSalt.count == suite.saltLength else { throw .invalidKey }
        self.suite = suite
        rtpTagLength = suite.rtpTagLength
        let aead: Bool
        switch suite {
        case .aesCM128HMACSHA1_80, .aesCM128HMACSHA1_32: aead = false
        case .aeadAES128GCM, .aeadAES256GCM: aead = true
        }
        isAEAD = aead
        let rtpKey = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: .rtpEncryption, count: suite.keyLength)
        let rtcpKey = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: .rtcpEncryption, count: suite.keyLength)
        let rtpSalt = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: .rtpSalt, count: suite.saltLength)
        let rtcpSalt = try SRTPKeyDerivation.derive(
            masterKey: masterKey, masterSalt: masterSalt, label: .rtcpSalt, count: suite.saltLength)
        do {
            if aead {
                rtpAEAD = try rtpKey.withUnsafeBytes { (k) throws(CryptoError) in try AESGCM(key: k) }
                rtcpAEAD = try rtcpKey.withUnsafeBytes { (k) throws(CryptoError) in try AESGCM(key: k) }
                rtpCipher = nil
                rtcpCipher = nil
                rtpAuthenticator = nil
                rtcpAuthenticator = nil
            } else {
                // RFC 3711 §4.2.1 / §8.2: 160-bit session authentication keys.
                let rtpAuthKey = try SRTPKeyDerivation.derive(
                    masterKey: masterKey, masterSalt: masterSalt, label: .rtpAuthentication, count: 20)
                let rtcpAuthKey = try SRTPKeyDerivation.derive(
                    masterKey: masterKey, masterSalt: masterSalt, label: .rtcpAuthentication, count: 20)
                rtpCipher = try rtpKey.withUnsafeBytes { (k) throws(CryptoError) in try AESCounterMode(key: k) }
                rtcpCipher = try rtcpKey.withUnsafeBytes { (k) throws(CryptoError) in try AESCounterMode(key: k) }
                rtpAuthenticator = try rtpAuthKey.withUnsafeBytes { (k) throws(CryptoError) in try HMACSHA1(key: k) }
                rtcpAuthenticator = try rtcpAuthKey.withUnsafeBytes { (k) throws(CryptoError) in
                    try HMACSHA1(key: k)
                }
                rtpAEAD = nil
                rtcpAEAD = nil
            }
        } catch {
            throw .invalidKey
        }
        memory = UnsafeMutableRawPointer.allocate(byteCount: Self.memorySize, alignment: 16)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.memorySize)
        for i in 0..<rtpSalt.count { memory.storeBytes(of: rtpSalt[i], toByteOffset: Self.rtpSaltOffset + i, as: UInt8.self) }
        for i in 0..<rtcpSalt.count {
            memory.storeBytes(of: rtcpSalt[i], toByteOffset: Self.rtcpSaltOffset + i, as: UInt8.self)
        }
        streams = UnsafeMutablePointer<StreamState>.allocate(capacity: Self.maximumStreams)
    }

    /// Creates a context from SDES key parameters (the `inline:` key and salt of an a=crypto line).
    public convenience init(suite: SRTPSuite, keyParameters: SDESKeyParameters) throws(SRTPError) {
        try self.init(suite: suite, masterKey: keyParameters.masterKey, masterSalt: keyParameters.masterSalt)
    }

    deinit {
        streams.deinitialize(count: streamCount)
        streams.deallocate()
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: Self.memorySize)
        memory.deallocate()
    }

    // MARK: - SRTP

    /// Encrypts and authenticates the RTP packet in `buffer[0..<length]` in place, appending the tag.
    /// Returns the SRTP length (`length + suite.rtpTagLength`). The buffer must have room for the tag.
    public func protect(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard let base = buffer.baseAddress, length >= 0, length <= buffer.count else { throw .bufferTooSmall }
        let headerLength = try Self.rtpHeaderLength(base, length)
        guard buffer.count - length >= rtpTagLength else { throw .bufferTooSmall }
        let ssrc = Self.load32(base, 8)
        let sequence = Self.load16(base, 2)
        let slot = try streamSlot(ssrc, create: true)
        let index = Self.estimateIndex(highest: streams[slot].rtpSendIndex, sequence: sequence)
        guard index < 1 << 48 else { throw .keyExhausted }
        if index > streams[slot].rtpSendIndex { streams[slot].rtpSendIndex = index }
        let roc = UInt32(truncatingIfNeeded: index >> 16)
        let payload = base + headerLength
        let payloadLength = length - headerLength
        let iv = memory + Self.ivOffset
        if let aead = rtpAEAD {
            makeAEADIV(saltOffset: Self.rtpSaltOffset, ssrc: ssrc, index: index)
            // RFC 7714 §8.2: the AAD is the RTP header, the plaintext the payload; the tag follows it.
            guard
                aead.seal(
                    iv: iv, aad: base, aadCount: headerLength, aad2: iv, aad2Count: 0,
                    data: payload, count: payloadLength, tag: base + length)
            else { throw .cryptoFailure }
        } else if let cipher = rtpCipher, let authenticator = rtpAuthenticator {
            makeCounterIV(saltOffset: Self.rtpSaltOffset, ssrc: ssrc, index: index)
            guard cipher.apply(iv: iv, to: payload, count: payloadLength) else { throw .cryptoFailure }
            // RFC 3711 §4.2: the tag covers the authenticated portion followed by the ROC.
            let word = memory + Self.wordOffset
            word.storeBytes(of: roc.bigEndian, as: UInt32.self)
            let mac = memory + Self.macOffset
            authenticator.authenticate(base, count: length, word, count: 4, into: mac)
            (base + length).copyMemory(from: mac, byteCount: rtpTagLength)
        }
        return length + rtpTagLength
    }

    /// Verifies and decrypts the SRTP packet in `buffer[0..<length]` in place. Returns the RTP length.
    /// The replay window advances only after the packet authenticates.
    public func unprotect(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard let base = buffer.baseAddress, length >= 0, length <= buffer.count else { throw .bufferTooSmall }
        guard length >= 12 + rtpTagLength else { throw .tooShort }
        let authenticatedLength = length - rtpTagLength
        let headerLength = try Self.rtpHeaderLength(base, authenticatedLength)
        let ssrc = Self.load32(base, 8)
        let sequence = Self.load16(base, 2)
        let existing = findSlot(ssrc)
        guard existing >= 0 || streamCount < Self.maximumStreams else { throw .tooManyStreams }
        var window = existing >= 0 ? streams[existing].rtpReceive : ReplayWindow()
        // RFC 3711 §3.3.1 / Appendix A: estimate the ROC from the highest accepted index.
        let index = Self.estimateIndex(highest: window.highest, sequence: sequence)
        try window.check(index)
        let roc = UInt32(truncatingIfNeeded: index >> 16)
        let payload = base + headerLength
        let payloadLength = authenticatedLength - headerLength
        let iv = memory + Self.ivOffset
        if let aead = rtpAEAD {
            makeAEADIV(saltOffset: Self.rtpSaltOffset, ssrc: ssrc, index: index)
            switch aead.open(
                iv: iv, aad: base, aadCount: headerLength, aad2: iv, aad2Count: 0,
                data: payload, count: payloadLength, tag: base + authenticatedLength)
            {
            case .authentic: break
            case .forged: throw .authenticationFailed
            case .failure: throw .cryptoFailure
            }
        } else if let cipher = rtpCipher, let authenticator = rtpAuthenticator {
            let word = memory + Self.wordOffset
            word.storeBytes(of: roc.bigEndian, as: UInt32.self)
            let mac = memory + Self.macOffset
            authenticator.authenticate(base, count: authenticatedLength, word, count: 4, into: mac)
            guard Self.tagsEqual(mac, base + authenticatedLength, count: rtpTagLength) else {
                throw .authenticationFailed
            }
            makeCounterIV(saltOffset: Self.rtpSaltOffset, ssrc: ssrc, index: index)
            guard cipher.apply(iv: iv, to: payload, count: payloadLength) else { throw .cryptoFailure }
        }
        window.accept(index)
        let slot = existing >= 0 ? existing : insertSlot(ssrc)
        streams[slot].rtpReceive = window
        return authenticatedLength
    }

    // MARK: - SRTCP

    /// Encrypts and authenticates the RTCP compound packet in `buffer[0..<length]` in place (RFC 3711 §3.4,
    /// RFC 7714 §9), appending the E-flag, SRTCP index and tag. Returns the SRTCP length.
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard let base = buffer.baseAddress, length >= 0, length <= buffer.count else { throw .bufferTooSmall }
        guard length >= 8 else { throw .tooShort }
        guard base.load(as: UInt8.self) >> 6 == 2 else { throw .malformed }
        guard buffer.count - length >= 4 + rtcpTagLength else { throw .bufferTooSmall }
        let ssrc = Self.load32(base, 4)
        let slot = try streamSlot(ssrc, create: true)
        let index = streams[slot].rtcpSendIndex &+ 1
        // RFC 3711 §9.2: the 31-bit SRTCP index must not wrap under one key.
        guard index <= 0x7FFF_FFFF else { throw .keyExhausted }
        streams[slot].rtcpSendIndex = index
        let flaggedIndex = (0x8000_0000 as UInt32) | index  // E = 1: always encrypt
        let iv = memory + Self.ivOffset
        let word = memory + Self.wordOffset
        word.storeBytes(of: flaggedIndex.bigEndian, as: UInt32.self)
        if let aead = rtcpAEAD {
            // RFC 7714 §9.1: AAD = first 8 octets || E || SRTCP index; layout: header, ciphertext, tag, index.
            makeAEADIV(saltOffset: Self.rtcpSaltOffset, ssrc: ssrc, index: UInt64(index))
            guard
                aead.seal(
                    iv: iv, aad: base, aadCount: 8, aad2: word, aad2Count: 4,
                    data: base + 8, count: length - 8, tag: base + length)
            else { throw .cryptoFailure }
            (base + length + 16).copyMemory(from: word, byteCount: 4)
            return length + 20
        } else if let cipher = rtcpCipher, let authenticator = rtcpAuthenticator {
            makeCounterIV(saltOffset: Self.rtcpSaltOffset, ssrc: ssrc, index: UInt64(index))
            guard cipher.apply(iv: iv, to: base + 8, count: length - 8) else { throw .cryptoFailure }
            (base + length).copyMemory(from: word, byteCount: 4)
            let mac = memory + Self.macOffset
            authenticator.authenticate(base, count: length + 4, word, count: 0, into: mac)
            (base + length + 4).copyMemory(from: mac, byteCount: 10)
            return length + 14
        }
        throw .cryptoFailure
    }

    /// Verifies and (when the E-flag is set) decrypts the SRTCP packet in `buffer[0..<length]` in place.
    /// Returns the RTCP length. The replay window advances only after the packet authenticates.
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        guard let base = buffer.baseAddress, length >= 0, length <= buffer.count else { throw .bufferTooSmall }
        guard length >= 8 + 4 + rtcpTagLength else { throw .tooShort }
        guard base.load(as: UInt8.self) >> 6 == 2 else { throw .malformed }
        let ssrc = Self.load32(base, 4)
        let existing = findSlot(ssrc)
        guard existing >= 0 || streamCount < Self.maximumStreams else { throw .tooManyStreams }
        var window = existing >= 0 ? streams[existing].rtcpReceive : ReplayWindow()
        let iv = memory + Self.ivOffset
        let rtcpLength: Int
        let indexWord: UInt32
        if let aead = rtcpAEAD {
            let trailer = base + length - 4
            indexWord = Self.load32(trailer, 0)
            let index = indexWord & 0x7FFF_FFFF
            try window.check(UInt64(index))
            rtcpLength = length - 20
            let tag = base + rtcpLength
            makeAEADIV(saltOffset: Self.rtcpSaltOffset, ssrc: ssrc, index: UInt64(index))
            let result: AEADOpenResult
            if indexWord & 0x8000_0000 != 0 {
                result = aead.open(
                    iv: iv, aad: base, aadCount: 8, aad2: trailer, aad2Count: 4,
                    data: base + 8, count: rtcpLength - 8, tag: tag)
            } else {
                // RFC 7714 §9.2: unencrypted SRTCP authenticates the whole packet and the index.
                result = aead.open(
                    iv: iv, aad: base, aadCount: rtcpLength, aad2: trailer, aad2Count: 4,
                    data: base, count: 0, tag: tag)
            }
            switch result {
            case .authentic: break
            case .forged: throw .authenticationFailed
            case .failure: throw .cryptoFailure
            }
        } else if let cipher = rtcpCipher, let authenticator = rtcpAuthenticator {
            let authenticatedLength = length - 10
            rtcpLength = authenticatedLength - 4
            indexWord = Self.load32(base, rtcpLength)
            let index = indexWord & 0x7FFF_FFFF
            try window.check(UInt64(index))
            let mac = memory + Self.macOffset
            authenticator.authenticate(base, count: authenticatedLength, base, count: 0, into: mac)
            guard Self.tagsEqual(mac, base + authenticatedLength, count: 10) else { throw .authenticationFailed }
            if indexWord & 0x8000_0000 != 0 {
                makeCounterIV(saltOffset: Self.rtcpSaltOffset, ssrc: ssrc, index: UInt64(index))
                guard cipher.apply(iv: iv, to: base + 8, count: rtcpLength - 8) else { throw .cryptoFailure }
            }
        } else {
            throw .cryptoFailure
        }
        window.accept(UInt64(indexWord & 0x7FFF_FFFF))
        let slot = existing >= 0 ? existing : insertSlot(ssrc)
        streams[slot].rtcpReceive = window
        return rtcpLength
    }

    // MARK: - Helpers

    /// RFC 3711 Appendix A, as libsrtp applies it: while the highest index is at most 2^15 the ROC is 0;
    /// after that the ROC guess is v-1, v or v+1 depending on where SEQ falls relative to s_l.
    static func estimateIndex(highest: UInt64, sequence: UInt16) -> UInt64 {
        let s = UInt64(sequence)
        if highest <= 0x8000 { return s }
        let roc = highest >> 16
        let localSequence = highest & 0xFFFF
        if localSequence < 0x8000 {
            if s > localSequence && s - localSequence > 0x8000 { return ((roc &- 1) << 16) | s }
            return (roc << 16) | s
        }
        if localSequence - 0x8000 > s { return ((roc &+ 1) << 16) | s }
        return (roc << 16) | s
    }

    /// Length of the RTP header (fixed part, CSRCs, extension) inside `length` bytes.
    private static func rtpHeaderLength(_ base: UnsafeMutableRawPointer, _ length: Int) throws(SRTPError) -> Int {
        guard length >= 12 else { throw .tooShort }
        let first = base.load(as: UInt8.self)
        guard first >> 6 == 2 else { throw .malformed }
        var header = 12 + 4 * Int(first & 0x0F)
        if first & 0x10 != 0 {
            guard header + 4 <= length else { throw .malformed }
            header += 4 + 4 * Int(load16(base, header + 2))
        }
        guard header <= length else { throw .malformed }
        return header
    }

    /// AES-CM IV (RFC 3711 §4.1.1): (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
    private func makeCounterIV(saltOffset: Int, ssrc: UInt32, index: UInt64) {
        let iv = memory + Self.ivOffset
        iv.copyMemory(from: memory + saltOffset, byteCount: 16)
        Self.xor32(iv, 4, ssrc)
        Self.xor32(iv, 8, UInt32(truncatingIfNeeded: index >> 16))
        Self.xor16(iv, 12, UInt16(truncatingIfNeeded: index))
    }

    /// AEAD IV (RFC 7714 §8.1, §9.1): 00 00 || SSRC || 48-bit index, XOR the 96-bit salt. For SRTP the
    /// index is ROC || SEQ; for SRTCP it is 0 0 || the 31-bit SRTCP index, so both fill the same 48 bits.
    private func makeAEADIV(saltOffset: Int, ssrc: UInt32, index: UInt64) {
        let iv = memory + Self.ivOffset
        iv.copyMemory(from: memory + saltOffset, byteCount: 12)
        Self.xor32(iv, 2, ssrc)
        Self.xor16(iv, 6, UInt16(truncatingIfNeeded: index >> 32))
        Self.xor32(iv, 8, UInt32(truncatingIfNeeded: index))
    }

    private func findSlot(_ ssrc: UInt32) -> Int {
        var i = 0
        while i < streamCount {
            if streams[i].ssrc == ssrc { return i }
            i += 1
        }
        return -1
    }

    private func insertSlot(_ ssrc: UInt32) -> Int {
        (streams + streamCount).initialize(to: StreamState(ssrc: ssrc))
        streamCount += 1
        return streamCount - 1
    }

    private func streamSlot(_ ssrc: UInt32, create: Bool) throws(SRTPError) -> Int {
        let found = findSlot(ssrc)
        if found >= 0 { return found }
        guard create, streamCount < Self.maximumStreams else { throw .tooManyStreams }
        return insertSlot(ssrc)
    }

    private static func tagsEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        // Constant time: no early exit on the first differing byte.
        var difference: UInt8 = 0
        for i in 0..<count {
            difference |= a.load(fromByteOffset: i, as: UInt8.self) ^ b.load(fromByteOffset: i, as: UInt8.self)
        }
        return difference == 0
    }

    private static func load16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(p.load(fromByteOffset: offset, as: UInt8.self)) << 8
            | UInt16(p.load(fromByteOffset: offset + 1, as: UInt8.self))
    }

    private static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    private static func xor32(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt32) {
        let current = p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        p.storeBytes(of: current ^ value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    private static func xor16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt16) {
        let current = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        p.storeBytes(of: current ^ value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }
}
