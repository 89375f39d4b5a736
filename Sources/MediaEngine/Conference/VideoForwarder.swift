import RTP
import TandemBase

/// Selective forwarding of one conference's video: the pinned participant's, else the active
/// speaker's, stream goes to every other participant, each on one continuous outgoing stream.
///
/// Socket-free and owned by one worker thread: every method must be called on that thread. All
/// storage (participant slots, payload type tables, scratch buffers) is allocated in `init` and at
/// `join`; `receiveRTP`, `receiveRTCP` and `tick` never allocate, lock, format strings or use
/// existentials or closures, and cost O(1) plus O(receivers) per forwarded packet.
///
/// Per receiver the forwarder keeps one SSRC, sequence numbers that continue by one across source
/// switches, and timestamps that continue by the wall-clock gap (at 90 kHz) across switches, with
/// the payload type mapped to the receiver's for the source's codec. A switch sends PLI (and FIR
/// when negotiated) to the new source and keeps forwarding the old one until the new one's keyframe
/// arrives or `keyframeTimeout` passes. Receivers' PLI/FIR/NACK go to the current source with the
/// media SSRC and NACKed sequence numbers translated back.
///
/// Wiring on a media worker: create it with the room and join each video participant with the
/// slot index the room uses for it (so the audio mixer's speaker events map directly); feed RTP and
/// RTCP after latching and SRTP unprotect; in the sink, SRTP-protect and queue for `sendmmsg`
/// (copying: the bytes are the forwarder's scratch); call `tick` every room tick; build sender
/// reports for each receiver from `receiverStatistics`. Reports, SDES and BYE from participants are
/// not consumed here. Not handled: simulcast/SVC layer selection, RTX (RFC 4588) streams (their
/// payload type is unknown and counted), bandwidth estimation, composite layouts.
///
/// Mutable state is `@exclusivity(unchecked)`: only the owning thread touches it and no access
/// overlaps a sink call, so the dynamic exclusivity checks (a runtime call per access) are skipped.
public final class VideoForwarder {
    /// Payload formats one participant may negotiate.
    public static let maxFormatsPerParticipant = 8
    /// Distinct (kind, variant) codecs one forwarder tracks.
    public static let maxCodecs = 16
    /// Lost sequence numbers one relayed NACK can carry.
    static let nackScratchCapacity = 256
    /// Marks "no payload type" / "no codec" in the tables.
    static let none: UInt8 = 0xFF

    /// The settings given at creation.
    public let configuration: VideoForwarderConfiguration
    /// The counters; read them between batches.
    @exclusivity(unchecked) public private(set) var counters = VideoForwarderCounters()

    /// The participant whose packets are forwarded, or -1.
    @exclusivity(unchecked) public private(set) var currentSource = -1
    /// The participant switched to once its keyframe arrives, or -1.
    @exclusivity(unchecked) public private(set) var pendingSource = -1
    /// The moderator's pin, or -1.
    @exclusivity(unchecked) public private(set) var pinnedParticipant = -1
    /// The active speaker as last set, or -1.
    @exclusivity(unchecked) public private(set) var activeSpeaker = -1

    /// Incremented on every change of the forwarded stream (switch, source SSRC change); receivers
    /// recompute their offsets when theirs differs.
    @exclusivity(unchecked) private var epoch: UInt32 = 1
    @exclusivity(unchecked) private var pendingSince: UInt64 = 0
    /// The current source was switched to without a keyframe; keep asking for one.
    @exclusivity(unchecked) private var currentNeedsKeyframe = false
    /// The newest sequence number of the current source, to spot jumps (a restart without a new SSRC).
    @exclusivity(unchecked) private var currentLastSequence: UInt16 = 0
    @exclusivity(unchecked) private var currentHasSequence = false
    /// A sequence number jump larger than this (either way) starts a new epoch.
    static let sequenceJumpLimit: Int16 = 3000
    /// How far behind the newest packet sent the per-receiver floor trails (packets), so wrap-aware
    /// comparisons against it stay valid for the whole life of an epoch.
    static let floorWindow: UInt16 = 16384

