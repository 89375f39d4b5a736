#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import RTP
import TandemBase

/// A socket-free, clock-driven audio conference room: every participant's RTP in, every participant's mix out.
///
/// Ownership: like `AudioPipeline`, a room is owned by one worker thread and is not thread-safe. `join`, `leave`
/// and the controls run on that worker between ticks (the lead's worker applies them from its command queue); they
/// may allocate (codec state, buffers). `receive` (per packet) and `produce` (per tick) never allocate, lock, format
/// strings or call through an existential; ARC traffic is one retain/release per participant per frame.
///
/// Per 20 ms frame (`produce`, called every 10 ms):
/// 1. each participant's jitter buffer plays one frame, decoded (muted participants are drained, not decoded);
///    its energy is measured at the decode rate, or taken from its RFC 6464 level; only the talkers selected in
///    step 3 are resampled to the room rate;
/// 2. talk detection: a frame at or above `talkThresholdDBov` makes a participant talking; it stays talking for
///    `hangoverMilliseconds` after its last loud frame (events `talking`/`stoppedTalking`);
/// 3. selection of at most N (`maximumTalkers`) talkers: selected talkers keep their place while talking
///    (including hangover); free places go to the loudest other talkers (smoothed energy); a candidate louder by
///    `replacementMarginDB` than the quietest selected talker replaces it (one swap per frame), so the set
///    converges on the N loudest without flapping between similar levels;
/// 4. the selected talkers, with input gain, are summed into one int32 buffer, plus room-wide playback;
/// 5. output: a selected talker hears sum-minus-self with its own encoder; everyone else in an encode group
///    (same codec, payload type, rates, ptime, Opus settings and output gain) hears the full sum, encoded once per
///    group per frame, and gets the same payload bytes behind its own RTP header (SSRC, sequence, timestamp).
///    Saturation to int16 happens only here. A participant with private playback hears the mix plus the prompt,
///    encoded with an encoder of its own.
///
/// Deaf participants are sent encoded silence, not nothing: phones and SBCs treat a stream that stops as dead
/// media (RTP timeouts, NAT bindings closing), and PBX users expect "deaf" to mean "hears nothing", not "call
/// dropped". The silent payload is encoded once per group by a fresh encoder.
///
/// Encoder continuity: each participant has one RTP timeline (SSRC, sequence, timestamp advance every frame,
/// marker after a gap) whatever encoder fills it. When a participant moves between its group's shared encoder and a
/// talker encoder, the receiver's decoder state was built by the other encoder: G.711 and L16 are stateless and
/// switch cleanly; G.722 (ADPCM) and Opus may give a short artefact (a few ms) at the switch. Switches happen
/// only at talk-spurt boundaries (the hangover keeps a talker selected through pauses), which is where
/// FreeSWITCH and Janus switch too. Not done: copying the shared encoder's state into the talker encoder at
/// the switch (libopus state is relocatable, so a memcpy would do it), which would make shared → own seamless.
///
/// DTMF: RFC 4733 digits become `dtmf` events (once per event, on its first packet); they are not mixed.
/// Bad input (garbage, unknown payload types including a codec change mid-call, a flood beyond
/// `floodPacketsPerSecond`) is dropped and counted on that participant only.
///
/// Worker integration (for the lead): create the room and `join` on the room's worker from its command queue;
/// route each participant's socket to `receive(participant:_:now:)` after SRTP unprotect; on every 10 ms tick call
/// `produce(now:sink:)` with a sink that SRTP-protects and queues each packet on that participant's socket batch
/// (the packet buffer is reused after `send` returns), then `drainEvents` into the control-side event queue.
/// Statistics are plain values to copy out on the worker.
///
/// Limits today: every participant's ptime must equal the room frame (20 ms); mono only; RTCP is the caller's;
/// quiet participants are still decoded every frame (RFC 6464 levels are used for selection, not yet to skip
/// decoding). A large room can be spread over several workers: see `ConferenceRoom+Spread.swift` and
/// `ConferenceSpreadMixer` (each worker holds a shard of the participants; mixing on the room's worker).
public final class ConferenceRoom {
    /// The room's settings.
    public let configuration: ConferenceRoomConfiguration
    /// Samples per frame at the room rate.
    public let frameSamples: Int
    /// The largest packet `produce` hands the sink, in bytes.
    public let maximumPacketSize: Int
    /// Whether `join` is refused.
    public private(set) var isLocked = false

