/// The per-sample kernels of the mixer: plain loops over raw pointers with wrapping arithmetic and no bounds
/// checks, written so that the compiler vectorises them.
///
/// Checked in the release build (swift 6.3.1 `-O` with whole-module optimisation, x86-64 baseline = SSE2 only, no
/// `-march`): `objdump -d` of ConferenceRoom.swift.o and `perf annotate` of the mixer tick show these loops
/// inlined as packed 4 × int32 loops: `accumulate` as `punpcklwd` + `psrad $16` (sign extension) + `paddd`;
/// `accumulateScaled` the same plus `pmuludq`/`pshufd` pairs (SSE2 has no 32-bit `pmulld`, so a scaled input
/// costs about twice a unity one, which is why unity gain has its own path); the saturating writers as `psubd`
/// + `packssdw` (the pack instruction does the int32 → int16 saturation, no compare/blend). Built with
/// `-march=x86-64-v3` the same loops become 8-wide AVX2. All take counts in samples and never allocate.
enum ConferenceMixing {
    /// `sum[i] += Int32(pcm[i])` (unity input gain). Vectorised: `pmovsxwd`/`punpck` + `paddd`.
    @inline(__always)
    static func accumulate(_ pcm: UnsafePointer<Int16>, into sum: UnsafeMutablePointer<Int32>, count: Int) {
        for i in 0..<count { sum[i] &+= Int32(truncatingIfNeeded: pcm[i]) }
    }

    /// `contribution[i] = (pcm[i] × gainQ12) >> 12; sum[i] += contribution[i]`. Vectorised: `pmulld` + `psrad`.
    @inline(__always)
    static func accumulateScaled(_ pcm: UnsafePointer<Int16>, gainQ12: Int32, contribution: UnsafeMutablePointer<Int32>,
                                 into sum: UnsafeMutablePointer<Int32>, count: Int) {
        for i in 0..<count {
            let v = (Int32(truncatingIfNeeded: pcm[i]) &* gainQ12) &>> 12
            contribution[i] = v
            sum[i] &+= v
        }
    }

    /// `out[i] = saturate16(sum[i])`. Vectorised: `packssdw` does the saturation.
    @inline(__always)
    static func writeSaturated(_ sum: UnsafePointer<Int32>, into out: UnsafeMutablePointer<Int16>, count: Int) {
        for i in 0..<count {
            out[i] = Int16(truncatingIfNeeded: min(max(sum[i], -32768), 32767))
        }
    }

    /// `out[i] = saturate16(sum[i] − own[i])` with `own` the talker's int16 frame (unity input and output gain):
    /// the common case, which needs no contribution buffer. Vectorised: `punpcklwd`/`psrad` + `psubd` + `packssdw`.
    @inline(__always)
    static func writeSaturatedMinus(_ sum: UnsafePointer<Int32>, minus own: UnsafePointer<Int16>,
                                    into out: UnsafeMutablePointer<Int16>, count: Int) {
        for i in 0..<count {
            out[i] = Int16(truncatingIfNeeded: min(max(sum[i] &- Int32(truncatingIfNeeded: own[i]), -32768), 32767))
        }
    }

    /// `out[i] = saturate16(sum[i] − own[i])`: a talker's mix without its own voice (unity output gain).
    @inline(__always)
    static func writeSaturatedMinus(_ sum: UnsafePointer<Int32>, minus own: UnsafePointer<Int32>,
                                    into out: UnsafeMutablePointer<Int16>, count: Int) {
        for i in 0..<count {
            out[i] = Int16(truncatingIfNeeded: min(max(sum[i] &- own[i], -32768), 32767))
        }
    }

    /// `out[i] = saturate16(((sum[i] − own[i]) × gainQ12) >> 12)` in 64 bits (the sum of several boosted talkers
    /// times a boost can exceed 31 bits). `own` may be nil (listeners). Vectorises less well (64-bit multiply);
    /// only runs for listeners whose output gain is not 0 dB.
    @inline(__always)
    static func writeSaturatedScaled(_ sum: UnsafePointer<Int32>, minus own: UnsafePointer<Int32>?, gainQ12: Int32,
                                     into out: UnsafeMutablePointer<Int16>, count: Int) {
        let g = Int64(gainQ12)
        if let own {
            for i in 0..<count {
                let v = (Int64(sum[i] &- own[i]) &* g) &>> 12
                out[i] = Int16(truncatingIfNeeded: min(max(v, -32768), 32767))
            }
        } else {
            for i in 0..<count {
                let v = (Int64(sum[i]) &* g) &>> 12
                out[i] = Int16(truncatingIfNeeded: min(max(v, -32768), 32767))
            }
        }
    }

    /// Sum of squares of `pcm` (mean square × count). At most 320 × 2³⁰ for a 20 ms 16 kHz frame, far from overflow.
    /// Vectorised: the int16 × int16 products widen into `pmaddwd` pairs accumulated in int32 per pair, then int64.
    @inline(__always)
    static func energy(_ pcm: UnsafePointer<Int16>, count: Int) -> Int64 {
        var total: Int64 = 0
        var i = 0
        // Pairs of samples: each pair's sum of squares is at most 2 × 2³⁰ = 2³¹, which fits UInt32.
        while i + 1 < count {
            let a = Int32(truncatingIfNeeded: pcm[i])
            let b = Int32(truncatingIfNeeded: pcm[i + 1])
            total &+= Int64(UInt32(bitPattern: a &* a) &+ UInt32(bitPattern: b &* b))
            i += 2
        }
        if i < count {
            let a = Int64(pcm[i])
            total &+= a * a
        }
        return total
    }
}
