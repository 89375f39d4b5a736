/// Receives every decoded frame of a pipeline (recording, in-band DTMF detection, level metering).
///
/// Called on the pipeline's worker thread once per decoded frame (not per sample), with the frame the jitter buffer
/// played out, before any playback source replaces it. The buffer is the pipeline's: read it during the call, keep
/// no pointer. Implementations must not block or allocate per call.
///
/// Why a class-constrained protocol and not a concrete class: the recorder and the detector are written elsewhere
/// and later. A class existential is a pointer plus a witness table (no boxing, no allocation), and one dynamic
/// call per 10–60 ms frame is noise next to a codec; nothing is called per sample or per packet through it.
public protocol PipelineTap: AnyObject {
    /// One decoded frame of `pcm.count` mono samples at `sampleRate` Hz.
    func decoded(_ pcm: UnsafeBufferPointer<Int16>, sampleRate: Int)
}

/// Supplies audio that replaces a pipeline's decoded audio (announcements, music on hold), or drives an
/// encode-only pipeline.
///
/// Called on the pipeline's worker thread once per frame. Fill all of `into` with mono samples at `sampleRate` Hz
/// and return true to replace that frame; return false (leaving the buffer as it is) to let the decoded audio
/// through, or, in an encode-only pipeline, to send nothing for that frame. Must not block or allocate per call.
public protocol PipelineSource: AnyObject {
    /// Renders one frame; true when the frame was filled and replaces the pipeline's own audio.
    func render(into pcm: UnsafeMutableBufferPointer<Int16>, sampleRate: Int) -> Bool
}

/// What `AudioPipeline.receive` did with one packet. Expected conditions are results, not errors.
public enum PipelineReceiveResult: Sendable, Equatable {
    /// An audio packet, handed to the jitter buffer with this outcome.
    case audio(JitterInsertResult)
    /// A comfort-noise (RFC 3389) packet, handed to the jitter buffer with this outcome.
    case comfortNoise(JitterInsertResult)
    /// A telephone-event (RFC 4733) packet: forwarded to the other leg or played into its audio.
    case telephoneEvent
    /// A telephone-event packet repeating what was already handled (a repeated end packet, an old event).
    case telephoneEventRepeat
    /// A payload type this leg did not negotiate; dropped and counted.
    case unknownPayloadType
    /// Not a parseable RTP packet, or a telephone-event / CN payload too short; dropped and counted.
    case malformed
    /// The pipeline has no decode side (encode-only); dropped.
    case ignored
}

/// Running totals of one pipeline. Read on the worker (or copied out by it); plain integers, no synchronisation.
public struct AudioPipelineCounters: Sendable, Equatable {
    /// RTP packets given to `receive`.
    public var packetsReceived = 0
    /// Audio payloads decoded (an accelerate frame decodes two).
    public var framesDecoded = 0
    /// Frames synthesised because the due packet was missing or undecodable.
    public var framesConcealed = 0
    /// Frames of comfort noise played (RFC 3389 or DTX gaps).
    public var comfortNoiseFrames = 0
    /// Frames given to the encoder.
    public var framesEncoded = 0
    /// Outgoing frames not sent: Opus DTX, or silence covered by a CN packet.
    public var framesSuppressed = 0
    /// RTP packets produced for the other leg (audio, CN and telephone-event).
    public var packetsSent = 0
    /// Telephone events (digits) received from the decode side.
    public var telephoneEvents = 0
    /// Telephone-event packets sent to the other leg.
    public var telephoneEventPacketsSent = 0
    /// Telephone events played in-band because the other leg has no telephone-event.
    public var telephoneEventsPlayedInBand = 0
    /// Packets with a payload type the decode side did not negotiate.
    public var unknownPayloadTypes = 0
    /// Packets that were not RTP, or whose event/CN payload was malformed.
    public var malformedPackets = 0
    /// Payloads the decoder rejected (each concealed instead).
    public var decodeErrors = 0
    /// Payloads that decoded to a different duration than the negotiated ptime (padded or truncated).
    public var frameSizeMismatches = 0
    /// Frames the encoder rejected.
    public var encodeErrors = 0
    /// Output calls whose buffer was too small for a packet (the packet was dropped).
    public var outputBufferTooSmall = 0
    /// Telephone-event packets dropped because the outgoing queue was full.
    public var telephoneEventQueueOverflows = 0
    /// Times the worker's clock ran so far ahead of the pull schedule that missed pulls were skipped.
    public var clockResyncs = 0

    /// All zero.
    public init() {}
}