    var slots: [ConferenceParticipant?]
    /// Slot indices of participants in the room (capacity reserved at init, so joins do not reallocate).
    var active: [Int] = []
    var groups: [ConferenceEncodeGroup?] = []
    var stats = ConferenceRoomStatistics()

    // Mixing buffers (room rate).
    let sum: UnsafeMutablePointer<Int32>
    let contributions: UnsafeMutablePointer<Int32>
    let selected: UnsafeMutablePointer<Int>
    var selectedCount = 0
    private let unityFrame: UnsafeMutablePointer<Int16>
    private var unityFrameIndex = -1
    private let scratchFrame: UnsafeMutablePointer<Int16>
    private let playbackFrame: UnsafeMutablePointer<Int16>
    private let packet: UnsafeMutableRawPointer
    private let packetCapacity: Int

    // Thresholds in frame energy (sum of squares over a frame).
    private let talkEnergy: Int64
    private let hangoverFrames: Int
    /// Replacement margin as a ratio in Q8 (256 = 0 dB).
    private let marginQ8: Int64

    // Clock.
    var nextFrame: UInt64?
    let frameNanoseconds: UInt64
    var frameIndex = 0
    /// Frames sent (the shared encodes are made once per output frame); equals `frameIndex` unless the room is a
    /// shard of a spread room, whose outputs follow the mixer's frames.
    var outputFrame = 0
    /// This room's place in a spread room (see `ConferenceRoom+Spread.swift`): shard `spreadShard` of
    /// `spreadShardCount`; participant `i` here is `i * spreadShardCount + spreadShard` in the room.
    var spreadShard = 0
    var spreadShardCount = 1

    // Events.
    private let events: UnsafeMutablePointer<ConferenceEvent>
    private let eventCapacity: Int
    private var eventHead = 0
    private var eventCount = 0

    /// Benchmarks only: when set, `produce` re-mixes the frames already decoded instead of pulling new ones and
    /// sends the encoders' previous payloads instead of encoding, so that the mixer alone (talk state, selection,
    /// sum, sum-minus-self, saturation, per-listener RTP packets) is timed without jitter buffers and codecs.
    @_spi(Benchmarks) public var skipsCodecs = false

    // Playback and recording.
    private var roomPlayback: PlaybackSource?
    private var recording: RecordingChannel?

    /// A room with no participants. Allocates every room-wide buffer. Throws `.invalidConfiguration` for a rate
    /// other than 8/16/48 kHz, a frame other than 20 ms, or no talkers.
    public init(configuration: ConferenceRoomConfiguration = ConferenceRoomConfiguration()) throws(ConferenceError) {
        guard [8000, 16000, 48000].contains(configuration.sampleRate), configuration.frameMilliseconds == 20,
              configuration.maximumTalkers >= 1, configuration.maximumParticipants >= 1,
              configuration.eventCapacity >= 1 else { throw .invalidConfiguration }
        self.configuration = configuration
        frameSamples = configuration.sampleRate * configuration.frameMilliseconds / 1000
        slots = Array(repeating: nil, count: configuration.maximumParticipants)
        active.reserveCapacity(configuration.maximumParticipants)
        sum = .allocate(capacity: frameSamples)
        sum.initialize(repeating: 0, count: frameSamples)
        contributions = .allocate(capacity: configuration.maximumTalkers * frameSamples)
        contributions.initialize(repeating: 0, count: configuration.maximumTalkers * frameSamples)
        selected = .allocate(capacity: configuration.maximumTalkers)
        selected.initialize(repeating: -1, count: configuration.maximumTalkers)
        unityFrame = .allocate(capacity: frameSamples)
        unityFrame.initialize(repeating: 0, count: frameSamples)
        scratchFrame = .allocate(capacity: frameSamples)
        scratchFrame.initialize(repeating: 0, count: frameSamples)
        playbackFrame = .allocate(capacity: frameSamples)
        playbackFrame.initialize(repeating: 0, count: frameSamples)
        // Header plus the largest payload of any codec here (L16 at 48 kHz, 20 ms: 1920 bytes).
        packetCapacity = RTPPacket.fixedHeaderSize + 2 * 48000 / 50 + 64
        maximumPacketSize = packetCapacity
        packet = .allocate(byteCount: packetCapacity, alignment: 16)
        packet.initializeMemory(as: UInt8.self, repeating: 0, count: packetCapacity)
        let meanSquare = 32768.0 * 32768.0 * pow(10, configuration.talkThresholdDBov / 10)
        talkEnergy = max(1, Int64(meanSquare * Double(frameSamples)))
        hangoverFrames = max(0, configuration.hangoverMilliseconds / configuration.frameMilliseconds)
        marginQ8 = Int64((256 * pow(10, max(0, configuration.replacementMarginDB) / 10)).rounded())
        frameNanoseconds = UInt64(configuration.frameMilliseconds) * 1_000_000
        eventCapacity = configuration.eventCapacity
        events = .allocate(capacity: eventCapacity)
        events.initialize(repeating: .kicked(participant: -1), count: eventCapacity)
    }

