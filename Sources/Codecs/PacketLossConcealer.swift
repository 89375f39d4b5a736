import CSpanDSP

/// Pitch-repetition packet loss concealment (the G.711 Appendix I method, via spandsp's `plc_*`).
///
/// Feed every decoded frame to `received(_:)` and call `conceal(into:)` for each lost one: the first concealed
/// frames repeat the last pitch period, later ones fade to silence, and the first good frame after a gap is
/// cross-faded in. One instance per stream; owned by one worker; nothing allocates after `init`.
/// Tuned for 8 kHz speech; at 16 kHz (G.722) the pitch search covers 133–400 Hz, which still fits most voices.
public final class PacketLossConcealer {
    private let state: UnsafeMutablePointer<plc_state_t>

    /// Creates a concealer with empty history (concealing before any audio yields silence).
    public init() {
        state = UnsafeMutablePointer<plc_state_t>.allocate(capacity: 1)
        // plc_init zeroes the caller-provided state and does not allocate when given one.
        _ = plc_init(state)
    }

    deinit {
        _ = plc_release(state)
        state.deallocate()
    }

    /// Records a frame of received audio. After a loss this cross-fades the start of `samples` in place with the
    /// concealed signal, so the caller must play `samples` after this call.
    public func received(_ samples: UnsafeMutableBufferPointer<Int16>) {
        guard let base = samples.baseAddress, samples.count > 0 else { return }
        _ = plc_rx(state, base, Int32(clamping: samples.count))
    }

    /// Fills all of `output` with synthesised audio for a lost frame; returns the samples written.
    @discardableResult
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let base = output.baseAddress, output.count > 0 else { return 0 }
        _ = plc_fillin(state, base, Int32(clamping: output.count))
        return output.count
    }

    /// Forgets the history (e.g. after a stream switch or a long gap).
    public func reset() {
        _ = plc_init(state)
    }
}
