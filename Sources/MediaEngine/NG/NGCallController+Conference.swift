import Codecs
import MediaControl
import RTP
import SDP
import TandemBase

/// A participant of a room joined over ng: its media session (one audio leg, maybe a video leg).
struct NGConferenceParticipant: Sendable {
    var session: MediaSessionHandle
    var index: Int
    var audio: LegInfo
    var video: LegInfo?
}

/// Tandem's conference commands on the ng socket (not part of rtpengine's protocol):
///
/// - `conference join` — `room`, `participant`, `sdp` (an offer with one audio section, optionally a video
///   section); optional `room-rate` (8000, 16000, 48000), `max-talkers`, `max-participants`, `room-workers` (1…16: spread the
///   room's participants over that many media workers) when the join creates
///   the room, and `muted`, `deaf`, `moderator` (`yes`/`no`), `input-gain`, `output-gain` (dB). Answers with the
///   SDP for the participant: Tandem's address and port, the one codec the room uses for it (the first of the
///   offer the mixer supports), `a=ptime:20`. A second join of the same participant replaces the first.
/// - `conference leave` — `room`, `participant`; the room is destroyed when its last participant leaves.
/// - `conference update` — `room`, optional `participant`, and any of `muted`, `deaf`, `moderator`,
///   `input-gain`, `output-gain`, `kick`, `pin-video` for a participant, `locked`, `mute-all`, `unpin-video` for
///   the room.
/// - `conference play` — `room`, optional `participant`, `file` or `blob`, `repeat-times`; `stop` = `yes` stops.
/// - `conference record` — `room`, `output-destination` (a path) to start, `stop` = `yes` to stop.
/// - `conference query` — `room`: room and participant statistics.
/// - `conference destroy` — `room`: every participant's session is deleted.
extension NGCallController {
    func executeConference(_ request: NGRequest) async -> NGReply {
        guard let room = Self.text(request, "room"), !room.isEmpty else { return .error(reason: "No room given") }
        // Commands for one room run one after another, like a call's.
        let key = "\u{0}conference:" + room
        let previous = tails[key]
        let task = Task { () -> NGReply in
            _ = await previous?.value
            return await self.executeConference(request, room: room)
        }
        tails[key] = task
        let reply = await task.value
        if tails[key] == task { tails[key] = nil }
        return reply
    }

    private func executeConference(_ request: NGRequest, room: String) async -> NGReply {
        do throws(NGControllerError) {
            switch request.command {
            case .conferenceJoin: return try await conferenceJoin(request, room: room)
            case .conferenceLeave:
                let p = try Self.participantName(request)
                guard conferenceParticipants[room]?[p] != nil else { throw .conference("Unknown participant") }
                await conferenceRemove(room: room, participant: p)
                return .ok()
            case .conferenceUpdate: return try await conferenceUpdate(request, room: room)
            case .conferencePlay: return try await conferencePlay(request, room: room)
            case .conferenceRecord: return try await conferenceRecord(request, room: room)
            case .conferenceQuery: return try await conferenceQuery(room: room)
            case .conferenceDestroy:
                guard engine.room(id: room) != nil else { throw .conference("Unknown room") }
                for p in (conferenceParticipants[room] ?? [:]).keys { await conferenceRemove(room: room, participant: p) }
                if let handle = engine.room(id: room) { try? await engine.destroyRoom(handle) }
                return .ok()
            default:
                return .error(reason: "Unsupported conference command")
            }
        } catch {
            return .error(reason: error.reason)
        }
    }

    // MARK: - Join