    deinit {
        sum.deallocate()
        contributions.deallocate()
        selected.deallocate()
        unityFrame.deallocate()
        scratchFrame.deallocate()
        playbackFrame.deallocate()
        packet.deallocate()
        events.deallocate()
        recording?.stop()
    }

    // MARK: - Membership (worker, between ticks; may allocate)

    /// Adds a participant that sends and receives `format`; the room's stream to it uses `ssrc`. Allocates its
    /// decode chain, and its encode group (or a talker encoder for an existing group). Returns its stable index.
    /// Throws `.locked`, `.full` or `.unsupportedFormat` (codec, or a ptime other than the room frame).
    public func join(format: AudioEndpointFormat, ssrc: UInt32,
                     options: ConferenceParticipantOptions = ConferenceParticipantOptions()) throws(ConferenceError) -> Int {
        guard !isLocked else { throw .locked }
        guard let index = slots.firstIndex(where: { $0 == nil }) else { throw .full }
        guard format.ptimeMilliseconds == configuration.frameMilliseconds else {
            throw .unsupportedFormat(.unsupportedPacketTime(format.ptimeMilliseconds))
        }
        let groupIndex = try group(for: format, outputGainQ12: conferenceGainQ12(options.outputGainDB))
        let participant: ConferenceParticipant
        do {
            participant = try ConferenceParticipant(index: index, format: format, ssrc: ssrc, options: options,
                                                    configuration: configuration, groupIndex: groupIndex)
        } catch {
            releaseGroupIfEmpty(groupIndex)
            throw error
        }
        do {
            try addMember(groupIndex)
        } catch {
            releaseGroupIfEmpty(groupIndex)
            throw error
        }
        slots[index] = participant
        active.append(index)
        stats.participants = active.count
        return index
    }

    /// Removes a participant; its index may be reused by a later `join`. Unknown indices are ignored.
    public func leave(_ participant: Int) {
        guard let p = self.participant(participant) else { return }
        deselect(p)
        if let unit = p.talkerEncoder, let group = groups[p.groupIndex] { group.returnTalkerEncoder(unit) }
        p.talkerEncoder = nil
        p.playback?.stop()
        if let group = groups[p.groupIndex] { group.memberCount -= 1 }
        releaseGroupIfEmpty(p.groupIndex)
        slots[participant] = nil
        if let position = active.firstIndex(of: participant) { active.remove(at: position) }
        stats.participants = active.count
    }

    /// Removes a participant and reports `.kicked`.
    public func kick(_ participant: Int) throws(ConferenceError) {
        guard self.participant(participant) != nil else { throw .noSuchParticipant(participant) }
        leave(participant)
        post(.kicked(participant: participant))
    }

    /// Refuses further joins until `unlock`.
    public func lock() { isLocked = true }
    /// Accepts joins again.
    public func unlock() { isLocked = false }

    /// Participants in the room, by index.
    public var participants: [Int] { active.sorted() }

    // MARK: - Controls (worker, between ticks)

    /// Mutes or unmutes a participant (a muted participant is not mixed and never selected).
    public func setMuted(_ participant: Int, _ isMuted: Bool) throws(ConferenceError) {
        let p = try existing(participant)
        p.options.isMuted = isMuted
    }

