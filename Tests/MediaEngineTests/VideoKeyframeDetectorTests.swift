@testable import MediaEngine
import Testing

/// Keyframe detection from RTP payloads (RFC 7741 VP8, RFC 9628 VP9, RFC 6184 H.264).
@Suite struct VideoKeyframeDetectorTests {
    static func detect(_ bytes: [UInt8], _ kind: VideoCodecKind) -> Bool? {
        bytes.withUnsafeBytes { VideoKeyframeDetector.startsKeyframe($0, kind: kind) }
    }

    @Test func vp8() {
        // S=1, PID=0, no extension; payload header P=0 → key frame; P=1 → inter frame.
        #expect(Self.detect([0x10, 0x00, 0x9D], .vp8) == true)
        #expect(Self.detect([0x10, 0x01, 0x9D], .vp8) == false)
        // Not the start of partition 0.
        #expect(Self.detect([0x00, 0x00], .vp8) == false)
        #expect(Self.detect([0x11, 0x00], .vp8) == false)
        // X with I (15-bit PictureID, M set), L, T: descriptor is 1 + 1 + 2 + 1 + 1 octets.
        #expect(Self.detect([0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x00], .vp8) == true)
        #expect(Self.detect([0x90, 0xE0, 0x81, 0x23, 0x05, 0x40, 0x01], .vp8) == false)
        // X with I (7-bit PictureID).
        #expect(Self.detect([0x90, 0x80, 0x12, 0x00], .vp8) == true)
        #expect(Self.detect([0x90, 0x80, 0x12, 0x01], .vp8) == false)
        // Truncated descriptors never trap and are not keyframes.
        #expect(Self.detect([], .vp8) == false)
        #expect(Self.detect([0x90], .vp8) == false)
        #expect(Self.detect([0x90, 0x80, 0x92], .vp8) == false)
        #expect(Self.detect([0x10], .vp8) == false)
    }

    @Test func vp9() {
        // B=1, P=0, no layer indices → key frame start.
        #expect(Self.detect([0x08], .vp9) == true)
        // P=1 → inter.
        #expect(Self.detect([0x48], .vp9) == false)
        // B=0 → not a frame start.
        #expect(Self.detect([0x00], .vp9) == false)
        // I (7-bit picture ID) and L: SID 0 → key; SID 1 → not the base layer.
        #expect(Self.detect([0xA8, 0x05, 0x00], .vp9) == true)
        #expect(Self.detect([0xA8, 0x05, 0x02], .vp9) == false)
        #expect(Self.detect([0xA8, 0x85], .vp9) == false)
    }

    @Test func h264() {
        // Single NAL units: IDR (5) and SPS (7) start a keyframe; non-IDR slice (1) and PPS (8) do not.
        #expect(Self.detect([0x65, 0x88], .h264) == true)
        #expect(Self.detect([0x67, 0x42], .h264) == true)
        #expect(Self.detect([0x41, 0x9A], .h264) == false)
        #expect(Self.detect([0x68, 0xCE], .h264) == false)
        // STAP-A with SPS and PPS; STAP-A with only non-IDR slices.
        #expect(Self.detect([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE], .h264) == true)
        #expect(Self.detect([0x78, 0x00, 0x02, 0x68, 0xCE, 0x00, 0x02, 0x65, 0x88], .h264) == true)
        #expect(Self.detect([0x78, 0x00, 0x02, 0x41, 0x9A, 0x00, 0x02, 0x41, 0x9B], .h264) == false)
        // STAP-A whose size runs past the end, or zero: not a keyframe, no trap.
        #expect(Self.detect([0x78, 0x00, 0x09, 0x67], .h264) == false)
        #expect(Self.detect([0x78, 0x00, 0x00, 0x67], .h264) == false)
        // STAP-B: DON first.
        #expect(Self.detect([0x79, 0x00, 0x01, 0x00, 0x02, 0x65, 0x88], .h264) == true)
        // FU-A: first fragment of an IDR → key; middle fragment or non-IDR start → not.
        #expect(Self.detect([0x7C, 0x85, 0x88], .h264) == true)
        #expect(Self.detect([0x7C, 0x05, 0x88], .h264) == false)
        #expect(Self.detect([0x7C, 0x45, 0x88], .h264) == false)
        #expect(Self.detect([0x7C, 0x81, 0x9A], .h264) == false)
        #expect(Self.detect([0x7C], .h264) == false)
        #expect(Self.detect([], .h264) == false)
    }

    @Test func codecsWithoutDetection() {
        #expect(Self.detect([0x00], .av1) == nil)
        #expect(Self.detect([0x00], .h265) == nil)
        #expect(Self.detect([0x00], .other) == nil)
    }
}