    private func conferenceJoin(_ request: NGRequest, room roomID: String) async throws(NGControllerError) -> NGReply {
        let name = try Self.participantName(request)
        guard let text = request.sdp else { throw .invalidSDP }
        var sdp: SessionDescription
        do { sdp = try SessionDescription(parsing: text) } catch { throw .invalidSDP }
        guard let audioIndex = sdp.media.firstIndex(where: { $0.media == "audio" && !$0.isRejected }) else {
            throw .conference("The offer has no audio stream")
        }
        let audioOffer = sdp.media[audioIndex]
        guard var format = NGAudioFormats.firstSupported(in: audioOffer) else { throw .noCodecsLeft }
        // The room mixes 20 ms frames; the answer says so.
        format.ptimeMilliseconds = 20

        // A second join replaces the first (a re-INVITE to another device, a codec change).
        if conferenceParticipants[roomID]?[name] != nil { await conferenceRemove(room: roomID, participant: name, keepsRoom: true) }
        let room = try await conferenceRoom(roomID, request: request)
        let created = (conferenceParticipants[roomID] ?? [:]).isEmpty
        let session: MediaSessionHandle
        do {
            session = try await engine.createParticipantSession(id: "\u{0}conference/\(roomID)/\(name)", in: room)
        } catch {
            if created { try? await engine.destroyRoom(room) }
            throw .conferenceControl(error)
        }
        do throws(NGControllerError) {
            let endpoint = NGSDPEndpoint(sdp, index: audioIndex, override: Self.overrideAddress(request))
            let isIPv6 = endpoint.rtp.map { $0.host.contains(":") } ?? (sdp.connection(of: audioIndex)?.addressType == .ipv6)
            let audio: LegInfo
            do { audio = try await engine.addLeg(to: session, options: LegOptions(rtcpMux: endpoint.rtcpMux, isIPv6: isIPv6)) } catch {
                throw .engine(error)
            }
            try await update(audio.leg, LegUpdate(
                remoteRTP: endpoint.rtp, remoteRTCP: endpoint.rtcp, direction: .sendrecv,
                strictSource: request.flags.strictSource, clockRate: format.codec.rtpClockRate))
            var options = ConferenceParticipantOptions()
            options.isMuted = Self.flag(request, "muted") ?? false
            options.isDeaf = Self.flag(request, "deaf") ?? false
            options.isModerator = Self.flag(request, "moderator") ?? false
            options.inputGainDB = Self.number(request, "input-gain") ?? 0
            options.outputGainDB = Self.number(request, "output-gain") ?? 0
            options.audioLevelExtensionID = audioOffer.attributes.lazy.compactMap { a -> UInt8? in
                if case .extmap(let e) = a, e.uri == "urn:ietf:params:rtp-hdrext:ssrc-audio-level", e.id < 15 { return UInt8(e.id) }
                return nil
            }.first
            let index: Int
            do { index = try await engine.join(room, audio: audio.leg, format: format, options: options) } catch {
                throw .conferenceControl(error)
            }
            var participant = NGConferenceParticipant(session: session, index: index, audio: audio)

            var answer = sdp
            answer.media[audioIndex] = Self.conferenceAnswer(audioOffer, leg: audio, format: format, rtcpMux: endpoint.rtcpMux)
            for i in sdp.media.indices where i != audioIndex {
                var m = sdp.media[i]
                if m.media == "video", participant.video == nil, !m.isRejected,
                   let (videoFormat, payloadTypes) = Self.videoFormat(m) {
                    let v = NGSDPEndpoint(sdp, index: i, override: Self.overrideAddress(request))
                    let leg: LegInfo
                    do { leg = try await engine.addLeg(to: session, options: LegOptions(rtcpMux: v.rtcpMux, isIPv6: isIPv6)) } catch {
                        throw .engine(error)
                    }
                    try await update(leg.leg, LegUpdate(remoteRTP: v.rtp, remoteRTCP: v.rtcp, direction: .sendrecv, clockRate: 90_000))
                    do { try await engine.joinVideo(room, participant: index, leg: leg.leg, format: videoFormat) } catch {
                        throw .conferenceControl(error)
                    }
                    participant.video = leg
                    m.formats = m.formats.filter { payloadTypes.contains($0) }
                    m.attributes.removeAll { a in
                        switch a {
                        case .rtpMap(let r): !payloadTypes.contains(String(r.payloadType))
                        case .formatParameters(let p): !payloadTypes.contains(p.format)
                        case .crypto, .ssrc, .extmap, .direction, .mid: true
                        default: false
                        }
                    }
                    Self.point(&m, at: leg, rtcpMux: v.rtcpMux, keepHoldAddress: false, original: nil)
                } else {
                    // One audio and one video stream per participant; anything else is declined.
                    m.port = 0
                    m.connections = []
                }
                answer.media[i] = m
            }
            NGICE.strip(&answer.attributes)
            answer.attributes.removeAll { if case .direction = $0 { true } else { false } }
            answer.connection = SDPConnection(address: audio.address)
            answer.origin.sessionVersion = answer.origin.sessionVersion &+ 1
            answer.origin.address = audio.address
            answer.origin.addressType = audio.address.contains(":") ? .ipv6 : .ipv4
            conferenceParticipants[roomID, default: [:]][name] = participant
            return .sdp(answer.serialized)
        } catch {
            try? await engine.deleteSession(session)
            if (conferenceParticipants[roomID] ?? [:]).isEmpty { try? await engine.destroyRoom(room) }
            throw error
        }
    }

