import COpenSSL
import COpus
import CSRTP
import CSpanDSP
import Foundation
import Testing

/// Each C library is reachable through its CSupport target and does real work.
@Suite struct CLibraryTests {
    /// A 1 kHz sine at `rate`, amplitude 8000.
    static func sine(rate: Int, samples: Int, frequency: Double = 1000) -> [Int16] {
        (0..<samples).map { Int16(8000 * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
    }

    @Test func opusEncodesAndDecodesAFrame() throws {
        var error: Int32 = 0
        let enc = try #require(opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(enc) }
        #expect(error == OPUS_OK)
        #expect(tdm_opus_encoder_set(enc, OPUS_SET_BITRATE_REQUEST, 32000) == OPUS_OK)
        var bitrate: Int32 = 0
        #expect(tdm_opus_encoder_get(enc, OPUS_GET_BITRATE_REQUEST, &bitrate) == OPUS_OK)
        #expect(bitrate == 32000)
        let dec = try #require(opus_decoder_create(48000, 1, &error))
        defer { opus_decoder_destroy(dec) }

        let pcm = Self.sine(rate: 48000, samples: 960 * 10)
        var packet = [UInt8](repeating: 0, count: 1500)
        var decoded = [Int16](repeating: 0, count: 960)
        var energyOut = 0.0
        for frame in 0..<10 {
            let n = pcm.withUnsafeBufferPointer { p in
                opus_encode(enc, p.baseAddress! + frame * 960, 960, &packet, Int32(packet.count))
            }
            #expect(n > 0 && n < 400)
            let samples = opus_decode(dec, packet, n, &decoded, 960, 0)
            #expect(samples == 960)
            if frame >= 5 { energyOut += decoded.reduce(0.0) { $0 + Double($1) * Double($1) } }
        }
        // After the encoder settles the decoded sine carries comparable energy (RMS ~5657 in).
        let rms = (energyOut / (5 * 960)).squareRoot()
        #expect(rms > 3000 && rms < 8000, "decoded RMS \(rms)")
    }

    @Test func g722EncodesTwentyMillisecondsIntoOneHundredSixtyBytes() throws {
        let state = try #require(g722_encode_init(nil, 64000, 0))
        defer { g722_encode_free(state) }
        let pcm = Self.sine(rate: 16000, samples: 320)
        var out = [UInt8](repeating: 0, count: 320)
        let n = g722_encode(state, &out, pcm, 320)
        #expect(n == 160)
        #expect(out.contains { $0 != out[0] })
        #expect(tdm_spandsp_release_date() >= 20080000)
    }

    @Test(arguments: [1, 2, 3, 4])
    func srtpProtectsAndUnprotects(suite: Int32) throws {
        #expect(tdm_srtp_init_once() == 0)
        var key = [UInt8](repeating: 0, count: 46)
        for i in key.indices { key[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
        var outboundPolicy = srtp_policy_t()
        var inboundPolicy = srtp_policy_t()
        var sender: srtp_t?
        var receiver: srtp_t?
        try key.withUnsafeMutableBufferPointer { k in
            #expect(tdm_srtp_policy_for_suite(&outboundPolicy, suite, 0, k.baseAddress) == 0)
            #expect(tdm_srtp_policy_for_suite(&inboundPolicy, suite, 1, k.baseAddress) == 0)
            #expect(srtp_create(&sender, &outboundPolicy) == srtp_err_status_ok)
            #expect(srtp_create(&receiver, &inboundPolicy) == srtp_err_status_ok)
            _ = try #require(sender)
        }
        defer { srtp_dealloc(sender); srtp_dealloc(receiver) }

        // RTP header: V=2, PT 0, seq 1, ts 160, SSRC 0xdeadbeef, then 160 payload bytes.
        var packet: [UInt8] = [0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xde, 0xad, 0xbe, 0xef]
        packet += (0..<160).map { UInt8($0 & 0xff) }
        let original = packet
        packet += [UInt8](repeating: 0, count: 64)
        var length = Int32(original.count)
        #expect(srtp_protect(sender, &packet, &length) == srtp_err_status_ok)
        #expect(Int(length) > original.count)
        #expect(Array(packet[12..<Int(length)]) != Array(original[12...]) + [UInt8](repeating: 0, count: Int(length) - original.count))
        #expect(srtp_unprotect(receiver, &packet, &length) == srtp_err_status_ok)
        #expect(Array(packet[0..<Int(length)]) == original)
        // Replaying the same protected packet is rejected.
        var again = Array(original) + [UInt8](repeating: 0, count: 64)
        var againLength = Int32(original.count)
        _ = srtp_protect(sender, &again, &againLength) // seq 1 again: sender refuses or receiver rejects
        var replay = again
        #expect(srtp_unprotect(receiver, &replay, &againLength) != srtp_err_status_ok)
    }

    @Test func openSSLReportsVersionAndHashes() {
        let version = String(cString: tdm_openssl_version())
        #expect(version.hasPrefix("OpenSSL 3"))
        var out = [UInt8](repeating: 0, count: 32)
        let input = Array("abc".utf8)
        #expect(tdm_digest(3, input, input.count, &out, out.count) == 32)
        // FIPS 180-2 appendix B.1.
        #expect(out.prefix(4) == [0xba, 0x78, 0x16, 0xbf])
    }
}