    private let capacity: Int
    private let slots: UnsafeMutablePointer<VideoParticipantSlot>
    /// Active participant indices, dense, in join order.
    private let members: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) private var memberCount = 0
    /// Per participant, 128 entries: payload type → codec ID or `none`.
    private let payloadTypeToCodec: UnsafeMutablePointer<UInt8>
    /// Per participant, `maxCodecs` entries: codec ID → payload type or `none`.
    private let codecToPayloadType: UnsafeMutablePointer<UInt8>
    /// The room's distinct codecs; IDs are indices, assigned at join, never reused.
    private let codecs: UnsafeMutablePointer<VideoPayloadFormat>
    @exclusivity(unchecked) private var codecCount = 0

    private let packetScratch: UnsafeMutableRawBufferPointer
    private let rtcpScratch: UnsafeMutableRawBufferPointer
    private let nackSequences: UnsafeMutablePointer<SequenceNumber>
    private let nackItems: UnsafeMutablePointer<RTCPNACKItem>
    private let firEntry: UnsafeMutablePointer<RTCPFIREntry>
    /// Which receiver NACKed which source packet, so the retransmission goes to it alone.
    private let nackRecords: UnsafeMutablePointer<VideoNACKRecord>
    @exclusivity(unchecked) private var nackRecordNext = 0
    /// When the newest record expires: after that, no record can match and the scan is skipped.
    @exclusivity(unchecked) private var nackRecordsExpireAt: UInt64 = 0
    /// Records kept; older ones are overwritten.
    static let nackRecordCapacity = 128
    /// How long a NACK record waits for its retransmission (ns).
    static let nackRecordLifetime: UInt64 = 1_000_000_000

    /// GCRA emission intervals (ns per packet) of the input and NACK limits.
    private let inputInterval: UInt64
    private let inputTolerance: UInt64
    private let nackInterval: UInt64
    private let nackTolerance: UInt64

    /// Creates a forwarder with `configuration.capacity` empty slots. Allocates; control plane.
    public init(configuration: VideoForwarderConfiguration = VideoForwarderConfiguration()) {
        precondition(configuration.capacity > 0, "a forwarder needs at least one slot")
        self.configuration = configuration
        capacity = configuration.capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: VideoParticipantSlot(), count: capacity)
        members = .allocate(capacity: capacity)
        members.initialize(repeating: -1, count: capacity)
        payloadTypeToCodec = .allocate(capacity: capacity * 128)
        payloadTypeToCodec.initialize(repeating: Self.none, count: capacity * 128)
        codecToPayloadType = .allocate(capacity: capacity * Self.maxCodecs)
        codecToPayloadType.initialize(repeating: Self.none, count: capacity * Self.maxCodecs)
        codecs = .allocate(capacity: Self.maxCodecs)
        packetScratch = .allocate(byteCount: max(configuration.maxPacketSize, 12), alignment: 16)
        packetScratch.initializeMemory(as: UInt8.self, repeating: 0)
        // A NACK with `nackScratchCapacity` items, or PLI/FIR, fits.
        rtcpScratch = .allocate(byteCount: 12 + 4 * Self.nackScratchCapacity, alignment: 16)
        rtcpScratch.initializeMemory(as: UInt8.self, repeating: 0)
        nackSequences = .allocate(capacity: Self.nackScratchCapacity)
        nackSequences.initialize(repeating: SequenceNumber(0), count: Self.nackScratchCapacity)
        nackItems = .allocate(capacity: Self.nackScratchCapacity)
        nackItems.initialize(
            repeating: RTCPNACKItem(packetID: SequenceNumber(0), lostBitmask: 0), count: Self.nackScratchCapacity)
        firEntry = .allocate(capacity: 1)
        firEntry.initialize(to: RTCPFIREntry(ssrc: SSRC(0), sequenceNumber: 0))
        nackRecords = .allocate(capacity: Self.nackRecordCapacity)
        nackRecords.initialize(
            repeating: VideoNACKRecord(sourceSequence: 0, receiver: 0, epoch: 0, expiresAt: 0),
            count: Self.nackRecordCapacity)
        let rate = UInt64(max(configuration.maxPacketsPerSecond, 1))
        inputInterval = 1_000_000_000 / rate
        inputTolerance = inputInterval &* UInt64(configuration.packetBurst)
        let nackRate = UInt64(max(configuration.maxNACKsPerSecond, 1))
        nackInterval = 1_000_000_000 / nackRate
        // A short burst of NACKs (a loss burst seen by several packets) is normal.
        nackTolerance = nackInterval &* 10
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        members.deallocate()
        payloadTypeToCodec.deallocate()
        codecToPayloadType.deallocate()
        codecs.deallocate()
        packetScratch.deallocate()
        rtcpScratch.deallocate()
        nackSequences.deallocate()
        nackItems.deallocate()
        firEntry.deallocate()
        nackRecords.deallocate()
    }

    // MARK: - Control (between batches, on the worker thread)

    /// Adds `participant` (in `0..<capacity`) with its negotiated video formats. Allocates nothing
    /// per packet afterwards. If a source is being forwarded, asks it for a keyframe (rate-limited)
    /// so the newcomer can start decoding.
    public func join<Sink: VideoForwarderSink>(
        participant: Int, format: VideoParticipantFormat, now: UInt64, sink: inout Sink
    ) throws(VideoForwarderError) {
        guard participant >= 0, participant < capacity else { throw .participantOutOfRange }
        guard !slots[participant].isActive else { throw .participantExists }
        let formats = format.formats
        guard !formats.isEmpty, formats.count <= Self.maxFormatsPerParticipant else { throw .invalidFormats }
        for i in formats.indices {
            for j in formats.indices where j > i && formats[j].payloadType == formats[i].payloadType {
                throw .invalidFormats
            }
        }
        // Assign codec IDs first so a refusal leaves no trace in the tables.
        var ids = [Int](repeating: -1, count: formats.count)
        var newCodecs = 0
        for (n, f) in formats.enumerated() {
            var id = -1
            for c in 0..<codecCount where codecs[c].kind == f.kind && codecs[c].variant == f.variant {
                id = c
                break
            }
            if id < 0 {
                // Check duplicates among this join's own new codecs.
                for m in 0..<n where formats[m].kind == f.kind && formats[m].variant == f.variant {
                    id = ids[m]
                    break
                }
            }
            if id < 0 {
                guard codecCount + newCodecs < Self.maxCodecs else { throw .tooManyCodecs }
                id = codecCount + newCodecs
                newCodecs += 1
            }
            ids[n] = id
        }
        for (n, f) in formats.enumerated() {
            let id = ids[n]
            if id >= codecCount {
                // IDs of new codecs come in increasing order, so this is the next uninitialised entry.
                (codecs + id).initialize(to: f)
                codecCount = id + 1
            }
            payloadTypeToCodec[participant * 128 + Int(f.payloadType.rawValue)] = UInt8(id)
            let slot = participant * Self.maxCodecs + id
            // Preference order: the first payload type of a codec is the one sent.
            if codecToPayloadType[slot] == Self.none { codecToPayloadType[slot] = f.payloadType.rawValue }
        }
        slots[participant] = VideoParticipantSlot(joining: format)
        members[memberCount] = participant
        memberCount += 1
        if currentSource >= 0 { relayKeyframeRequest(to: currentSource, now: now, sink: &sink) }
    }

    /// Removes `participant`. If it was the source, nothing is forwarded until the next switch; if it
    /// was pinned or the speaker, that selection is cleared.
    public func leave(participant: Int) throws(VideoForwarderError) {
        guard participant >= 0, participant < capacity else { throw .participantOutOfRange }
        guard slots[participant].isActive else { throw .unknownParticipant }
        slots[participant] = VideoParticipantSlot()
        for pt in 0..<128 { payloadTypeToCodec[participant * 128 + pt] = Self.none }
        for c in 0..<Self.maxCodecs { codecToPayloadType[participant * Self.maxCodecs + c] = Self.none }
        var i = 0
        while i < memberCount {
            if members[i] == participant {
                members[i] = members[memberCount - 1]
                memberCount -= 1
                break
            }
            i += 1
        }
        if currentSource == participant {
            currentSource = -1
            currentNeedsKeyframe = false
        }
        if pendingSource == participant { pendingSource = -1 }
        if pinnedParticipant == participant { pinnedParticipant = -1 }
        if activeSpeaker == participant { activeSpeaker = -1 }
    }

    /// Sets the active speaker (from the audio mixer), or clears it with -1. Unless a participant is
    /// pinned, a new speaker starts a switch; clearing keeps the current picture.
    public func setActiveSpeaker<Sink: VideoForwarderSink>(_ participant: Int, now: UInt64, sink: inout Sink) {
        activeSpeaker = isMember(participant) ? participant : -1
        reselect(now: now, sink: &sink)
    }

    /// Pins `participant`'s video for everyone, overriding the active speaker.
    public func pin<Sink: VideoForwarderSink>(_ participant: Int, now: UInt64, sink: inout Sink)
        throws(VideoForwarderError)
    {
        guard isMember(participant) else { throw .unknownParticipant }
        pinnedParticipant = participant
        reselect(now: now, sink: &sink)
    }

    /// Removes the pin; the active speaker's video is selected again.
    public func unpin<Sink: VideoForwarderSink>(now: UInt64, sink: inout Sink) {
        pinnedParticipant = -1
        reselect(now: now, sink: &sink)
    }

    /// The participant whose video should be forwarded: the pin, else the speaker, else -1.
    public var selectedParticipant: Int { pinnedParticipant >= 0 ? pinnedParticipant : activeSpeaker }

    /// Statistics of the stream sent to `participant`, for its sender reports; nil if not a member.
    public func receiverStatistics(_ participant: Int) -> VideoReceiverStatistics? {
        guard isMember(participant) else { return nil }
        let s = slots[participant]
        return VideoReceiverStatistics(
            ssrc: SSRC(s.outgoingSSRC), packetsSent: s.packetsSent, payloadBytesSent: s.payloadBytesSent,
            lastTimestamp: RTPTimestamp(s.lastOutTimestamp), lastSentAt: s.lastSentAt,
            lastSequenceNumber: SequenceNumber(s.lastOutSequence))
    }

    /// The SSRC learned (or signalled) for `participant`'s own video, if any.
    public func sourceSSRC(of participant: Int) -> SSRC? {
        guard isMember(participant), slots[participant].hasSourceSSRC else { return nil }
        return SSRC(slots[participant].sourceSSRC)
    }

    /// True when `participant` is a member.
    @inline(__always)
    public func isMember(_ participant: Int) -> Bool {
        participant >= 0 && participant < capacity && slots[participant].isActive
    }

    private func reselect<Sink: VideoForwarderSink>(now: UInt64, sink: inout Sink) {
        let wanted = selectedParticipant
        if wanted < 0 || wanted == currentSource {
            // Nobody selected keeps the last picture; re-selecting the current source cancels a wait.
            pendingSource = -1
            return
        }
        if wanted == pendingSource { return }
        pendingSource = wanted
        pendingSince = now
        // A new request: a new FIR command sequence number (RFC 5104 §4.3.1.2). If this source was
        // asked less than an interval ago (a flapping speaker), that request is still in flight:
        // `tick` re-sends when due, so one source never gets more than one request per interval.
        slots[wanted].firSequence &+= 1
        requestKeyframeIfDue(from: wanted, now: now, sink: &sink)
    }

    // MARK: - Timers

    /// Re-sends keyframe requests at most once per `keyframeRequestInterval` while a switch waits
    /// for a keyframe, or while the current source was switched to without one. Call every tick
    /// (e.g. 20 ms). No allocation.
    public func tick<Sink: VideoForwarderSink>(now: UInt64, sink: inout Sink) {
        if pendingSource >= 0 {
            requestKeyframeIfDue(from: pendingSource, now: now, sink: &sink)
        } else if currentNeedsKeyframe, currentSource >= 0 {
            requestKeyframeIfDue(from: currentSource, now: now, sink: &sink)
        }
    }

    // MARK: - RTP

    /// Handles one RTP packet received from `participant` at `now` (monotonic ns): forwards it,
    /// rewritten, to every other participant if it comes from the source; otherwise counts and drops
    /// it. `packet` is borrowed for the call. No allocation; O(receivers).
    public func receiveRTP<Sink: VideoForwarderSink>(
        from participant: Int, packet bytes: UnsafeRawBufferPointer, now: UInt64, sink: inout Sink
    ) {
        guard participant >= 0, participant < capacity, slots[participant].isActive else {
            counters.malformedRTP &+= 1
            return
        }
        guard bytes.count <= packetScratch.count else {
            counters.oversizedRTP &+= 1
            return
        }
        let packet: RTPPacket
        do { packet = try RTPPacket(parsing: bytes) } catch {
            counters.malformedRTP &+= 1
            return
        }
        let isPending = participant == pendingSource
        guard participant == currentSource || isPending else {
            counters.fromNonSource &+= 1
            return
        }
        let codec = payloadTypeToCodec[participant * 128 + Int(packet.payloadType.rawValue)]
        guard codec != Self.none else {
            counters.unknownPayloadType &+= 1
            return
        }
        guard admit(participant, now: now) else {
            counters.rateLimited &+= 1
            return
        }
        let ssrc = packet.ssrc.rawValue
        if !slots[participant].hasSourceSSRC {
            slots[participant].sourceSSRC = ssrc
            slots[participant].hasSourceSSRC = true
        } else if slots[participant].sourceSSRC != ssrc {
            // The source restarted its stream: a new sequence and timestamp space.
            counters.sourceSSRCChanges &+= 1
            slots[participant].sourceSSRC = ssrc
            if participant == currentSource {
                epoch &+= 1
                currentHasSequence = false
            }
        }
        let keyframe = VideoKeyframeDetector.startsKeyframe(packet.payload, kind: codecs[Int(codec)].kind)
        // The request is answered: the next switch to this source may ask again at once.
        if keyframe == true { slots[participant].hasRequestedKeyframe = false }
        if isPending {
            if keyframe == true {
                counters.switchesOnKeyframe &+= 1
                switchToPending(needsKeyframe: false)
            } else if keyframe == nil || now &- pendingSince >= configuration.keyframeTimeout {
                counters.switchesWithoutKeyframe &+= 1
                switchToPending(needsKeyframe: keyframe == nil ? false : true)
            } else {
                // The first packet may be what taught us the SSRC the request needs.
                requestKeyframeIfDue(from: participant, now: now, sink: &sink)
                counters.awaitingKeyframe &+= 1
                return
            }
        } else if keyframe == true {
            currentNeedsKeyframe = false
        }
        let sequence = packet.sequenceNumber.rawValue
        var isOlder = false
        if currentHasSequence {
            let jump = Int16(bitPattern: sequence &- currentLastSequence)
            isOlder = jump <= 0
            if jump > Self.sequenceJumpLimit || jump < -Self.sequenceJumpLimit {
                // Not reordering or loss but a new sequence space: continue the receivers' streams
                // from here instead of dropping everything as too old (or leaving a huge gap).
                counters.sourceSequenceJumps &+= 1
                epoch &+= 1
                currentLastSequence = sequence
            } else if jump > 0 {
                currentLastSequence = sequence
            }
        } else {
            currentHasSequence = true
            currentLastSequence = sequence
        }
        forward(packet, from: participant, codec: Int(codec), isOlderThanNewest: isOlder, now: now, sink: &sink)
    }

    private func switchToPending(needsKeyframe: Bool) {
        currentSource = pendingSource
        pendingSource = -1
        currentNeedsKeyframe = needsKeyframe
        currentHasSequence = false
        epoch &+= 1
    }

    /// GCRA: one packet every `inputInterval` ns on average, `packetBurst` ahead at most.
    @inline(__always)
    private func admit(_ participant: Int, now: UInt64) -> Bool {
        let tat = slots[participant].inputTAT
        if tat > now &+ inputTolerance { return false }
        slots[participant].inputTAT = (tat > now ? tat : now) &+ inputInterval
        return true
    }

    /// Sends `packet` from `source` to every other member, or, when it is a retransmission some
    /// receivers NACKed, to those receivers only.
    @inline(__always)
    private func forward<Sink: VideoForwarderSink>(
        _ packet: RTPPacket, from source: Int, codec: Int, isOlderThanNewest: Bool, now: UInt64, sink: inout Sink
    ) {
        var count = packet.bytes.count
        // A parsed RTP packet has at least its 12-byte header, and the scratch is allocated at init: neither is nil.
        guard let scratch = packetScratch.baseAddress, let input = packet.bytes.baseAddress else { return }
        // One copy into the scratch buffer; per receiver only the header fields are patched.
        if packet.hasExtension, configuration.stripsHeaderExtensions {
            // Fixed header and CSRCs, then payload and padding; the X bit cleared.
            let fixed = RTPPacket.fixedHeaderSize + 4 * packet.csrcCount
            let rest = count - packet.headerLength
            scratch.copyMemory(from: input, byteCount: fixed)
            (scratch + fixed).copyMemory(from: input + packet.headerLength, byteCount: rest)
            packetScratch[0] &= ~0x10
            count = fixed + rest
        } else {
            scratch.copyMemory(from: input, byteCount: count)
        }
        let out = OutgoingPacket(
            bytes: UnsafeRawBufferPointer(rebasing: packetScratch[0..<count]), markerBit: packet.bytes[1] & 0x80,
            sourceSequence: packet.sequenceNumber.rawValue, sourceTimestamp: packet.timestamp.rawValue,
            payloadBytes: UInt64(packet.payloadLength), clockRate: UInt64(codecs[codec].clockRate), codec: codec)
        if isOlderThanNewest, now < nackRecordsExpireAt, sendRetransmission(out, now: now, sink: &sink) { return }
        var i = 0
        while i < memberCount {
            let receiver = members[i]
            i += 1
            if receiver == source { continue }
            emit(out, to: receiver, now: now, sink: &sink)
        }
    }

    /// The parts of a source packet every receiver's copy shares.
    private struct OutgoingPacket {
        var bytes: UnsafeRawBufferPointer
        var markerBit: UInt8
        var sourceSequence: UInt16
        var sourceTimestamp: UInt32
        var payloadBytes: UInt64
        var clockRate: UInt64
        var codec: Int
    }

    /// Patches the scratch copy's header for `receiver` and hands it to the sink.
    @inline(__always)
    private func emit<Sink: VideoForwarderSink>(_ out: OutgoingPacket, to receiver: Int, now: UInt64, sink: inout Sink) {
        let payloadType = codecToPayloadType[receiver * Self.maxCodecs + out.codec]
        guard payloadType != Self.none else {
            counters.noCommonCodec &+= 1
            return
        }
        let r = slots + receiver
        if r.pointee.epoch != epoch {
            r.pointee.synchronise(
                epoch: epoch, sourceSequence: out.sourceSequence, sourceTimestamp: out.sourceTimestamp, now: now,
                clockRate: out.clockRate, minimumStep: configuration.minimumSwitchTimestampStep)
        }
        let outSequence = out.sourceSequence &+ r.pointee.sequenceOffset
        // Older than the switch point (or the trailing floor): its number may already be spent.
        guard Int16(bitPattern: outSequence &- r.pointee.epochFirstSequence) >= 0 else {
            counters.tooOldAfterSwitch &+= 1
            return
        }
        let outTimestamp = out.sourceTimestamp &+ r.pointee.timestampOffset
        packetScratch[1] = out.markerBit | payloadType
        packetScratch.storeBytes(of: outSequence.bigEndian, toByteOffset: 2, as: UInt16.self)
        packetScratch.storeBytes(of: outTimestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
        packetScratch.storeBytes(of: r.pointee.outgoingSSRC.bigEndian, toByteOffset: 8, as: UInt32.self)
        r.pointee.packetsSent &+= 1
        r.pointee.payloadBytesSent &+= out.payloadBytes
        if Int16(bitPattern: outSequence &- r.pointee.lastOutSequence) > 0 {
            r.pointee.lastOutSequence = outSequence
            r.pointee.lastOutTimestamp = outTimestamp
            r.pointee.lastSentAt = now
            if outSequence &- r.pointee.epochFirstSequence > Self.floorWindow {
                r.pointee.epochFirstSequence = outSequence &- Self.floorWindow
            }
        }
        counters.forwarded &+= 1
        sink.send(participant: receiver, packet: out.bytes)
    }

    /// If receivers NACKed this (older) packet in the current epoch, sends it to them only, so the
    /// others do not get a duplicate; returns false for a packet nobody asked for (plain
    /// reordering), which then goes to everyone. Scans the small record ring: out-of-order packets only.
    private func sendRetransmission<Sink: VideoForwarderSink>(_ out: OutgoingPacket, now: UInt64, sink: inout Sink)
        -> Bool
    {
        var matched = false
        for k in 0..<Self.nackRecordCapacity {
            let record = nackRecords[k]
            guard record.expiresAt > now, record.epoch == epoch, record.sourceSequence == out.sourceSequence else {
                continue
            }
            nackRecords[k].expiresAt = 0
            matched = true
            let receiver = Int(record.receiver)
            // The receiver may have left (and the slot been reused) since it asked.
            guard slots[receiver].isActive, slots[receiver].epoch == epoch else { continue }
            counters.retransmissionsTargeted &+= 1
            emit(out, to: receiver, now: now, sink: &sink)
        }
        return matched
    }

    // MARK: - RTCP

    /// Handles an RTCP datagram (compound or reduced-size) from `participant`: PLI and FIR about
    /// the stream it is sent become one rate-limited keyframe request to the current source; NACKs
    /// are translated into the source's sequence space and relayed. Everything else is counted as
    /// `rtcpOther` and left to the caller. `packet` is borrowed for the call. No allocation.
    public func receiveRTCP<Sink: VideoForwarderSink>(
        from participant: Int, packet bytes: UnsafeRawBufferPointer, now: UInt64, sink: inout Sink
    ) {
        guard isMember(participant) else {
            counters.malformedRTCP &+= 1
            return
        }
        let compound: RTCPCompoundPacket
        do { compound = try RTCPCompoundPacket(parsing: bytes) } catch {
            counters.malformedRTCP &+= 1
            return
        }
        let viewSSRC = SSRC(slots[participant].outgoingSSRC)
        for rtcp in compound {
            switch (rtcp.packetType, rtcp.feedbackMessageType) {
            case (RTCPPacketType.payloadSpecificFeedback, RTCPPictureLossIndication.feedbackMessageType):
                guard let pli = try? RTCPPictureLossIndication(parsing: rtcp) else {
                    counters.malformedRTCP &+= 1
                    continue
                }
                guard pli.mediaSSRC == viewSSRC else {
                    counters.feedbackUnmatched &+= 1
                    continue
                }
                keyframeRequested(by: participant, now: now, sink: &sink)
            case (RTCPPacketType.payloadSpecificFeedback, RTCPFullIntraRequest.feedbackMessageType):
                guard let fir = try? RTCPFullIntraRequest(parsing: rtcp) else {
                    counters.malformedRTCP &+= 1
                    continue
                }
                var addressed = false
                for e in 0..<fir.entryCount where fir.entry(at: e).ssrc == viewSSRC { addressed = true }
                guard addressed else {
                    counters.feedbackUnmatched &+= 1
                    continue
                }
                keyframeRequested(by: participant, now: now, sink: &sink)
            case (RTCPPacketType.transportFeedback, RTCPGenericNACK.feedbackMessageType):
                guard let nack = try? RTCPGenericNACK(parsing: rtcp) else {
                    counters.malformedRTCP &+= 1
                    continue
                }
                guard nack.mediaSSRC == viewSSRC else {
                    counters.feedbackUnmatched &+= 1
                    continue
                }
                relayNACK(nack, from: participant, now: now, sink: &sink)
            default:
                counters.rtcpOther &+= 1
            }
        }
    }

    private func keyframeRequested<Sink: VideoForwarderSink>(by receiver: Int, now: UInt64, sink: inout Sink) {
        let source = currentSource
        guard source >= 0, source != receiver else {
            counters.feedbackUnmatched &+= 1
            return
        }
        relayKeyframeRequest(to: source, now: now, sink: &sink)
    }

    /// A keyframe request on a receiver's behalf: a new FIR command, at most one per interval.
    private func relayKeyframeRequest<Sink: VideoForwarderSink>(to source: Int, now: UInt64, sink: inout Sink) {
        let s = slots[source]
        if s.hasRelayedRequest, now &- s.lastRelayedRequestAt < configuration.keyframeRequestInterval {
            counters.keyframeRequestsRateLimited &+= 1
            return
        }
        slots[source].hasRelayedRequest = true
        slots[source].lastRelayedRequestAt = now
        slots[source].firSequence &+= 1
        sendKeyframeRequest(to: source, now: now, sink: &sink)
    }

    private func requestKeyframeIfDue<Sink: VideoForwarderSink>(from source: Int, now: UInt64, sink: inout Sink) {
        let s = slots[source]
        if s.hasRequestedKeyframe, now &- s.lastKeyframeRequestAt < configuration.keyframeRequestInterval { return }
        // A repeat of the same request keeps its FIR sequence number (RFC 5104 §4.3.1.2).
        sendKeyframeRequest(to: source, now: now, sink: &sink)
    }

    /// PLI (unless the source negotiated FIR only) and FIR (when negotiated), each as its own RTCP
    /// packet. Without a known source SSRC nothing can be addressed yet: the request stays due and
    /// goes out with the source's first packet.
    private func sendKeyframeRequest<Sink: VideoForwarderSink>(to source: Int, now: UInt64, sink: inout Sink) {
        let s = slots[source]
        guard s.hasSourceSSRC else {
            slots[source].hasRequestedKeyframe = false
            return
        }
        slots[source].hasRequestedKeyframe = true
        slots[source].lastKeyframeRequestAt = now
        if s.supportsPLI || !s.supportsFIR {
            let pli = RTCPPictureLossIndicationWriter(senderSSRC: SSRC(s.outgoingSSRC), mediaSSRC: SSRC(s.sourceSSRC))
            if let n = try? pli.write(to: rtcpScratch) {
                counters.pliSent &+= 1
                sink.sendRTCP(participant: source, packet: UnsafeRawBufferPointer(rebasing: rtcpScratch[0..<n]))
            }
        }
        if s.supportsFIR {
            firEntry.pointee = RTCPFIREntry(ssrc: SSRC(s.sourceSSRC), sequenceNumber: s.firSequence)
            let fir = RTCPFullIntraRequestWriter(
                senderSSRC: SSRC(s.outgoingSSRC), entries: UnsafeBufferPointer(start: firEntry, count: 1))
            if let n = try? fir.write(to: rtcpScratch) {
                counters.firSent &+= 1
                sink.sendRTCP(participant: source, packet: UnsafeRawBufferPointer(rebasing: rtcpScratch[0..<n]))
            }
        }
    }

    private func recordNACK(sourceSequence: UInt16, receiver: Int, now: UInt64) {
        let k = nackRecordNext
        nackRecordNext = k + 1 == Self.nackRecordCapacity ? 0 : k + 1
        nackRecordsExpireAt = now &+ Self.nackRecordLifetime
        nackRecords[k] = VideoNACKRecord(
            sourceSequence: sourceSequence, receiver: Int32(receiver), epoch: epoch,
            expiresAt: now &+ Self.nackRecordLifetime)
    }

    /// Maps the receiver's lost sequence numbers into the current source's space (only those sent
    /// since the last switch; older ones name another source's packets and are dropped) and sends
    /// one NACK to the source.
    private func relayNACK<Sink: VideoForwarderSink>(
        _ nack: RTCPGenericNACK, from receiver: Int, now: UInt64, sink: inout Sink
    ) {
        let source = currentSource
        guard source >= 0, source != receiver, slots[source].hasSourceSSRC, slots[source].supportsNACK else {
            counters.feedbackUnmatched &+= 1
            return
        }
        let r = slots + receiver
        // GCRA limit per receiver so one receiver cannot make the source resend everything.
        let tat = r.pointee.nackTAT
        if tat > now &+ nackTolerance {
            counters.nackRateLimited &+= 1
            return
        }
        r.pointee.nackTAT = (tat > now ? tat : now) &+ nackInterval
        let inEpoch = r.pointee.epoch == epoch && r.pointee.packetsSent > 0
        var count = 0
        for lost in nack.lostSequenceNumbers {
            let sent = lost.rawValue
            guard inEpoch,
                Int16(bitPattern: sent &- r.pointee.epochFirstSequence) >= 0,
                Int16(bitPattern: r.pointee.lastOutSequence &- sent) >= 0,
                count < Self.nackScratchCapacity
            else {
                counters.nackItemsDropped &+= 1
                continue
            }
            let sourceSequence = sent &- r.pointee.sequenceOffset
            nackSequences[count] = SequenceNumber(sourceSequence)
            count += 1
            recordNACK(sourceSequence: sourceSequence, receiver: receiver, now: now)
        }
        guard count > 0 else { return }
        let used = RTCPGenericNACK.pack(
            lost: UnsafeBufferPointer(start: nackSequences, count: count),
            into: UnsafeMutableBufferPointer(start: nackItems, count: Self.nackScratchCapacity))
        let s = slots[source]
        let writer = RTCPGenericNACKWriter(
            senderSSRC: SSRC(s.outgoingSSRC), mediaSSRC: SSRC(s.sourceSSRC),
            items: UnsafeBufferPointer(start: nackItems, count: used))
        guard let n = try? writer.write(to: rtcpScratch) else { return }
        counters.nackRelayed &+= 1
        sink.sendRTCP(participant: source, packet: UnsafeRawBufferPointer(rebasing: rtcpScratch[0..<n]))
    }
}
