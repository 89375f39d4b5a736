#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import RTP
import TandemBase

/// One participant of a `ConferenceRoom`: its decode chain (jitter buffer → decoder → playout DSP → resampler to
/// the room rate), its talk state, and its outgoing RTP timeline.
///
/// Owned by the room's worker; not thread-safe. Everything is allocated in `init` (at `join`); `receive` and
/// `pull` never allocate.
final class ConferenceParticipant {
    let index: Int
    let format: AudioEndpointFormat
    let ssrc: UInt32
    var options: ConferenceParticipantOptions
    var statistics = ConferenceParticipantStatistics()
    var inputGainQ12: Int32
    var outputGainQ12: Int32
    /// The shared encode group this participant listens through.
    var groupIndex: Int

    // Decode side.
    private let jitter: JitterBuffer
    private let decoder: PipelineDecoder
    private let dsp: PlayoutDSP
    private let resampler: Resampler?
    private let inFrameSamples: Int
    private let decodeCapacity: Int
    private let decoded: UnsafeMutablePointer<Int16>
    private let decodeFrame: UnsafeMutablePointer<Int16>
    private let decodeSampleRate: Int
    /// This frame's audio at the room rate (silence when nothing was played).
    let roomFrame: UnsafeMutablePointer<Int16>
    let roomFrameSamples: Int
    private var hasStarted = false
    /// The decoded frame waits for `prepareRoomFrame` (resampling is done only for mixed talkers).
    private var needsResampling = false
    /// The room's frame counter, set by the room before `prepareRoomFrame`, and the last frame resampled.
    var preparedFrameCounter = 0
    private var lastResampledFrame = -2
    private var needsDecoderReset = false

    // Level and talk state (frames counted from the room's frame counter).
    /// The last frame's energy (sum of squares over the frame), from the decoded audio or the RFC 6464 level.
    var frameEnergy: Int64 = 0
    /// Exponentially smoothed `frameEnergy` (α = 1/4): what the talker selection compares.
    var smoothedEnergy: Int64 = 0
    var isTalking = false
    var lastLoudFrame = 0
    var isSelected = false
    /// The last RFC 6464 level received (0…127 −dBov), or −1 when none is known.
    private var extensionLevel = -1

    // Telephone events (RFC 4733 §2.5.2: an event is identified by its timestamp).
    private var currentEvent: RTPTimestamp?
    /// A digit that arrived since the last frame, for the room to turn into an event (−1 none).
    var pendingDigit: Int16 = -1
    /// A second digit in the same frame (rare; kept so a fast sender loses nothing).
    var pendingDigit2: Int16 = -1

    // Flood limit: a token bucket in nanoseconds of credit.
    private var floodCredit: UInt64
    private var floodLastNanoseconds: UInt64 = 0
    private let floodCostNanoseconds: UInt64
    private let floodDepthNanoseconds: UInt64

    // Encode side: this participant's own RTP timeline.
    var sequenceNumber: SequenceNumber
    var timestamp: RTPTimestamp
    let timestampIncrement: Int
    var marksNextPacket = true
    /// The group encoder lent to this participant while it is a selected talker (it hears sum-minus-self).
    var talkerEncoder: ConferenceEncoderUnit?
    /// This participant's own encoder for private playback, allocated by the first `play(_:to:)`.
    var privateEncoder: ConferenceEncoderUnit?
    /// Slot of this talker's contribution in the room's contribution buffer this frame.
    var contributionSlot = -1
    /// True when this frame's contribution is `roomFrame` itself (unity input gain), not the int32 slot.
    var contributionIsRoomFrame = false
    /// Audio played to this participant alone; replaces its mix while it plays.
    var playback: PlaybackSource?