    /// Makes a participant deaf (sent silence) or hearing again.
    public func setDeaf(_ participant: Int, _ isDeaf: Bool) throws(ConferenceError) {
        let p = try existing(participant)
        p.options.isDeaf = isDeaf
    }

    /// Marks a participant as moderator (kept unmuted by `muteAll(exceptModerators:)`).
    public func setModerator(_ participant: Int, _ isModerator: Bool) throws(ConferenceError) {
        let p = try existing(participant)
        p.options.isModerator = isModerator
    }

    /// Mutes everyone except moderators (when `exceptModerators`), e.g. for a lecture.
    public func muteAll(exceptModerators: Bool = true) {
        for index in active {
            guard let p = slots[index] else { continue }
            if !(exceptModerators && p.options.isModerator) { p.options.isMuted = true }
        }
    }

    /// Sets the gain on what a participant says, in dB (−40…+18).
    public func setInputGain(_ participant: Int, dB: Double) throws(ConferenceError) {
        let p = try existing(participant)
        p.options.inputGainDB = dB
        p.inputGainQ12 = conferenceGainQ12(dB)
    }

    /// Sets the gain on what a participant hears, in dB (−40…+18). Moves it to the encode group of that gain
    /// (allocates a group if it is the first with this gain).
    public func setOutputGain(_ participant: Int, dB: Double) throws(ConferenceError) {
        let p = try existing(participant)
        let gain = conferenceGainQ12(dB)
        guard gain != p.outputGainQ12 else { return }
        let newGroup = try group(for: p.format, outputGainQ12: gain)
        try addMember(newGroup)
        if let unit = p.talkerEncoder, let old = groups[p.groupIndex] { old.returnTalkerEncoder(unit) }
        p.talkerEncoder = nil
        if let old = groups[p.groupIndex] { old.memberCount -= 1 }
        let oldIndex = p.groupIndex
        p.groupIndex = newGroup
        p.options.outputGainDB = dB
        p.outputGainQ12 = gain
        releaseGroupIfEmpty(oldIndex)
    }

    /// Plays `source` to the whole room (mixed into everyone's audio and the recording), replacing any room
    /// playback. The source must render at the room rate. `.playbackEnded(participant: nil, …)` follows its end.
    public func play(_ source: PlaybackSource) throws(ConferenceError) {
        guard source.sampleRate == configuration.sampleRate else { throw .playbackRateMismatch(source.sampleRate) }
        roomPlayback?.stop()
        roomPlayback = source
    }

    /// Plays `source` to one participant only, mixed into what it hears. Allocates the participant's own encoder
    /// the first time. The source must render at the room rate.
    public func play(_ source: PlaybackSource, to participant: Int) throws(ConferenceError) {
        let p = try existing(participant)
        guard source.sampleRate == configuration.sampleRate else { throw .playbackRateMismatch(source.sampleRate) }
        if p.privateEncoder == nil, let group = groups[p.groupIndex] {
            p.privateEncoder = try ConferenceEncoderUnit(format: group.format, opus: group.opus,
                                                         roomRate: configuration.sampleRate, roomFrameSamples: frameSamples)
        }
        p.playback?.stop()
        p.playback = source
    }

    /// Stops the room-wide playback (its end event follows), or one participant's.
    public func stopPlayback(participant: Int? = nil) {
        if let participant { self.participant(participant)?.playback?.stop() } else { roomPlayback?.stop() }
    }

    /// Records the room's full mix (everything every listener hears, at the room rate) into `channel`, which
    /// the control side got from `RecordingWriter.start` (mono is the natural mode; leg 0 is used).
    public func startRecording(_ channel: RecordingChannel) {
        recording?.stop()
        recording = channel
    }

    /// Stops the room recording; the writer finalises the file.
    public func stopRecording() {
        recording?.stop()
        recording = nil
    }

    // MARK: - Statistics

    /// Room-wide totals. Worker thread.
    public var statistics: ConferenceRoomStatistics {
        var s = stats
        s.encodeGroups = groups.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        return s
    }

    /// One participant's totals and state, or nil for an unknown index. Worker thread.
    public func statistics(of participant: Int) -> ConferenceParticipantStatistics? {
        guard let p = self.participant(participant) else { return nil }
        var s = p.statistics
        s.level = ConferenceLevels.level(energy: p.frameEnergy, samples: frameSamples)
        s.isTalking = p.isTalking
        s.isSelected = p.isSelected
        return s
    }

