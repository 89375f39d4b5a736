#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import TandemBase

/// How a conference room mixes: its PCM rate, how many talkers are mixed, its size limit and talk detection.
///
/// A `Sendable` value built on the control side and handed to `ConferenceRoom.init`.
public struct ConferenceRoomConfiguration: Sendable, Equatable {
    /// The room's PCM rate in Hz (8000, 16000 or 48000): every input is resampled to it and the mix runs at it.
    public var sampleRate: Int
    /// How many of the loudest active talkers are mixed (N); everyone else is heard only if selected.
    public var maximumTalkers: Int
    /// Participants the room accepts before `join` throws `.full` (the seeds' default, 200).
    public var maximumParticipants: Int
    /// The mixing period in milliseconds. Only 20 is supported today (every participant's ptime must match).
    public var frameMilliseconds: Int
    /// A frame at or above this level (dBov, e.g. −40) counts as speech.
    public var talkThresholdDBov: Double
    /// A talker goes on being "talking" (and keeps its mix slot) for this long after its last loud frame.
    public var hangoverMilliseconds: Int
    /// A candidate replaces the quietest selected talker only when this many dB louder (smoothed), so that the
    /// selection does not flap between two talkers of similar level.
    public var replacementMarginDB: Double
    /// Packets per second one participant may send before the excess is dropped as a flood (token bucket).
    public var floodPacketsPerSecond: Int
    /// The token bucket's depth in packets (a burst after a network stall is not a flood).
    public var floodBurstPackets: Int
    /// Events held for `drainEvents` before further events are dropped and counted.
    public var eventCapacity: Int
    /// Workers the room's participants are spread over (1…16; 1, the default, keeps the room on one worker).
    /// Above 1, each participant's decode and encode run on one of that many workers (its session is placed
    /// there), and the mixing on the room's worker; see `ConferenceSpreadMixer`. Capped at the engine's workers.
    public var spreadAcrossWorkers: Int

    /// The defaults: 16 kHz, 4 talkers, 200 participants, 20 ms, −40 dBov, 600 ms hangover, 6 dB margin,
    /// flood limit 200 packets/s with a burst of 50, 1024 events.
    public init(sampleRate: Int = 16000, maximumTalkers: Int = 4, maximumParticipants: Int = 200,
                frameMilliseconds: Int = 20, talkThresholdDBov: Double = -40, hangoverMilliseconds: Int = 600,
                replacementMarginDB: Double = 6, floodPacketsPerSecond: Int = 200, floodBurstPackets: Int = 50,
                eventCapacity: Int = 1024, spreadAcrossWorkers: Int = 1) {
        self.spreadAcrossWorkers = spreadAcrossWorkers
        self.sampleRate = sampleRate
        self.maximumTalkers = maximumTalkers
        self.maximumParticipants = maximumParticipants
        self.frameMilliseconds = frameMilliseconds
        self.talkThresholdDBov = talkThresholdDBov
        self.hangoverMilliseconds = hangoverMilliseconds
        self.replacementMarginDB = replacementMarginDB
        self.floodPacketsPerSecond = floodPacketsPerSecond
        self.floodBurstPackets = floodBurstPackets
        self.eventCapacity = eventCapacity
    }
}

/// Per-participant settings given at `join` (each can be changed later with the room's controls).
public struct ConferenceParticipantOptions: Sendable, Equatable {
    /// Not mixed (their audio is pulled from the jitter buffer and discarded).
    public var isMuted: Bool
    /// Hears nothing: gets encoded silence (see `ConferenceRoom` for why not nothing at all).
    public var isDeaf: Bool
    /// Kept unmuted by `muteAll(except moderators)`.
    public var isModerator: Bool
    /// Gain applied to what this participant says, in dB (clamped to −40…+18).
    public var inputGainDB: Double
    /// Gain applied to what this participant hears, in dB (clamped to −40…+18).
    public var outputGainDB: Double
    /// The RFC 8285 one-byte extension ID the participant uses for RFC 6464 client-to-mixer audio level
    /// (`a=extmap:N urn:ietf:params:rtp-hdrext:ssrc-audio-level`), or nil when not negotiated.
    public var audioLevelExtensionID: UInt8?
    /// The first RTP sequence number and timestamp of the stream sent to the participant; nil derives them from
    /// the SSRC (RFC 3550 asks for random initial values: the control side should pass random ones).
    public var initialSequenceNumber: UInt16?
    public var initialTimestamp: UInt32?

    /// Options with everything off and unity gains.
    public init(isMuted: Bool = false, isDeaf: Bool = false, isModerator: Bool = false, inputGainDB: Double = 0,
                outputGainDB: Double = 0, audioLevelExtensionID: UInt8? = nil,
                initialSequenceNumber: UInt16? = nil, initialTimestamp: UInt32? = nil) {
        self.isMuted = isMuted
        self.isDeaf = isDeaf
        self.isModerator = isModerator
        self.inputGainDB = inputGainDB
        self.outputGainDB = outputGainDB
        self.audioLevelExtensionID = audioLevelExtensionID
        self.initialSequenceNumber = initialSequenceNumber
        self.initialTimestamp = initialTimestamp
    }
}