    init(index: Int, format: AudioEndpointFormat, ssrc: UInt32, options: ConferenceParticipantOptions,
         configuration: ConferenceRoomConfiguration, groupIndex: Int) throws(ConferenceError) {
        self.index = index
        self.format = format
        self.ssrc = ssrc
        self.options = options
        self.groupIndex = groupIndex
        inputGainQ12 = conferenceGainQ12(options.inputGainDB)
        outputGainQ12 = conferenceGainQ12(options.outputGainDB)
        let roomRate = configuration.sampleRate
        do throws(AudioPipelineError) {
            // Opus decodes straight to the room rate when it is one of Opus's own rates.
            let opusRate = [8000, 16000, 24000, 48000].contains(roomRate) ? roomRate : 48000
            decoder = try PipelineDecoder(format: format, rate: opusRate)
        } catch {
            throw .unsupportedFormat(error)
        }
        decodeSampleRate = decoder.sampleRate
        inFrameSamples = decodeSampleRate * format.ptimeMilliseconds / 1000
        var jitterConfiguration = JitterBufferConfiguration(clockRate: format.codec.rtpClockRate,
                                                            frameDurationMs: format.ptimeMilliseconds)
        jitterConfiguration.maximumPayloadSize = max(jitterConfiguration.maximumPayloadSize, 1500)
        jitter = JitterBuffer(configuration: jitterConfiguration)
        dsp = PlayoutDSP(frameSamples: inFrameSamples, sampleRate: decodeSampleRate,
                         concealment: decoder.hasOwnConcealment ? .codec : .builtIn)
        if decodeSampleRate != roomRate {
            do throws(ResamplerError) {
                resampler = try Resampler(inputRate: decodeSampleRate, outputRate: roomRate, chunkSize: inFrameSamples, quality: .voice)
            } catch {
                throw .unsupportedFormat(.resampler(error))
            }
        } else {
            resampler = nil
        }
        roomFrameSamples = roomRate * configuration.frameMilliseconds / 1000
        // An accelerate frame decodes two packets; an Opus packet may hold up to 120 ms; G.722 2 samples a byte.
        decodeCapacity = max(2 * inFrameSamples, decodeSampleRate * 120 / 1000 + inFrameSamples, 2 * 1500 + inFrameSamples)
        decoded = .allocate(capacity: decodeCapacity)
        decoded.initialize(repeating: 0, count: decodeCapacity)
        decodeFrame = .allocate(capacity: inFrameSamples)
        decodeFrame.initialize(repeating: 0, count: inFrameSamples)
        // Room for a resampler that emits a few samples more on one call than the frame's nominal count.
        let roomCapacity = max(roomFrameSamples, resampler?.outputCapacity(forInputCount: inFrameSamples) ?? 0) + 16
        roomFrame = .allocate(capacity: roomCapacity)
        roomFrame.initialize(repeating: 0, count: roomCapacity)

        let rate = UInt64(max(1, configuration.floodPacketsPerSecond))
        floodCostNanoseconds = 1_000_000_000 / rate
        floodDepthNanoseconds = floodCostNanoseconds * UInt64(max(1, configuration.floodBurstPackets))
        floodCredit = floodDepthNanoseconds

        // RFC 3550 §5.1 wants random initial values; without them, derive distinct ones from the SSRC.
        let mixed = ssrc &* 0x9E37_79B1
        sequenceNumber = SequenceNumber(options.initialSequenceNumber ?? UInt16(truncatingIfNeeded: mixed >> 16))
        timestamp = RTPTimestamp(options.initialTimestamp ?? mixed)
        timestampIncrement = format.codec.timestampIncrement(milliseconds: format.ptimeMilliseconds)
    }

    deinit {
        decoded.deallocate()
        decodeFrame.deallocate()
        roomFrame.deallocate()
    }

    // MARK: - Receive

    /// Takes one RTP packet: audio and CN into the jitter buffer, telephone events noted as digits, the rest
    /// counted. Floods beyond the token bucket are dropped first. Never allocates or traps.
    func receive(_ bytes: UnsafeRawBufferPointer, now: Instant) -> PipelineReceiveResult {
        statistics.packetsReceived += 1
        // Token bucket: credit grows with time up to the depth; each packet costs one packet interval.
        let elapsed = now.nanoseconds &- floodLastNanoseconds
        floodLastNanoseconds = now.nanoseconds
        if elapsed < floodDepthNanoseconds {
            floodCredit = min(floodDepthNanoseconds, floodCredit + elapsed)
        } else {
            floodCredit = floodDepthNanoseconds
        }
        guard floodCredit >= floodCostNanoseconds else {
            statistics.floodDrops += 1
            return .ignored
        }
        floodCredit -= floodCostNanoseconds

        let packet: RTPPacket
        do throws(RTPParseError) {
            packet = try RTPPacket(parsing: bytes)
        } catch {
            statistics.malformedPackets += 1
            return .malformed
        }
        let payloadType = packet.payloadType.rawValue
        if payloadType == format.payloadType {
            if let id = options.audioLevelExtensionID { noteAudioLevel(packet, id: id) }
            let result = jitter.insert(JitterPacket(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                                    ssrc: packet.ssrc.rawValue, hasMarker: packet.hasMarker),
                                       payload: packet.payload, now: now)
            hasStarted = true
            return .audio(result)
        }
        if payloadType == format.telephoneEventPayloadType {
            return receiveTelephoneEvent(packet)
        }
        if payloadType == format.comfortNoisePayloadType {
            guard packet.payloadLength >= 1 else {
                statistics.malformedPackets += 1
                return .malformed
            }
            let result = jitter.insert(JitterPacket(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                                    ssrc: packet.ssrc.rawValue, hasMarker: packet.hasMarker,
                                                    isComfortNoise: true),
                                       payload: packet.payload, now: now)
            hasStarted = true
            return .comfortNoise(result)
        }
        statistics.unknownPayloadTypes += 1
        return .unknownPayloadType
    }