    /// The selected talkers of the last frame, loudest first is not guaranteed.
    public var selectedTalkers: [Int] { (0..<selectedCount).map { selected[$0] } }

    // MARK: - Events

    /// Takes the oldest queued event, or nil. Worker thread; never allocates.
    public func nextEvent() -> ConferenceEvent? {
        guard eventCount > 0 else { return nil }
        let event = events[eventHead]
        eventHead = (eventHead + 1) % eventCapacity
        eventCount -= 1
        return event
    }

    /// Hands every queued event to `body`, oldest first. Worker thread; never allocates.
    public func drainEvents(_ body: (ConferenceEvent) -> Void) {
        while let event = nextEvent() { body(event) }
    }

    private func post(_ event: ConferenceEvent) {
        guard eventCount < eventCapacity else {
            stats.eventsDropped += 1
            return
        }
        events[(eventHead + eventCount) % eventCapacity] = event
        eventCount += 1
    }

    // MARK: - Receive (per packet)

    /// Takes one (already SRTP-unprotected) RTP packet from `participant` received at `now`. The caller keeps the
    /// buffer. Unknown participants are ignored; bad packets are counted on that participant. Never allocates.
    @discardableResult
    public func receive(participant: Int, _ bytes: UnsafeRawBufferPointer, now: Instant) -> PipelineReceiveResult {
        guard participant >= 0, participant < slots.count, let p = slots[participant] else { return .ignored }
        return p.receive(bytes, now: now)
    }

    // MARK: - Produce (per tick)

    /// Advances the room to `now`: for every 20 ms frame due, mixes and hands every outgoing packet to `sink`.
    /// Call on every worker tick (10 ms). Never allocates; drain events afterwards.
    public func produce<S: ConferenceOutputSink>(now: Instant, sink: inout S) {
        if nextFrame == nil { nextFrame = now.nanoseconds }
        while let due = nextFrame, due <= now.nanoseconds {
            var at = due
            // A worker that stalled catches up by at most 100 ms; beyond that, missed frames are skipped.
            if now.nanoseconds - due > 5 * frameNanoseconds {
                stats.clockResyncs += 1
                at = now.nanoseconds
            }
            nextFrame = at + frameNanoseconds
            mixFrame(now: Instant(nanoseconds: at), sink: &sink)
        }
    }

    private func mixFrame<S: ConferenceOutputSink>(now: Instant, sink: inout S) {
        let started = MonotonicClock().now().nanoseconds
        frameIndex += 1
        outputFrame += 1
        // 1. Inputs.
        for index in active where !skipsCodecs {
            guard let p = slots[index] else { continue }
            p.pull(now: now, decodes: !p.options.isMuted)
        }
        // 2. Talk state and digits.
        updateTalkState()
        // 3. Selection.
        select()
        // 4. Sum.
        sum.update(repeating: 0, count: frameSamples)
        for slot in 0..<selectedCount {
            guard let p = slots[selected[slot]] else { continue }
            if !skipsCodecs {
                p.preparedFrameCounter = frameIndex
                p.prepareRoomFrame()
            }
            p.contributionSlot = slot
            if p.inputGainQ12 == 4096 {
                // Unity gain: the talker's own int16 frame is its contribution (no multiply, no copy).
                ConferenceMixing.accumulate(p.roomFrame, into: sum, count: frameSamples)
                p.contributionIsRoomFrame = true
            } else {
                ConferenceMixing.accumulateScaled(p.roomFrame, gainQ12: p.inputGainQ12,
                                                  contribution: contributions + slot * frameSamples, into: sum,
                                                  count: frameSamples)
                p.contributionIsRoomFrame = false
            }
        }
        var hasPlayback = false
        if let source = roomPlayback {
            hasPlayback = source.render(into: UnsafeMutableBufferPointer(start: playbackFrame, count: frameSamples),
                                        sampleRate: configuration.sampleRate)
            if hasPlayback { ConferenceMixing.accumulate(playbackFrame, into: sum, count: frameSamples) }
            if let end = source.takeEnd() {
                post(.playbackEnded(participant: nil, reason: end))
                roomPlayback = nil
            }
        }
        if let recording {
            writeUnityFrame()
            if !recording.write(leg: 0, pcm: UnsafeBufferPointer(start: unityFrame, count: frameSamples),
                                sampleRate: configuration.sampleRate, at: now), recording.isRecording {
                stats.recordingDrops += 1
            }
        }
        // 5. Outputs.
        var encoders = 0
        for index in active {
            guard let p = slots[index], let group = groups[p.groupIndex] else { continue }
            send(p, group: group, encoders: &encoders, sink: &sink)
            p.timestamp = p.timestamp.advanced(by: p.timestampIncrement)
        }
        stats.talkers = selectedCount
        stats.encodersInUse = encoders
        stats.frames += 1
        let elapsed = MonotonicClock().now().nanoseconds &- started
        stats.lastTickNanoseconds = elapsed
        stats.maximumTickNanoseconds = max(stats.maximumTickNanoseconds, elapsed)
    }

