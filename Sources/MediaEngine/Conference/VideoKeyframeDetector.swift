/// Recognises the first packet of a keyframe from the RTP payload, without decoding.
///
/// Pure functions over the caller's bytes; any thread; no allocation; O(1) except H.264 STAP
/// aggregates, which cost one step per aggregated NAL unit. Truncated or odd payloads give `false`.
enum VideoKeyframeDetector {
    /// True when `payload` (RTP payload, padding excluded) starts a keyframe of `kind`; nil when the
    /// forwarder cannot tell for that codec.
    @inline(__always)
    static func startsKeyframe(_ payload: UnsafeRawBufferPointer, kind: VideoCodecKind) -> Bool? {
        switch kind {
        case .vp8: return vp8StartsKeyframe(payload)
        case .vp9: return vp9StartsKeyframe(payload)
        case .h264: return h264StartsKeyframe(payload)
        case .h265, .av1, .other: return nil
        }
    }

    /// RFC 7741 §4.2–4.3: the payload descriptor, then, in the first packet of a partition 0 (S = 1,
    /// PID = 0), the VP8 payload header whose P bit (bit 0 of its first octet) is 0 for a key frame.
    static func vp8StartsKeyframe(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 1 else { return false }
        let b0 = p[0]
        // S (start of partition) must be set and the partition index 0.
        guard b0 & 0x10 != 0, b0 & 0x07 == 0 else { return false }
        var offset = 1
        if b0 & 0x80 != 0 {
            // X: the extension octet I L T K.
            guard p.count > offset else { return false }
            let x = p[offset]
            offset += 1
            if x & 0x80 != 0 {
                // I: PictureID, 15 bits when its M bit is set, else 7.
                guard p.count > offset else { return false }
                offset += p[offset] & 0x80 != 0 ? 2 : 1
            }
            // L: TL0PICIDX.
            if x & 0x40 != 0 { offset += 1 }
            // T or K: one octet TID Y KEYIDX.
            if x & 0x30 != 0 { offset += 1 }
        }
        guard p.count > offset else { return false }
        return p[offset] & 0x01 == 0
    }

    /// RFC 9628 §4.2: flexible or non-flexible descriptor I P L F B E V Z; a keyframe starts where B
    /// (beginning of frame) is set, P (inter-picture predicted) is clear, and the spatial layer (if
    /// given) is the base layer.
    static func vp9StartsKeyframe(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 1 else { return false }
        let b0 = p[0]
        guard b0 & 0x08 != 0, b0 & 0x40 == 0 else { return false }
        guard b0 & 0x20 != 0 else { return true }
        var offset = 1
        if b0 & 0x80 != 0 {
            guard p.count > offset else { return false }
            offset += p[offset] & 0x80 != 0 ? 2 : 1
        }
        guard p.count > offset else { return false }
        // Layer indices: TID(3) U SID(3) D.
        return (p[offset] >> 1) & 0x07 == 0
    }

    /// RFC 6184 §5.2–5.8: a NAL unit of type 5 (IDR slice) or 7 (SPS) starts a keyframe, whether it
    /// travels alone, inside a STAP-A/STAP-B aggregate, or as the first fragment (S bit) of an
    /// FU-A/FU-B. SPS counts so the switch happens before the parameter sets, not after them.
    static func h264StartsKeyframe(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 1 else { return false }
        let type = p[0] & 0x1F
        switch type {
        case 5, 7:
            return true
        case 24, 25:
            // STAP-A: 16-bit size + NAL unit, repeated; STAP-B has a 16-bit DON first.
            var offset = type == 24 ? 1 : 3
            while offset + 2 < p.count {
                let size = Int(p[offset]) << 8 | Int(p[offset + 1])
                offset += 2
                guard size > 0, offset + size <= p.count else { return false }
                let inner = p[offset] & 0x1F
                if inner == 5 || inner == 7 { return true }
                offset += size
            }
            return false
        case 28, 29:
            // FU indicator, then FU header S E R Type.
            guard p.count >= 2 else { return false }
            let header = p[1]
            let inner = header & 0x1F
            return header & 0x80 != 0 && (inner == 5 || inner == 7)
        default:
            return false
        }
    }
}