    /// RFC 6464 §3: one byte, V bit then the level in −dBov (0…127). The two-byte form carries the same byte.
    private func noteAudioLevel(_ packet: RTPPacket, id: UInt8) {
        guard let header = packet.headerExtension, let data = header.element(id: id), data.count >= 1 else { return }
        extensionLevel = Int(data.load(as: UInt8.self) & 0x7F)
    }

    private func receiveTelephoneEvent(_ packet: RTPPacket) -> PipelineReceiveResult {
        let event: TelephoneEvent
        do throws(RTPPayloadParseError) {
            event = try TelephoneEvent(parsing: packet.payload)
        } catch {
            statistics.malformedPackets += 1
            return .malformed
        }
        let eventTimestamp = packet.timestamp
        if let current = currentEvent, current == eventTimestamp || eventTimestamp < current {
            return .telephoneEventRepeat
        }
        currentEvent = eventTimestamp
        statistics.telephoneEvents += 1
        if pendingDigit < 0 { pendingDigit = Int16(event.event) } else { pendingDigit2 = Int16(event.event) }
        return .telephoneEvent
    }

    // MARK: - Pull (once per room frame)

    /// Plays one frame out of the jitter buffer into `roomFrame` at the room rate and measures its energy.
    /// A muted participant's buffer is still drained (so it does not grow) but nothing is decoded.
    func pull(now: Instant, decodes: Bool) {
        let out = UnsafeMutableBufferPointer(start: decodeFrame, count: inFrameSamples)
        let none = UnsafeBufferPointer<Int16>(start: nil, count: 0)
        needsResampling = false
        guard hasStarted else {
            roomFrame.update(repeating: 0, count: roomFrameSamples)
            frameEnergy = 0
            return
        }
        let decision = jitter.pull(now: now)
        guard decodes else {
            // The decoder skipped packets: it must forget its history before it decodes again.
            needsDecoderReset = true
            roomFrame.update(repeating: 0, count: roomFrameSamples)
            frameEnergy = 0
            return
        }
        if needsDecoderReset {
            decoder.reset()
            resampler?.reset()
            needsDecoderReset = false
        }
        let n = inFrameSamples
        switch decision.operation {
        case .normal:
            if decodePacket(0, at: 0) {
                dsp.render(.normal, decoded: UnsafeBufferPointer(start: decoded, count: n), into: out)
            } else {
                conceal(into: out)
            }
        case .accelerate:
            let first = decodePacket(0, at: 0)
            let second = decodePacket(1, at: n)
            if first && second {
                dsp.render(.accelerate, decoded: UnsafeBufferPointer(start: decoded, count: 2 * n), into: out)
            } else if first || second {
                if second { decoded.update(from: decoded + n, count: n) }
                dsp.render(.normal, decoded: UnsafeBufferPointer(start: decoded, count: n), into: out)
            } else {
                conceal(into: out)
            }
        case .conceal:
            conceal(into: out)
        case .stretch:
            dsp.render(.stretch, decoded: none, into: out)
        case .comfortNoise:
            if decision.packetCount > 0 {
                // RFC 3389 §3: the first byte is the noise level in −dBov.
                let payload = jitter.payload(0)
                if payload.count >= 1 { dsp.comfortNoiseLevel = Int(min(127, payload.load(as: UInt8.self) & 0x7F)) }
            }
            dsp.render(.comfortNoise, decoded: none, into: out)
        case .reset:
            decoder.reset()
            dsp.render(.reset, decoded: none, into: out)
        case .silence:
            dsp.render(.silence, decoded: none, into: out)
        }
        if extensionLevel >= 0 {
            frameEnergy = ConferenceLevels.energy(forLevel: extensionLevel, samples: roomFrameSamples)
        } else {
            // Measured at the decode rate and scaled to a room-rate frame: the same mean square.
            frameEnergy = ConferenceMixing.energy(decodeFrame, count: n) * Int64(roomFrameSamples) / Int64(max(1, n))
        }
        if resampler == nil {
            roomFrame.update(from: decodeFrame, count: min(n, roomFrameSamples))
            if n < roomFrameSamples { (roomFrame + n).update(repeating: 0, count: roomFrameSamples - n) }
        } else {
            needsResampling = true
        }
    }