    /// The full mix saturated to int16 at unity gain, once per frame.
    private func writeUnityFrame() {
        guard unityFrameIndex != outputFrame else { return }
        ConferenceMixing.writeSaturated(sum, into: unityFrame, count: frameSamples)
        unityFrameIndex = outputFrame
    }

    func updateTalkState() {
        for index in active {
            guard let p = slots[index] else { continue }
            if p.pendingDigit >= 0 {
                post(.dtmf(participant: index, event: UInt8(truncatingIfNeeded: p.pendingDigit)))
                p.pendingDigit = -1
                if p.pendingDigit2 >= 0 {
                    post(.dtmf(participant: index, event: UInt8(truncatingIfNeeded: p.pendingDigit2)))
                    p.pendingDigit2 = -1
                }
            }
            if let source = p.playback, source.endReason != nil, let end = source.takeEnd() {
                post(.playbackEnded(participant: index, reason: end))
                p.playback = nil
            }
            if p.options.isMuted {
                p.smoothedEnergy = 0
                if p.isTalking {
                    p.isTalking = false
                    post(.stoppedTalking(participant: index))
                }
                continue
            }
            let energy = p.frameEnergy
            p.smoothedEnergy += (energy - p.smoothedEnergy) / 4
            if energy >= talkEnergy {
                p.lastLoudFrame = frameIndex
                if !p.isTalking {
                    p.isTalking = true
                    post(.talking(participant: index))
                }
            } else if p.isTalking && frameIndex - p.lastLoudFrame > hangoverFrames {
                p.isTalking = false
                post(.stoppedTalking(participant: index))
            }
        }
    }

    /// Keeps selected talkers that still talk, fills free places with the loudest other talkers, and lets one
    /// clearly louder candidate replace the quietest selected talker.
    func select() {
        // Drop those who stopped talking (or were muted).
        var kept = 0
        for slot in 0..<selectedCount {
            let index = selected[slot]
            if let p = slots[index], p.isTalking, !p.options.isMuted {
                selected[kept] = index
                kept += 1
            } else if let p = slots[index] {
                release(p)
            }
        }
        selectedCount = kept
        // Fill free places.
        while selectedCount < configuration.maximumTalkers {
            guard let best = loudestCandidate() else { break }
            best.isSelected = true
            selected[selectedCount] = best.index
            selectedCount += 1
        }
        // One replacement per frame.
        guard selectedCount == configuration.maximumTalkers, let candidate = loudestCandidate() else { return }
        var weakestSlot = -1
        var weakestEnergy = Int64.max
        for slot in 0..<selectedCount {
            guard let p = slots[selected[slot]] else { continue }
            if p.smoothedEnergy < weakestEnergy {
                weakestEnergy = p.smoothedEnergy
                weakestSlot = slot
            }
        }
        guard weakestSlot >= 0, candidate.smoothedEnergy / 256 > (weakestEnergy / 256) * marginQ8 / 256 else { return }
        if let weakest = slots[selected[weakestSlot]] { release(weakest) }
        candidate.isSelected = true
        selected[weakestSlot] = candidate.index
    }

    private func loudestCandidate() -> ConferenceParticipant? {
        var best: ConferenceParticipant?
        var bestEnergy: Int64 = -1
        for index in active {
            guard let p = slots[index], p.isTalking, !p.isSelected, !p.options.isMuted else { continue }
            if p.smoothedEnergy > bestEnergy {
                bestEnergy = p.smoothedEnergy
                best = p
            }
        }
        return best
    }