/// Why a control operation on a room failed. Raised on the control path only, never per packet or frame.
public enum ConferenceError: Error, Equatable, Sendable {
    /// The room holds `maximumParticipants` already.
    case full
    /// The room is locked: nobody new may join.
    case locked
    /// No participant with this index.
    case noSuchParticipant(Int)
    /// The participant's codec or ptime cannot be mixed (ptime must equal the room's frame).
    case unsupportedFormat(AudioPipelineError)
    /// The room configuration is invalid (rate, frame length, talker count).
    case invalidConfiguration
    /// A playback source must render at the room's rate (create it with the room's `sampleRate`).
    case playbackRateMismatch(Int)
}

/// Something the worker should report to the control side, drained after `produce`.
public enum ConferenceEvent: Sendable, Equatable {
    /// The participant started talking (a frame above the threshold after silence).
    case talking(participant: Int)
    /// The participant has been quiet for the hangover time.
    case stoppedTalking(participant: Int)
    /// An RFC 4733 digit from the participant (0–9 = 0–9, 10 = *, 11 = #, 12–15 = A–D; other events as sent),
    /// reported once, on its first packet.
    case dtmf(participant: Int, event: UInt8)
    /// A playback ended: to the whole room when `participant` is nil.
    case playbackEnded(participant: Int?, reason: PlaybackEnd)
    /// The participant was removed by `kick`.
    case kicked(participant: Int)
}

/// Running totals and current state of one participant. Plain values, copied out on the worker.
public struct ConferenceParticipantStatistics: Sendable, Equatable {
    /// RTP packets given to `receive`.
    public var packetsReceived = 0
    /// RTP packets handed to the sink for this participant.
    public var packetsSent = 0
    /// Audio payloads decoded.
    public var framesDecoded = 0
    /// Frames concealed (missing or undecodable packet).
    public var framesConcealed = 0
    /// Packets that were not RTP, or whose event/CN payload was malformed.
    public var malformedPackets = 0
    /// Packets with a payload type the participant did not negotiate (includes a codec change mid-call).
    public var unknownPayloadTypes = 0
    /// Packets dropped because the participant exceeded its packet rate (flood).
    public var floodDrops = 0
    /// Payloads the decoder rejected.
    public var decodeErrors = 0
    /// Payloads that decoded to another duration than the ptime (padded or truncated).
    public var frameSizeMismatches = 0
    /// Telephone events (digits) received.
    public var telephoneEvents = 0
    /// The last frame's level in −dBov (0 loudest … 127 silence), from the RFC 6464 extension when present.
    public var level = 127
    /// Whether the participant is talking (including the hangover).
    public var isTalking = false
    /// Whether the participant is one of the N mixed talkers.
    public var isSelected = false
    /// All zero.
    public init() {}
}

/// Room-wide totals. Plain values.
public struct ConferenceRoomStatistics: Sendable, Equatable {
    /// Participants in the room.
    public var participants = 0
    /// Selected (mixed) talkers in the last frame.
    public var talkers = 0
    /// Encoders that ran in the last frame: one per shared group with listeners plus one per talker.
    public var encodersInUse = 0
    /// Distinct shared encode groups (codec/PT/rate/ptime/bitrate/output gain).
    public var encodeGroups = 0
    /// Frames mixed.
    public var frames = 0
    /// Nanoseconds the last mixed frame took (decode + mix + encode + sink), and the largest so far.
    public var lastTickNanoseconds: UInt64 = 0
    public var maximumTickNanoseconds: UInt64 = 0
    /// Times the clock ran so far ahead that missed frames were skipped.
    public var clockResyncs = 0
    /// Events dropped because nobody drained them.
    public var eventsDropped = 0
    /// Packets the sink got (all participants).
    public var packetsSent = 0
    /// Frames encoded (shared + own): compare with `packetsSent` to see the sharing.
    public var framesEncoded = 0
    /// Frames the encoder rejected.
    public var encodeErrors = 0
    /// Frames the recording ring had no room for.
    public var recordingDrops = 0
    /// All zero.
    public init() {}
}

/// Receives the room's outgoing packets. A generic parameter of `produce`, so the worker's sink is specialised,
/// not called through an existential. Called on the room's worker; `packet` is the room's buffer, valid only
/// during the call (copy or send it before returning).
public protocol ConferenceOutputSink {
    /// One RTP packet for `participant` (header written for that participant; payload possibly shared).
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer)
}

/// Gain in dB as a Q12 multiplier (4096 = unity), clamped to −40…+18 dB so that int16 × gain fits in 31 bits.
@inline(__always)
func conferenceGainQ12(_ dB: Double) -> Int32 {
    let clamped = min(18, max(-40, dB.isFinite ? dB : 0))
    return Int32((4096 * pow(10, clamped / 20)).rounded())
}