    /// Brings this frame to the room rate. Only the selected talkers' frames are mixed, so only they pay for the
    /// resampler (in a 100-party G.711 room that is 4 resamplers per frame instead of 100). A resampler that
    /// skipped frames starts from silence (its history would be stale audio), a fade-in of a few samples.
    func prepareRoomFrame() {
        guard needsResampling, let resampler else { return }
        needsResampling = false
        if lastResampledFrame != preparedFrameCounter - 1 { resampler.reset() }
        lastResampledFrame = preparedFrameCounter
        let produced = resampler.process(UnsafeBufferPointer(start: decodeFrame, count: inFrameSamples),
                                         into: UnsafeMutableBufferPointer(start: roomFrame, count: roomFrameSamples + 16))
        if produced < roomFrameSamples { (roomFrame + produced).update(repeating: 0, count: roomFrameSamples - produced) }
    }

    private func decodePacket(_ index: Int, at offset: Int) -> Bool {
        let n = inFrameSamples
        let destination = UnsafeMutableBufferPointer(start: decoded + offset, count: decodeCapacity - offset)
        let count: Int
        do throws(CodecError) {
            count = try decoder.decode(jitter.payload(index), into: destination)
        } catch {
            statistics.decodeErrors += 1
            return false
        }
        statistics.framesDecoded += 1
        if count != n {
            statistics.frameSizeMismatches += 1
            if count < n { (decoded + offset + count).update(repeating: 0, count: n - count) }
        }
        return true
    }

    private func conceal(into out: UnsafeMutableBufferPointer<Int16>) {
        let n = inFrameSamples
        if dsp.concealment == .codec {
            let count = decoder.conceal(into: UnsafeMutableBufferPointer(start: decoded, count: n))
            if count < n { (decoded + count).update(repeating: 0, count: n - count) }
        }
        dsp.render(.conceal, decoded: UnsafeBufferPointer(start: decoded, count: n), into: out)
        statistics.framesConcealed += 1
    }

    /// Writes this participant's 12-byte RTP header (RFC 3550 §5.1) for the current frame and takes the next
    /// sequence number. The caller checked the buffer's size.
    @inline(__always)
    func writeHeader(_ buffer: UnsafeMutableRawPointer, payloadType: UInt8) {
        buffer.storeBytes(of: UInt8(0x80), toByteOffset: 0, as: UInt8.self)
        buffer.storeBytes(of: (marksNextPacket ? 0x80 : 0) | (payloadType & 0x7F), toByteOffset: 1, as: UInt8.self)
        buffer.storeBytes(of: sequenceNumber.rawValue.bigEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: timestamp.rawValue.bigEndian, toByteOffset: 4, as: UInt32.self)
        buffer.storeBytes(of: ssrc.bigEndian, toByteOffset: 8, as: UInt32.self)
        sequenceNumber = sequenceNumber.advanced(by: 1)
        marksNextPacket = false
    }
}

/// RFC 6464 levels as frame energies (sum of squares), so the selection compares extension levels and measured
/// energies on one scale.
enum ConferenceLevels {
    /// Mean square of a full-scale (32768) signal at 0 … 127 −dBov.
    static let meanSquare: [Double] = (0...127).map { 32768.0 * 32768.0 * pow(10, -Double($0) / 10) }

    /// The energy of a `samples`-long frame at `level` −dBov.
    @inline(__always)
    static func energy(forLevel level: Int, samples: Int) -> Int64 {
        meanSquare.withUnsafeBufferPointer { Int64($0[min(127, max(0, level))] * Double(samples)) }
    }

    /// The −dBov level (0…127) of a frame of `samples` samples with this energy. Not on the per-frame path.
    static func level(energy: Int64, samples: Int) -> Int {
        guard energy > 0, samples > 0 else { return 127 }
        let meanSquare = Double(energy) / Double(samples)
        let dB = 10 * log10(meanSquare / (32768.0 * 32768.0))
        return min(127, max(0, Int((-dB).rounded())))
    }
}