    /// Ends `p`'s turn as a selected talker (returns its encoder) without touching `selected`.
    private func release(_ p: ConferenceParticipant) {
        p.isSelected = false
        p.contributionSlot = -1
        if let unit = p.talkerEncoder, let group = groups[p.groupIndex] { group.returnTalkerEncoder(unit) }
        p.talkerEncoder = nil
    }

    /// Removes `p` from the selected talkers (at leave).
    private func deselect(_ p: ConferenceParticipant) {
        guard p.isSelected else { return }
        release(p)
        if selectedCount > 0 {
            for slot in 0..<selectedCount where selected[slot] == p.index {
                selected[slot] = selected[selectedCount - 1]
                selectedCount -= 1
                break
            }
        }
    }

    /// Sends one frame to `p`: silence when deaf, its own mix when it talks or hears a private prompt, else its
    /// group's shared payload.
    func send<S: ConferenceOutputSink>(_ p: ConferenceParticipant, group: ConferenceEncodeGroup,
                                               encoders: inout Int, sink: inout S) {
        let header = RTPPacket.fixedHeaderSize
        let payloadType = p.format.payloadType
        let prompt = p.playback
        if p.options.isDeaf && prompt == nil {
            guard group.silenceLength > 0, group.silenceLength + header <= packetCapacity else { return }
            p.writeHeader(packet, payloadType: payloadType)
            (packet + header).copyMemory(from: group.silence, byteCount: group.silenceLength)
            emit(p, length: header + group.silenceLength, sink: &sink)
            return
        }
        // contributionSlot is set only for this frame's mixed talkers (cleared when a talker is released).
        let isTalker = p.contributionSlot >= 0
        if isTalker && p.contributionIsRoomFrame {
            // Widen the talker's own frame into its contribution slot only when a scaled writer needs int32.
            if p.playback != nil || p.outputGainQ12 != 4096 {
                let slot = contributions + p.contributionSlot * frameSamples
                for i in 0..<frameSamples { slot[i] = Int32(truncatingIfNeeded: p.roomFrame[i]) }
            }
        }
        let own = isTalker ? UnsafePointer(contributions + p.contributionSlot * frameSamples) : nil
        let unit: ConferenceEncoderUnit
        if let prompt, let privateEncoder = p.privateEncoder {
            // The mix (minus self when talking) plus the prompt, at the listener's gain.
            if own != nil || p.outputGainQ12 != 4096 {
                ConferenceMixing.writeSaturatedScaled(sum, minus: own, gainQ12: p.outputGainQ12, into: scratchFrame,
                                                      count: frameSamples)
            } else {
                writeUnityFrame()
                scratchFrame.update(from: unityFrame, count: frameSamples)
            }
            if prompt.render(into: UnsafeMutableBufferPointer(start: playbackFrame, count: frameSamples),
                             sampleRate: configuration.sampleRate) {
                for i in 0..<frameSamples {
                    let v = Int32(scratchFrame[i]) &+ Int32(playbackFrame[i])
                    scratchFrame[i] = Int16(truncatingIfNeeded: min(max(v, -32768), 32767))
                }
            }
            unit = privateEncoder
            encoders += 1
            stats.framesEncoded += 1
            guard skipsCodecs || unit.encode(scratchFrame) else {
                stats.encodeErrors += 1
                p.marksNextPacket = true
                return
            }
        } else if let own {
            if p.talkerEncoder == nil { p.talkerEncoder = group.borrowTalkerEncoder() }
            guard let talker = p.talkerEncoder else { return }
            if p.outputGainQ12 == 4096 && p.contributionIsRoomFrame {
                ConferenceMixing.writeSaturatedMinus(sum, minus: UnsafePointer(p.roomFrame), into: scratchFrame,
                                                     count: frameSamples)
            } else if p.outputGainQ12 == 4096 {
                ConferenceMixing.writeSaturatedMinus(sum, minus: own, into: scratchFrame, count: frameSamples)
            } else {
                ConferenceMixing.writeSaturatedScaled(sum, minus: own, gainQ12: p.outputGainQ12, into: scratchFrame,
                                                      count: frameSamples)
            }
            unit = talker
            encoders += 1
            stats.framesEncoded += 1
            guard skipsCodecs || unit.encode(scratchFrame) else {
                stats.encodeErrors += 1
                p.marksNextPacket = true
                return
            }
        } else {
            if group.encodedFrame != outputFrame {
                group.encodedFrame = outputFrame
                let frame: UnsafePointer<Int16>
                if group.key.outputGainQ12 == 4096 {
                    writeUnityFrame()
                    frame = UnsafePointer(unityFrame)
                } else {
                    ConferenceMixing.writeSaturatedScaled(sum, minus: nil, gainQ12: group.key.outputGainQ12,
                                                          into: scratchFrame, count: frameSamples)
                    frame = UnsafePointer(scratchFrame)
                }
                group.encodedOK = skipsCodecs || group.shared.encode(frame)
                stats.framesEncoded += 1
                encoders += 1
                if !group.encodedOK { stats.encodeErrors += 1 }
            }
            guard group.encodedOK else {
                p.marksNextPacket = true
                return
            }
            unit = group.shared
        }
        let length = unit.payloadLength
        if length <= 2 && unit.suppressesTinyFrames {
            // Opus DTX (RFC 7587 §3.1.3): nothing to send; the next packet starts a talkspurt.
            p.marksNextPacket = true
            return
        }
        guard header + length <= packetCapacity else { return }
        p.writeHeader(packet, payloadType: payloadType)
        (packet + header).copyMemory(from: unit.payload, byteCount: length)
        emit(p, length: header + length, sink: &sink)
    }