    /// The room named `id`, created with the request's settings when it does not exist yet.
    private func conferenceRoom(_ id: String, request: NGRequest) async throws(NGControllerError) -> ConferenceRoomHandle {
        if let room = engine.room(id: id) { return room }
        var configuration = ConferenceRoomConfiguration()
        if let rate = Self.number(request, "room-rate") { configuration.sampleRate = Int(rate) }
        if let n = Self.number(request, "max-talkers") { configuration.maximumTalkers = Int(n) }
        if let n = Self.number(request, "max-participants") { configuration.maximumParticipants = Int(n) }
        if let n = Self.number(request, "room-workers") { configuration.spreadAcrossWorkers = Int(n) }
        guard [8000, 16000, 48000].contains(configuration.sampleRate), (1...32).contains(configuration.maximumTalkers),
              (1...1000).contains(configuration.maximumParticipants), (1...16).contains(configuration.spreadAcrossWorkers)
        else { throw .conference("Invalid room settings") }
        do { return try await engine.createRoom(id: id, configuration: configuration) } catch {
            throw .conferenceControl(error)
        }
    }

    /// The answer's audio section: Tandem's leg, the one format the room uses, 20 ms.
    private static func conferenceAnswer(_ offer: MediaDescription, leg: LegInfo, format: AudioEndpointFormat, rtcpMux: Bool) -> MediaDescription {
        var m = offer
        NGAudioFormats.restrict(&m, to: format, offer: offer)
        m.attributes.removeAll { a in
            switch a {
            case .ptime, .maxPtime, .crypto, .ssrc, .direction, .mid: true
            case .extmap(let e): e.uri != "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
            default: false
            }
        }
        m.attributes.append(.ptime(20))
        point(&m, at: leg, rtcpMux: rtcpMux, keepHoldAddress: false, original: nil)
        return m
    }

