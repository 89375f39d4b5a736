/// SSRC, sequence number and timestamp rewriting for the packets sent to one leg's endpoint, so the
/// endpoint sees one continuous RTP stream when the source behind the linked leg changes (a re-INVITE
/// to another phone, a stream switch). A plain value inside `LegState`; worker thread only, no allocation.
///
/// The output SSRC is the first source SSRC seen. While the source keeps its SSRC, sequence numbers
/// and timestamps keep their offsets (so reordering and loss pass through unchanged). On a new source
/// SSRC the offsets are chosen so that the next output sequence number is the last one + 1 and the
/// next output timestamp is the last one + the wall time elapsed since it, in RTP clock units, but at
/// least one frame.
struct StreamRewriter {
    private(set) var isStarted = false
    /// The SSRC the endpoint sees.
    private(set) var outputSSRC: UInt32 = 0
    /// The source SSRC the offsets are for.
    private(set) var sourceSSRC: UInt32 = 0
    private(set) var sequenceOffset: UInt16 = 0
    private(set) var timestampOffset: UInt32 = 0
    /// The newest output sequence number and timestamp, and when (monotonic ns) that timestamp was sent.
    private var lastSequence: UInt16 = 0
    private var lastTimestamp: UInt32 = 0
    private var lastSentAt: UInt64 = 0
    /// The newest source timestamp and the last positive step between two consecutive packets: one
    /// frame, used as the minimum advance on a switch.
    private var lastSourceSequence: UInt16 = 0
    private var lastSourceTimestamp: UInt32 = 0
    private var frameTicks: UInt32 = 0

    /// Forgets the stream: the next packet starts rewriting afresh.
    mutating func reset() { self = StreamRewriter() }

    /// The output (SSRC, sequence number, timestamp) for a source packet received at `now`
    /// (monotonic ns); `clockRate` in Hz.
    @inline(__always)
    mutating func rewrite(ssrc: UInt32, sequence: UInt16, timestamp: UInt32, now: UInt64, clockRate: UInt64)
        -> (ssrc: UInt32, sequence: UInt16, timestamp: UInt32)
    {
        if !isStarted {
            isStarted = true
            outputSSRC = ssrc
            sourceSSRC = ssrc
            lastSequence = sequence
            lastTimestamp = timestamp
            lastSentAt = now
            lastSourceSequence = sequence
            lastSourceTimestamp = timestamp
            return (ssrc, sequence, timestamp)
        }
        if ssrc != sourceSSRC {
            // A new source: continue right after the last output packet.
            sourceSSRC = ssrc
            sequenceOffset = lastSequence &+ 1 &- sequence
            // Elapsed wall time in RTP clock units (µs first, so an hour at 48 kHz stays well inside 64 bits).
            let elapsed = now >= lastSentAt ? now - lastSentAt : 0
            var advance = UInt32(truncatingIfNeeded: min((elapsed / 1000) &* clockRate / 1_000_000, UInt64(UInt32.max / 2)))
            let frame = frameTicks != 0 ? frameTicks : UInt32(truncatingIfNeeded: max(1, clockRate / 50))
            if advance < frame { advance = frame }
            timestampOffset = lastTimestamp &+ advance &- timestamp
            lastSourceSequence = sequence
            lastSourceTimestamp = timestamp
        } else if Int16(bitPattern: sequence &- lastSourceSequence) > 0 {
            // In order: learn the frame size from consecutive packets (RFC 3550 §5.1: the timestamp
            // advances by the samples per packet), ignoring gaps and the repeated timestamps of
            // multi-packet frames and RFC 4733 events.
            let step = timestamp &- lastSourceTimestamp
            if sequence &- lastSourceSequence == 1, Int32(bitPattern: step) > 0, step <= UInt32(truncatingIfNeeded: clockRate) {
                frameTicks = step
            }
            lastSourceSequence = sequence
            lastSourceTimestamp = timestamp
        }
        let outSequence = sequence &+ sequenceOffset
        let outTimestamp = timestamp &+ timestampOffset
        // Only newer packets move the reference point; a reordered older one keeps its place.
        if Int16(bitPattern: outSequence &- lastSequence) > 0 {
            lastSequence = outSequence
            lastTimestamp = outTimestamp
            lastSentAt = now
        }
        return (outputSSRC, outSequence, outTimestamp)
    }
}