    @inline(__always)
    private func emit<S: ConferenceOutputSink>(_ p: ConferenceParticipant, length: Int, sink: inout S) {
        p.statistics.packetsSent += 1
        stats.packetsSent += 1
        sink.send(participant: p.index, packet: UnsafeRawBufferPointer(start: packet, count: length))
    }

    // MARK: - Helpers

    private func participant(_ index: Int) -> ConferenceParticipant? {
        guard index >= 0, index < slots.count else { return nil }
        return slots[index]
    }

    private func existing(_ index: Int) throws(ConferenceError) -> ConferenceParticipant {
        guard let p = participant(index) else { throw .noSuchParticipant(index) }
        return p
    }

    /// The index of the encode group for `format` at `outputGainQ12`, creating it (allocates) if needed.
    private func group(for format: AudioEndpointFormat, outputGainQ12: Int32) throws(ConferenceError) -> Int {
        let name: PipelineCodecName
        do throws(AudioPipelineError) { name = try PipelineCodecName(format) } catch { throw .unsupportedFormat(error) }
        var opus: OpusEncoderConfiguration?
        if name == .opus {
            opus = AudioPipeline.opusConfiguration(for: format, sourceRate: configuration.sampleRate)
        }
        let key = ConferenceEncodeKey(codecName: format.codec.name.lowercased(), payloadType: format.payloadType,
                                      clockRate: format.codec.rtpClockRate, sampleRate: format.codec.sampleRate,
                                      ptimeMilliseconds: format.ptimeMilliseconds, opus: opus,
                                      outputGainQ12: outputGainQ12)
        if let existing = groups.firstIndex(where: { $0?.key == key }) { return existing }
        let made = try ConferenceEncodeGroup(key: key, format: format, opus: opus, roomRate: configuration.sampleRate,
                                             roomFrameSamples: frameSamples)
        if let free = groups.firstIndex(where: { $0 == nil }) {
            groups[free] = made
            return free
        }
        groups.append(made)
        return groups.count - 1
    }

    /// Counts a new member and grows the group's talker-encoder pool up to min(members, N). Allocates.
    private func addMember(_ groupIndex: Int) throws(ConferenceError) {
        guard let group = groups[groupIndex] else { return }
        if group.talkerPool.count < min(group.memberCount + 1, configuration.maximumTalkers) {
            group.talkerPool.append(try ConferenceEncoderUnit(format: group.format, opus: group.opus,
                                                              roomRate: configuration.sampleRate,
                                                              roomFrameSamples: frameSamples))
            group.talkerPoolInUse.append(false)
        }
        group.memberCount += 1
    }

    private func releaseGroupIfEmpty(_ groupIndex: Int) {
        guard groupIndex < groups.count, let group = groups[groupIndex], group.memberCount <= 0 else { return }
        groups[groupIndex] = nil
    }
}