    /// The video formats of an offer's section the forwarder can switch (VP8, VP9, H.264), with their payload types.
    private static func videoFormat(_ m: MediaDescription) -> (VideoParticipantFormat, Set<String>)? {
        var formats: [VideoPayloadFormat] = []
        var kept: Set<String> = []
        for f in m.formats {
            guard let pt = UInt8(f), let map = m.rtpMap(for: pt), map.clockRate == 90_000 else { continue }
            let kind: VideoCodecKind
            var variant: UInt16 = 0
            switch map.encodingName.lowercased() {
            case "vp8": kind = .vp8
            case "vp9": kind = .vp9
            case "h264":
                kind = .h264
                // Streams are interchangeable when packetisation mode and profile match.
                var mode: UInt16 = 0
                var profile: UInt16 = 0
                for parameter in (m.formatParameters(for: f) ?? "").split(separator: ";") {
                    let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingPrefix(" ") }
                    guard pair.count == 2 else { continue }
                    if pair[0] == "packetization-mode" { mode = pair[1] == "1" ? 1 : 0 }
                    if pair[0] == "profile-level-id" { profile = UInt16(pair[1].prefix(4), radix: 16) ?? 0 }
                }
                variant = mode << 15 | (profile & 0x7FFF)
            default: continue
            }
            guard formats.count < VideoForwarder.maxFormatsPerParticipant,
                  !formats.contains(where: { $0.kind == kind && $0.variant == variant }) else { continue }
            guard let payloadType = PayloadType(rawValue: pt) else { continue }
            formats.append(VideoPayloadFormat(payloadType: payloadType, kind: kind, variant: variant))
            kept.insert(f)
        }
        guard !formats.isEmpty else { return nil }
        let feedback = m.attributes.compactMap { a -> String? in if case .rtcpFeedback(let f) = a { f.feedback } else { nil } }
        // A signalled SSRC lets the first keyframe request go out before the participant's first video packet.
        let signalled = m.attributes.lazy.compactMap { a -> SSRC? in if case .ssrc(let s) = a { SSRC(s.ssrc) } else { nil } }.first
        let format = VideoParticipantFormat(
            formats: formats, outgoingSSRC: SSRC(UInt32.random(in: 1...UInt32.max)),
            supportsFIR: feedback.contains("ccm fir"), supportsPLI: true, supportsNACK: feedback.contains("nack"),
            sourceSSRC: signalled)
        return (format, kept)
    }

    // MARK: - Other commands

    private func conferenceUpdate(_ request: NGRequest, room roomID: String) async throws(NGControllerError) -> NGReply {
        guard let room = engine.room(id: roomID) else { throw .conference("Unknown room") }
        var participant: (name: String, p: NGConferenceParticipant)?
        if let name = Self.text(request, "participant") {
            guard let p = conferenceParticipants[roomID]?[name] else { throw .conference("Unknown participant") }
            participant = (name, p)
        }
        do throws(ConferenceControlError) {
            if let (name, p) = participant {
                var changes: [ConferenceParticipantChange] = []
                if let b = Self.flag(request, "muted") { changes.append(.muted(b)) }
                if let b = Self.flag(request, "deaf") { changes.append(.deaf(b)) }
                if let b = Self.flag(request, "moderator") { changes.append(.moderator(b)) }
                if let g = Self.number(request, "input-gain") { changes.append(.inputGain(g)) }
                if let g = Self.number(request, "output-gain") { changes.append(.outputGain(g)) }
                if Self.flag(request, "pin-video") == true { changes.append(.pinVideo) }
                for c in changes { try await engine.update(room, participant: p.index, c) }
                if Self.flag(request, "kick") == true {
                    try await engine.update(room, participant: p.index, .kick)
                    await conferenceRemove(room: roomID, participant: name)
                }
            }
            if let b = Self.flag(request, "locked") { try await engine.update(room, .locked(b)) }
            if Self.flag(request, "mute-all") == true { try await engine.update(room, .muteAllButModerators) }
            if Self.flag(request, "unpin-video") == true { try await engine.update(room, .unpinVideo) }
        } catch {
            throw .conferenceControl(error)
        }
        return .ok()
    }

    private func conferencePlay(_ request: NGRequest, room roomID: String) async throws(NGControllerError) -> NGReply {
        guard let room = engine.room(id: roomID) else { throw .conference("Unknown room") }
        var participant: Int?
        if let name = Self.text(request, "participant") {
            guard let p = conferenceParticipants[roomID]?[name] else { throw .conference("Unknown participant") }
            participant = p.index
        }
        if Self.flag(request, "stop") == true {
            do { try await engine.stopPlayback(in: room, participant: participant) } catch { throw .conferenceControl(error) }
            return .ok()
        }
        let content: PlaybackRequest.Content
        if let file = request.file { content = .file(file) } else if let blob = request.blob { content = .wav(blob) } else {
            throw .conference("No media to play")
        }
        let repeats = Int(clamping: request.repeatTimes ?? 1)
        do { try await engine.play(PlaybackRequest(content, repeatCount: repeats), in: room, to: participant) } catch {
            throw .conferenceControl(error)
        }
        return .ok()
    }

    private func conferenceRecord(_ request: NGRequest, room roomID: String) async throws(NGControllerError) -> NGReply {
        guard let room = engine.room(id: roomID) else { throw .conference("Unknown room") }
        if Self.flag(request, "stop") == true {
            do { try await engine.stopRecording(room: room) } catch { throw .conferenceControl(error) }
            return .ok()
        }
        guard let writer = configuration.recordingWriter else { throw .unsupported("recording") }
        let path: String
        if let destination = request.outputDestination {
            path = destination
        } else if let directory = configuration.recordingDirectory {
            let safe = String(String.UnicodeScalarView(roomID.unicodeScalars.filter(CharacterSet.isFileNameSafe)))
            path = directory + "/conference-" + (safe.isEmpty ? "room" : safe) + "-\(configuration.wallClock()).wav"
        } else {
            throw .unsupported("recording without output-destination")
        }
        do { _ = try await engine.startRecording(room: room, writer: writer, path: path) } catch { throw .conferenceControl(error) }
        return .ok()
    }

    private func conferenceQuery(room roomID: String) async throws(NGControllerError) -> NGReply {
        guard let room = engine.room(id: roomID) else { throw .conference("Unknown room") }
        let snapshot: ConferenceRoomSnapshot
        do { snapshot = try await engine.statistics(of: room) } catch { throw .conferenceControl(error) }
        let names = Dictionary((conferenceParticipants[roomID] ?? [:]).map { ($0.value.index, $0.key) }, uniquingKeysWith: { a, _ in a })
        var participants: [BencodeValue] = []
        for p in snapshot.participants {
            let a = p.audio
            var d: [String: BencodeValue] = [
                "participant": .string(names[p.participant] ?? String(p.participant)),
                "index": .integer(Int64(p.participant)),
                "packets-received": .integer(Int64(a.packetsReceived)),
                "packets-sent": .integer(Int64(a.packetsSent)),
                "frames-decoded": .integer(Int64(a.framesDecoded)),
                "frames-concealed": .integer(Int64(a.framesConcealed)),
                "malformed": .integer(Int64(a.malformedPackets)),
                "unknown-payload-types": .integer(Int64(a.unknownPayloadTypes)),
                "flood-drops": .integer(Int64(a.floodDrops)),
                "level": .integer(Int64(a.level)),
                "talking": .integer(a.isTalking ? 1 : 0),
                "mixed": .integer(a.isSelected ? 1 : 0),
            ]
            if let v = p.video { d["video-packets-sent"] = .integer(Int64(v.packetsSent)) }
            participants.append(.dictionary(d))
        }
        let r = snapshot.room
        return .fields([
            "participants": .list(participants),
            "participant-count": .integer(Int64(r.participants)),
            "talkers": .integer(Int64(r.talkers)),
            "selected-talkers": .list(snapshot.selectedTalkers.map { .integer(Int64($0)) }),
            "encode-groups": .integer(Int64(r.encodeGroups)),
            "frames": .integer(Int64(r.frames)),
            "packets-sent": .integer(Int64(r.packetsSent)),
            "last-tick-ns": .integer(Int64(clamping: r.lastTickNanoseconds)),
            "max-tick-ns": .integer(Int64(clamping: r.maximumTickNanoseconds)),
            "locked": .integer(snapshot.isLocked ? 1 : 0),
        ])
    }

    /// Deletes a participant's session (which takes it out of the room) and, unless asked not to, the room once
    /// it is empty.
    func conferenceRemove(room roomID: String, participant name: String, keepsRoom: Bool = false) async {
        guard let p = conferenceParticipants[roomID]?.removeValue(forKey: name) else { return }
        try? await engine.deleteSession(p.session)
        if conferenceParticipants[roomID]?.isEmpty ?? true {
            conferenceParticipants[roomID] = nil
            if !keepsRoom, let room = engine.room(id: roomID) { try? await engine.destroyRoom(room) }
        }
    }

    /// A participant whose media timed out leaves its room.
    func conferenceMediaTimeout(_ session: MediaSessionHandle) async {
        for (room, participants) in conferenceParticipants {
            for (name, p) in participants where p.session == session {
                await conferenceRemove(room: room, participant: name)
                return
            }
        }
    }

    // MARK: - Request keys

    private static func participantName(_ request: NGRequest) throws(NGControllerError) -> String {
        guard let p = text(request, "participant"), !p.isEmpty else { throw .conference("No participant given") }
        return p
    }

    static func text(_ request: NGRequest, _ key: String) -> String? {
        request.extra[key]?.stringValue
    }

    static func flag(_ request: NGRequest, _ key: String) -> Bool? {
        guard let v = request.extra[key] else { return nil }
        if let i = v.integerValue { return i != 0 }
        switch v.stringValue?.lowercased() {
        case "yes", "on", "true", "1": return true
        case "no", "off", "false", "0": return false
        default: return nil
        }
    }

    static func number(_ request: NGRequest, _ key: String) -> Double? {
        guard let v = request.extra[key] else { return nil }
        if let i = v.integerValue { return Double(i) }
        return v.stringValue.flatMap(Double.init)
    }
}
