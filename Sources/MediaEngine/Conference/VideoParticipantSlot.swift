/// One participant's state inside a `VideoForwarder`: its own stream as a source, and the one
/// outgoing stream the forwarder sends it as a receiver. Plain value in the forwarder's slot array;
/// worker thread only; no references, so no ARC traffic.
struct VideoParticipantSlot {
    var isActive = false

    // As a source.
    var supportsFIR = false
    var supportsPLI = true
    var supportsNACK = true
    var hasSourceSSRC = false
    var sourceSSRC: UInt32 = 0
    /// A keyframe request is outstanding (cleared when a keyframe arrives), and when it was last sent.
    var hasRequestedKeyframe = false
    var lastKeyframeRequestAt: UInt64 = 0
    /// When a receiver's request was last relayed; not cleared by keyframes, so receivers cannot
    /// make the source send keyframes back to back.
    var hasRelayedRequest = false
    var lastRelayedRequestAt: UInt64 = 0
    /// FIR command sequence number (RFC 5104 §4.3.1.1): +1 per new request.
    var firSequence: UInt8 = 0
    /// GCRA theoretical arrival time of the input rate limit (ns).
    var inputTAT: UInt64 = 0

    // As a receiver.
    var outgoingSSRC: UInt32 = 0
    /// Whether anything was sent yet; before that `lastOut*` hold the initial sequence number - 1 and
    /// the initial timestamp.
    var isStarted = false
    var lastOutSequence: UInt16 = 0
    var lastOutTimestamp: UInt32 = 0
    var lastSentAt: UInt64 = 0
    /// The forwarder epoch the offsets below are for (0: none yet).
    var epoch: UInt32 = 0
    /// The first outgoing sequence number of this epoch; anything before it belongs to an earlier source.
    var epochFirstSequence: UInt16 = 0
    var sequenceOffset: UInt16 = 0
    var timestampOffset: UInt32 = 0
    var packetsSent: UInt64 = 0
    var payloadBytesSent: UInt64 = 0
    /// GCRA theoretical arrival time of this receiver's NACK limit (ns).
    var nackTAT: UInt64 = 0

    init() {}

    init(joining format: VideoParticipantFormat) {
        isActive = true
        supportsFIR = format.supportsFIR
        supportsPLI = format.supportsPLI
        supportsNACK = format.supportsNACK
        if let ssrc = format.sourceSSRC {
            hasSourceSSRC = true
            sourceSSRC = ssrc.rawValue
        }
        outgoingSSRC = format.outgoingSSRC.rawValue
        // So that the first packet gets exactly the initial values (see `synchronise`).
        lastOutSequence = format.initialSequenceNumber &- 1
        lastOutTimestamp = format.initialTimestamp
    }

    /// Chooses offsets so the first packet of a new epoch continues this receiver's stream: the next
    /// sequence number, and a timestamp advanced by the wall-clock time since the last packet sent
    /// (in `clockRate` units, at least `minimumStep`) so the receiver's jitter buffer sees a
    /// plausible gap rather than a jump or a repeat.
    @inline(__always)
    mutating func synchronise(
        epoch: UInt32, sourceSequence: UInt16, sourceTimestamp: UInt32, now: UInt64, clockRate: UInt64,
        minimumStep: UInt32
    ) {
        var step: UInt32 = 0
        if isStarted {
            let elapsed = now > lastSentAt ? now - lastSentAt : 0
            // µs first so hours of elapsed time stay inside 64 bits; capped at a quarter of the
            // timestamp space so wrap-aware comparisons keep their direction.
            let ticks = min((elapsed / 1000) &* clockRate / 1_000_000, UInt64(UInt32.max / 4))
            step = max(UInt32(ticks), max(minimumStep, 1))
        }
        isStarted = true
        self.epoch = epoch
        let first = lastOutSequence &+ 1
        sequenceOffset = first &- sourceSequence
        timestampOffset = lastOutTimestamp &+ step &- sourceTimestamp
        epochFirstSequence = first
    }
}

/// A receiver's NACK of one source packet, waiting for the retransmission (forwarder-internal).
struct VideoNACKRecord {
    var sourceSequence: UInt16
    var receiver: Int32
    var epoch: UInt32
    /// 0 once consumed.
    var expiresAt: UInt64
}
