import Codecs
import MediaControl
import SDP
import SRTP
import TandemBase

#if canImport(Glibc)
import Glibc
#endif

/// How an ng controller presents the node: interface names and the clock it reports in.
public struct NGControllerConfiguration: Sendable {
    /// Logical interface names `direction` may use; any name is accepted when empty.
    public var interfaceNames: Set<String>
    /// Seconds since the UNIX epoch, for the `created`/`last signal` fields.
    public var wallClock: @Sendable () -> Int64
    /// Where `start recording` writes when the request names no `output-destination`; nil refuses.
    public var recordingDirectory: String?
    /// The writer thread recordings go through; nil refuses recording.
    public var recordingWriter: RecordingWriter?

    /// A configuration with the given interface names and the system clock.
    public init(interfaceNames: Set<String> = [], wallClock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) },
                recordingDirectory: String? = nil, recordingWriter: RecordingWriter? = nil) {
        self.interfaceNames = interfaceNames
        self.wallClock = wallClock
        self.recordingDirectory = recordingDirectory
        self.recordingWriter = recordingWriter
    }
}

/// Executes rtpengine ng commands against a `MediaEngine`: calls are media sessions, each SDP media
/// section a pair of linked legs, one facing each party. Offer/answer SDP is rewritten to the legs'
/// advertised addresses and ports, with SDES keys bridged when one side is SRTP and the other not.
///
/// Commands for the same call run one after another in arrival order; different calls interleave.
public actor NGCallController {
    /// The engine the calls live in.
    public let engine: MediaEngine
    let configuration: NGControllerConfiguration
    private var calls: [String: NGCall] = [:]
    private var callIDsBySession: [MediaSessionHandle: String] = [:]
    var tails: [String: Task<NGReply, Never>] = [:]
    /// Conference participants joined over ng, by room id and participant name.
    var conferenceParticipants: [String: [String: NGConferenceParticipant]] = [:]
    private var totals = NGGlobalStatistics()
    private let started: Int64

    /// A controller for `engine`, which must be started before commands arrive.
    public init(engine: MediaEngine, configuration: NGControllerConfiguration = NGControllerConfiguration()) {
        self.engine = engine
        self.configuration = configuration
        started = configuration.wallClock()
    }

    /// Calls currently held.
    public var callCount: Int { calls.count }

    /// Executes one request and returns its reply; never throws: failures are `result: error` replies.
    public func execute(_ request: NGRequest) async -> NGReply {
        if request.command.isConference { return await executeConference(request) }
        guard request.command.requiresCallID, let id = request.callID else { return executeGlobal(request) }
        let previous = tails[id]
        let task = Task { () -> NGReply in
            _ = await previous?.value
            return await self.executeCall(request, id: id)
        }
        tails[id] = task
        let reply = await task.value
        if tails[id] == task { tails[id] = nil }
        return reply
    }

    /// Applies a media event: a session whose every leg with a peer has timed out is deleted, as
    /// rtpengine does after its `timeout`.
    public func handle(_ event: MediaEvent) async {
        if event.room != nil {
            if case .mediaTimeout = event.kind { await conferenceMediaTimeout(event.leg.session) }
            return
        }
        if case .playbackEnded = event.kind {
            // The leg goes back to relaying (or plain transcoding) once its prompt is over.
            try? await engine.playbackDidEnd(into: event.leg)
            return
        }
        guard case .mediaTimeout = event.kind, let id = callIDsBySession[event.leg.session] else { return }
        guard let call = calls[id], let stats = try? await engine.query(call.session) else { return }
        let withPeer = stats.legs.filter { $0.peer != nil }
        guard !withPeer.isEmpty, withPeer.allSatisfy(\.isTimedOut) else { return }
        // The call may have been deleted while the query ran.
        guard calls[id]?.session == call.session else { return }
        await remove(id)
        totals.timeoutSessions &+= 1
    }

    // MARK: - Commands without a call

    private func executeGlobal(_ request: NGRequest) -> NGReply {
        switch request.command {
        case .ping:
            return .pong
        case .list:
            let limit = max(0, Int(clamping: request.limit ?? 32))
            return .list(callIDs: Array(calls.keys.sorted().prefix(limit)))
        case .statistics:
            var s = totals
            s.sessionsOwn = UInt64(calls.count)
            s.uptimeSeconds = UInt64(max(0, configuration.wallClock() - started))
            for load in engine.workerLoads() {
                s.relayedPackets &+= load.packetsOut
                s.relayedPacketErrors &+= load.packetsDropped
            }
            return .statistics(s)
        default:
            return .error(.missingCallID)
        }
    }

    // MARK: - Commands on a call

    private func executeCall(_ request: NGRequest, id: String) async -> NGReply {
        do throws(NGControllerError) {
            switch request.command {
            case .offer: return try await offer(request, id: id)
            case .answer: return try await answer(request, id: id)
            case .delete: return try await delete(request, id: id)
            case .query: return .query(try await statistics(of: try call(id)))
            case .blockMedia, .unblockMedia:
                try await block(request, id: id, update: LegUpdate(blockMedia: request.command == .blockMedia))
                return .ok()
            case .blockDTMF, .unblockDTMF:
                try await block(request, id: id, update: LegUpdate(blockDTMF: request.command == .blockDTMF))
                return .ok()
            case .playMedia: return try await playMedia(request, id: id)
            case .stopMedia:
                for leg in try audioLegs(request, call: try call(id)) {
                    do { try await engine.stopPlayback(into: leg) } catch { throw NGControllerError.terminating(error) }
                }
                return .ok()
            case .playDTMF: return try await playDTMF(request, id: id)
            case .startRecording:
                try await startRecording(request, call: try call(id))
                return .ok()
            case .stopRecording, .pauseRecording:
                let call = try call(id)
                let pause = request.command == .pauseRecording || request.flags.pause
                    || request.extra["pause"]?.stringValue == "yes"
                do {
                    if pause { try engine.pauseRecording(call.session, true) } else { try await engine.stopRecording(call.session) }
                } catch { throw NGControllerError.terminating(error) }
                return .ok()
            default:
                return .error(reason: "Command not supported by this media node: \(request.command.rawValue)")
            }
        } catch {
            return .error(reason: error.reason)
        }
    }

    private func call(_ id: String) throws(NGControllerError) -> NGCall {
        guard let call = calls[id] else { throw .unknownCall }
        return call
    }

    private func checkInterfaces(_ request: NGRequest) throws(NGControllerError) {
        guard !configuration.interfaceNames.isEmpty else { return }
        for name in request.direction where !configuration.interfaceNames.contains(name) {
            throw .unknownInterface(name)
        }
    }

    private static func parse(_ sdp: String?) throws(NGControllerError) -> SessionDescription {
        guard let sdp else { throw .invalidSDP }
        do { return try SessionDescription(parsing: sdp) } catch { throw .invalidSDP }
    }

    /// The address media from `request`'s party comes from when it overrides the SDP.
    static func overrideAddress(_ request: NGRequest) -> String? {
        if let a = request.mediaAddress { return a }
        if request.flags.sipSourceAddress, let r = request.receivedFrom { return r.address }
        return nil
    }

    private func offer(_ request: NGRequest, id: String) async throws(NGControllerError) -> NGReply {
        try checkInterfaces(request)
        var sdp = try Self.parse(request.sdp)
        if let p = request.transportProtocol, p.rawValue.hasPrefix("UDP/TLS") || request.dtls == .active || request.dtls == .passive {
            throw .unsupported("DTLS-SRTP")
        }
        let now = configuration.wallClock()
        let fromTag = request.fromTag ?? ""
        var isNew = false
        let call: NGCall
        if let existing = calls[id] {
            call = existing
        } else {
            let session: MediaSessionHandle
            do { session = try await engine.createSession(id: id) } catch { throw .engine(error) }
            call = NGCall(id: id, session: session, created: now, fromTag: fromTag)
            calls[id] = call
            callIDsBySession[session] = id
            totals.managedSessions &+= 1
            isNew = true
        }
        do {
            let reply = try await offer(request, sdp: &sdp, call: call, fromTag: fromTag, now: now)
            return reply
        } catch {
            if isNew {
                await remove(id)
                totals.rejectedSessions &+= 1
            }
            throw error
        }
    }

    private func offer(
        _ request: NGRequest, sdp: inout SessionDescription, call: NGCall, fromTag: String, now: Int64
    ) async throws(NGControllerError) -> NGReply {
        let p = call.party(forTag: fromTag, toTag: request.toTag)
        let q = 1 - p
        if let label = request.label { call.labels[p] = label }
        call.lastSignal = now
        let override = Self.overrideAddress(request)
        let sdesOff = request.sdes.contains(.off)
        var sessionAddress: String?

        for i in sdp.media.indices {
            let m = sdp.media[i]
            guard m.isRTP, !m.isRejected else { continue }
            let endpoint = NGSDPEndpoint(sdp, index: i, override: override)
            // The offerer's leg speaks the offerer's family; the other side's is the requested one
            // (`address family`), so IPv4 and IPv6 endpoints can be bridged.
            let offererIPv6 = endpoint.rtp.map { $0.host.contains(":") } ?? (sdp.connection(of: i)?.addressType == .ipv6)
            let otherIPv6 = request.addressFamily.map { $0 == .ip6 } ?? offererIPv6
            var families = [false, false]
            families[p] = offererIPv6
            families[q] = otherIPv6
            let pair = try await call.pair(i, media: m.media, engine: engine, isIPv6: families)
            var out = m
            // SRTP: pass SDES through untouched when both sides use it, else terminate it here.
            let targetProto = request.transportProtocol.map(\.rawValue) ?? m.proto
            let targetSecure = targetProto.uppercased().contains("SAVP") && !sdesOff
            var pending = NGPendingOffer(offerer: p, offerProto: m.proto, targetProto: targetProto, offerMedia: m)
            var inbound: SRTPKeying?? = .some(nil)
            if endpoint.isSDES && targetSecure && request.transportProtocol == nil {
                pending.mode = .passthrough
            } else if endpoint.isSDES {
                guard let (attribute, keying) = NGSDES.firstSupported(in: m) else { throw .noCryptoSuite }
                pending.mode = .terminateOfferer(tag: attribute.tag, suite: keying.suite)
                inbound = .some(keying)
                out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
            } else if targetSecure {
                var offered: [(UInt32, SRTPKeying)] = []
                for (n, suite) in NGSDES.suites(for: request.sdes).enumerated() {
                    offered.append((UInt32(n + 1), SRTPKeying(suite: suite, keyParameters: .random(for: suite))))
                }
                out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
                for (tag, k) in offered { out.attributes.append(NGSDES.attribute(tag: tag, k)) }
                pending.mode = .originateToAnswerer(offered)
            } else {
                out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
            }
            out.proto = targetProto
            pair.pending = pending
            pair.protocols[p] = m.proto

            // The offerer's outbound key comes with the answer when Tandem terminates its SRTP; until
            // then the previous key (re-offer) stays. The answerer's keys come with the answer when
            // Tandem originates SRTP towards it; otherwise it has none.
            var offererOutbound: SRTPKeying?? = .some(nil)
            if case .terminateOfferer = pending.mode { offererOutbound = nil }
            var offererUpdate = LegUpdate(
                remoteRTP: endpoint.rtp, remoteRTCP: endpoint.rtcp, inboundSRTP: inbound,
                outboundSRTP: offererOutbound, direction: endpoint.mediaDirection,
                strictSource: request.flags.strictSource, clockRate: endpoint.clockRate,
                telephoneEventPayloadTypes: endpoint.telephoneEventPayloadTypes)
            offererUpdate.learnsSource = Self.learnsSource(request)
            // Each party sees one continuous stream even when the other side's source changes
            // (re-INVITE to another device, transfer); impossible for SRTP passed through untouched.
            let rewrites = !pending.mode.isPassthrough
            offererUpdate.rewritesOutboundStream = rewrites
            try await update(pair.legs[p], offererUpdate)
            var otherUpdate = LegUpdate(rewritesOutboundStream: rewrites)
            if case .originateToAnswerer = pending.mode {} else {
                otherUpdate.inboundSRTP = .some(nil)
                otherUpdate.outboundSRTP = .some(nil)
            }
            try await update(pair.legs[q], otherUpdate)

            guard NGCodecFilter.apply(
                strip: request.codec.strip, mask: request.codec.mask, except: request.codec.except,
                offer: request.codec.offer, to: &out)
            else { throw .noCodecsLeft }
            if m.media == "audio", !pending.mode.isPassthrough {
                NGAudioFormats.addTranscodable(request.codec.transcode, to: &out)
            }
            Self.point(&out, at: pair.legs[q], rtcpMux: endpoint.rtcpMux, keepHoldAddress: endpoint.rtp == nil && !request.replace.contains(.zeroAddress), original: sdp.connection(of: i))
            sessionAddress = sessionAddress ?? out.connections.first?.address
            sdp.media[i] = out
        }
        try finish(&sdp, sessionAddress: sessionAddress, request: request, call: call, towards: q)
        return .sdp(sdp.serialized)
    }

    private func answer(_ request: NGRequest, id: String) async throws(NGControllerError) -> NGReply {
        try checkInterfaces(request)
        var sdp = try Self.parse(request.sdp)
        let call = try call(id)
        let now = configuration.wallClock()
        guard let fromTag = request.fromTag, let o = call.tags.firstIndex(where: { $0 == fromTag }) else {
            throw .unknownTag
        }
        let a = 1 - o
        // A forked call answered by another branch: the latest answer's tag is the dialogue's.
        if let toTag = request.toTag { call.tags[a] = toTag }
        if let label = request.toLabel ?? request.label { call.labels[a] = label }
        call.lastSignal = now
        let override = Self.overrideAddress(request)
        var sessionAddress: String?

        for i in sdp.media.indices {
            let m = sdp.media[i]
            guard i < call.pairs.count, let pair = call.pairs[i] else { continue }
            guard let pending = pair.pending, pending.offerer == o else { continue }
            let endpoint = NGSDPEndpoint(sdp, index: i, override: override)
            var out = m
            let mux = endpoint.rtcpMux
            var answererUpdate = LegUpdate(
                remoteRTP: endpoint.rtp, remoteRTCP: endpoint.rtcp, direction: endpoint.mediaDirection,
                strictSource: request.flags.strictSource, clockRate: endpoint.clockRate,
                telephoneEventPayloadTypes: endpoint.telephoneEventPayloadTypes)
            answererUpdate.rtcpMux = mux
            answererUpdate.learnsSource = Self.learnsSource(request)
            var offererUpdate = LegUpdate()
            offererUpdate.rtcpMux = mux
            out.proto = pending.offerProto
            switch pending.mode {
            case .passthrough, .plain:
                if case .plain = pending.mode {
                    out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
                }
            case .terminateOfferer(let tag, let suite):
                // The offerer sends with its key (already set); Tandem answers with its own.
                let ours = SRTPKeying(suite: suite, keyParameters: .random(for: suite))
                offererUpdate.outboundSRTP = .some(ours)
                out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
                if !m.isRejected { out.attributes.append(NGSDES.attribute(tag: tag, ours)) }
            case .originateToAnswerer(let offered):
                if !m.isRejected {
                    guard let chosen = m.cryptos.first(where: { c in offered.contains { $0.0 == c.tag } }),
                          let theirs = NGSDES.keying(chosen), let ours = offered.first(where: { $0.0 == chosen.tag }),
                          ours.1.suite == theirs.suite
                    else { throw .noCryptoSuite }
                    answererUpdate.inboundSRTP = .some(theirs)
                    answererUpdate.outboundSRTP = .some(ours.1)
                }
                out.attributes.removeAll { if case .crypto = $0 { true } else { false } }
            }
            pair.protocols[a] = m.proto
            pair.pending = nil
            pair.rtcpMux = mux
            if m.isRejected {
                answererUpdate.direction = .inactive
            }
            try await update(pair.legs[a].leg, answererUpdate)
            try await update(pair.legs[o].leg, offererUpdate)
            if m.isRejected {
                out.port = 0
                sdp.media[i] = out
                continue
            }
            try await negotiateFormats(pair: pair, offerer: o, answerer: a, answer: m, out: &out, pending: pending)
            Self.point(&out, at: pair.legs[o], rtcpMux: mux, keepHoldAddress: endpoint.rtp == nil && !request.replace.contains(.zeroAddress), original: sdp.connection(of: i))
            sessionAddress = sessionAddress ?? out.connections.first?.address
            sdp.media[i] = out
        }
        try finish(&sdp, sessionAddress: sessionAddress, request: request, call: call, towards: o)
        if request.recordCall == true || request.flags.recordCall {
            try await startRecording(request, call: call)
        }
        return .sdp(sdp.serialized)
    }

    private func delete(_ request: NGRequest, id: String) async throws(NGControllerError) -> NGReply {
        let call = try call(id)
        if let tag = request.fromTag, !tag.isEmpty, !call.tags.contains(tag) { throw .unknownTag }
        let stats = try? await statistics(of: call)
        if let delay = request.deleteDelay, delay > 0 {
            let session = call.session
            Task {
                try? await Task.sleep(for: .seconds(delay))
                await self.removeIfStill(id, session: session)
            }
        } else {
            await remove(id)
        }
        totals.regularTerminatedSessions &+= 1
        return .deleted(stats)
    }

    private func removeIfStill(_ id: String, session: MediaSessionHandle) async {
        guard calls[id]?.session == session else { return }
        await remove(id)
    }

    private func remove(_ id: String) async {
        guard let call = calls.removeValue(forKey: id) else { return }
        callIDsBySession[call.session] = nil
        // The file is finalised by the writer; a BYE must leave a complete recording.
        try? await engine.stopRecording(call.session)
        try? await engine.deleteSession(call.session)
    }

    private func block(_ request: NGRequest, id: String, update: LegUpdate) async throws(NGControllerError) {
        let call = try call(id)
        let everyone = request.flags.all || (request.all.map { $0 != .none } ?? false)
        var parties: [Int] = []
        if everyone {
            parties = [0, 1]
        } else {
            guard let tag = request.fromTag, let p = call.tags.firstIndex(where: { $0 == tag }) else { throw .unknownTag }
            parties = [p]
        }
        for pair in call.pairs.compactMap({ $0 }) {
            for p in parties { try await self.update(pair.legs[p].leg, update) }
        }
    }

    /// `symmetric`/`asymmetric` flags: nil leaves the leg as it is (symmetric by default).
    private static func learnsSource(_ request: NGRequest) -> Bool? {
        if request.flags.asymmetric { return false }
        if request.flags.symmetric { return true }
        return nil
    }

    private func update(_ leg: LegInfo, _ u: LegUpdate) async throws(NGControllerError) {
        try await update(leg.leg, u)
    }

    func update(_ leg: MediaLegHandle, _ u: LegUpdate) async throws(NGControllerError) {
        do { try await engine.updateLeg(leg, u) } catch { throw .engine(error) }
    }

    // MARK: - Terminating path

    /// Tells the engine what each side of an answered audio section uses: equal formats are relayed,
    /// different ones transcoded. When the answerer chose a codec the offerer never offered (one
    /// Tandem added for transcoding), the answer towards the offerer is narrowed to the offerer's own
    /// first codec Tandem can transcode.
    private func negotiateFormats(
        pair: NGMediaPair, offerer o: Int, answerer a: Int, answer m: MediaDescription, out: inout MediaDescription,
        pending: NGPendingOffer
    ) async throws(NGControllerError) {
        guard m.media == "audio", !m.isRejected, !pending.mode.isPassthrough,
              let answerer = NGAudioFormats.firstSupported(in: m)
        else {
            try await setFormat(nil, pair.legs[a].leg)
            try await setFormat(nil, pair.legs[o].leg)
            return
        }
        let offer = pending.offerMedia
        var offerer: AudioEndpointFormat?
        if let same = offer.formats.first(where: { NGAudioFormats.codec($0, in: offer) == answerer.codec }) {
            offerer = NGAudioFormats.endpointFormat(same, in: offer)
        } else if let first = NGAudioFormats.firstSupported(in: offer) {
            offerer = first
            NGAudioFormats.restrict(&out, to: first, offer: offer)
        }
        try await setFormat(answerer, pair.legs[a].leg)
        try await setFormat(offerer, pair.legs[o].leg)
    }

    private func setFormat(_ format: AudioEndpointFormat?, _ leg: MediaLegHandle) async throws(NGControllerError) {
        do { try await engine.setAudioFormat(format, for: leg) } catch { throw .terminating(error) }
    }

    /// The audio legs facing the parties a play/stop request selects (`from-tag`, or `all`).
    private func audioLegs(_ request: NGRequest, call: NGCall) throws(NGControllerError) -> [MediaLegHandle] {
        let everyone = request.flags.all || (request.all.map { $0 != .none } ?? false)
        let parties: [Int]
        if everyone {
            parties = [0, 1]
        } else {
            guard let tag = request.fromTag, let p = call.tags.firstIndex(where: { $0 == tag }) else { throw .unknownTag }
            parties = [p]
        }
        var legs: [MediaLegHandle] = []
        for pair in call.pairs.compactMap({ $0 }) where pair.media == "audio" {
            for p in parties { legs.append(pair.legs[p].leg) }
        }
        return legs
    }

    /// `play media`: a file or blob to the selected participant(s), `repeat-times` passes.
    private func playMedia(_ request: NGRequest, id: String) async throws(NGControllerError) -> NGReply {
        let call = try call(id)
        let content: PlaybackRequest.Content
        if let file = request.file {
            content = .file(file)
        } else if let blob = request.blob {
            content = .wav(blob)
        } else {
            throw .unsupported("play media without 'file' or 'blob'")
        }
        let times = Int(clamping: request.repeatTimes ?? 1)
        var duration: Int?
        for leg in try audioLegs(request, call: call) {
            do {
                duration = try await engine.play(PlaybackRequest(content, repeatCount: max(1, times)), into: leg) ?? duration
            } catch {
                throw .terminating(error)
            }
        }
        return .played(durationMilliseconds: duration.map(Int64.init))
    }

    /// `play DTMF`: the selected participant "sends" the digit, so the others get it: as RFC 4733
    /// events where they negotiated telephone-event, in band otherwise.
    private func playDTMF(_ request: NGRequest, id: String) async throws(NGControllerError) -> NGReply {
        let call = try call(id)
        let key: DTMFDigit
        switch request.dtmfCode {
        case .integer(let code)?:
            guard (0...15).contains(code), let d = DTMFDigit(rawValue: UInt8(code)) else { throw .invalidDigit }
            key = d
        case .bytes(let b)? where b.count == 1:
            guard let d = DTMFDigit(Character(Unicode.Scalar(b[0]))) else { throw .invalidDigit }
            key = d
        default:
            throw .invalidDigit
        }
        // rtpengine's limits: 100–5000 ms, 250 ms by default.
        let milliseconds = Int(min(5000, max(100, request.duration ?? 250)))
        var selected = request
        selected.flags.all = false
        selected.all = nil
        let everyone = request.flags.all || (request.all.map { $0 != .none } ?? false)
        var legs: [MediaLegHandle] = []
        if everyone {
            legs = try audioLegs(request, call: call)
        } else {
            guard let tag = request.fromTag, let p = call.tags.firstIndex(where: { $0 == tag }) else { throw .unknownTag }
            for pair in call.pairs.compactMap({ $0 }) where pair.media == "audio" { legs.append(pair.legs[1 - p].leg) }
        }
        for leg in legs {
            do {
                try await engine.play(PlaybackRequest(.telephoneEvent(key, milliseconds: milliseconds)), into: leg)
            } catch {
                throw .terminating(error)
            }
        }
        return .ok()
    }

    /// `start recording` (or `record call` in offer/answer): the whole call, one channel per party.
    private func startRecording(_ request: NGRequest, call: NGCall) async throws(NGControllerError) {
        guard let writer = configuration.recordingWriter else { throw .recordingUnavailable }
        if let existing = engine.recording(of: call.session), existing.isRecording || !existing.isFinished {
            // A paused recording resumes (rtpengine: `start recording` after `pause recording`).
            do { try engine.pauseRecording(call.session, false) } catch { throw .terminating(error) }
            return
        }
        let path: String
        if let destination = request.outputDestination {
            path = destination
        } else if let directory = configuration.recordingDirectory {
            let safe = String(call.id.unicodeScalars.map { c in
                CharacterSet.isFileNameSafe(c) ? Character(c) : "_"
            })
            path = directory + "/" + safe + "-" + String(call.created) + ".wav"
        } else {
            throw .recordingUnavailable
        }
        do { _ = try await engine.startRecording(call.session, writer: writer, path: path) } catch { throw .terminating(error) }
    }

    // MARK: - SDP

    /// Points a media section at a leg: port, `c=`, `a=rtcp`, `a=rtcp-mux`, no ICE.
    static func point(_ m: inout MediaDescription, at leg: LegInfo, rtcpMux: Bool, keepHoldAddress: Bool, original: SDPConnection?) {
        let address = keepHoldAddress ? (original?.address ?? leg.address) : leg.address
        m.port = UInt16(leg.rtpPort)
        m.connections = [SDPConnection(address: address)]
        NGICE.strip(&m.attributes)
        m.attributes.removeAll { a in
            switch a {
            case .rtcp, .rtcpMux: true
            default: false
            }
        }
        if rtcpMux {
            m.attributes.append(.rtcpMux)
        } else {
            m.attributes.append(.rtcp(SDPRTCPAttribute(port: UInt16(leg.rtcpPort))))
        }
    }

    /// Session-level rewriting: `c=`, `o=` (with `replace`), the SDP version Tandem owns, ICE.
    private func finish(
        _ sdp: inout SessionDescription, sessionAddress: String?, request: NGRequest, call: NGCall, towards party: Int
    ) throws(NGControllerError) {
        NGICE.strip(&sdp.attributes)
        if let address = sessionAddress {
            if let original = sdp.connection {
                // Sections Tandem did not touch keep the address they inherited.
                for i in sdp.media.indices where sdp.media[i].connections.isEmpty {
                    sdp.media[i].connections = [original]
                }
                sdp.connection = SDPConnection(address: address)
            }
            if request.replace.contains(.origin) {
                sdp.origin.address = address
                sdp.origin.addressType = SDPAddressType(address: address)
            }
        }
        if request.replace.contains(.sessionName) { sdp.sessionName = "tandem" }
        if request.replace.contains(.username) { sdp.origin.username = "tandem" }
        if request.replace.contains(.sdpVersion) || request.replace.contains(.forceIncrementSDPVersion) {
            var body = sdp
            body.origin.sessionVersion = 0
            let text = body.serialized
            let version: UInt64
            if let last = call.sentVersion[party] {
                let changed = call.sentBody[party] != text || request.replace.contains(.forceIncrementSDPVersion)
                version = changed ? last &+ 1 : last
            } else {
                version = sdp.origin.sessionVersion
            }
            call.sentVersion[party] = version
            call.sentBody[party] = text
            sdp.origin.sessionVersion = version
        }
    }

    // MARK: - Statistics

    private func statistics(of call: NGCall) async throws(NGControllerError) -> NGCallStatistics {
        let session: SessionStatistics
        do { session = try await engine.query(call.session) } catch { throw .engine(error) }
        var byLeg: [MediaLegHandle: LegStatistics] = [:]
        for l in session.legs { byLeg[l.leg] = l }
        var result = NGCallStatistics(created: call.created, lastSignal: call.lastSignal)
        for party in 0..<2 {
            guard let tag = call.tags[party] else { continue }
            var tagStats = NGTagStatistics(
                tag: tag, created: call.created, label: call.labels[party], inDialogueWith: call.tags[1 - party])
            for (index, pair) in call.pairs.enumerated() {
                guard let pair, let leg = byLeg[pair.legs[party].leg] else { continue }
                let info = pair.legs[party]
                let rtpPackets = leg.packetsIn &- leg.rtcpPacketsIn
                let endpoint = leg.peer.map {
                    NGEndpoint(family: $0.host.contains(":") ? "IPv6" : "IPv4", address: $0.host, port: UInt16(clamping: $0.port))
                }
                var flags = ["RTP"]
                if leg.ssrc != nil { flags.append("confirmed") }
                let rtp = NGStreamStatistics(
                    localPort: UInt16(clamping: info.rtpPort), endpoint: endpoint, flags: flags,
                    stats: NGCounters(packets: rtpPackets, bytes: leg.bytesIn, errors: leg.dropped.total))
                let rtcp = NGStreamStatistics(
                    localPort: UInt16(clamping: info.rtcpPort), flags: ["RTCP"],
                    stats: NGCounters(packets: leg.rtcpPacketsIn))
                var mediaFlags = ["initialized"]
                if pair.rtcpMux { mediaFlags.append("rtcp-mux") }
                tagStats.medias.append(NGMediaStatistics(
                    index: index + 1, type: pair.media, transportProtocol: pair.protocols[party], flags: mediaFlags,
                    streams: [rtp, rtcp]))
                result.rtpTotals.packets &+= rtpPackets
                result.rtpTotals.bytes &+= leg.bytesIn
                result.rtpTotals.errors &+= leg.dropped.total
                result.rtcpTotals.packets &+= leg.rtcpPacketsIn
            }
            result.tags.append(tagStats)
        }
        return result
    }
}

/// Why an ng command on a call failed; `reason` is the `error-reason` sent back.
enum NGControllerError: Error, Sendable {
    case unknownCall
    case unknownTag
    case unknownInterface(String)
    case invalidSDP
    case noCryptoSuite
    case noCodecsLeft
    case unsupported(String)
    case engine(MediaSessionError)
    case terminating(MediaTerminatingError)
    case invalidDigit
    case recordingUnavailable
    case conference(String)
    case conferenceControl(ConferenceControlError)

    var reason: String {
        switch self {
        case .unknownCall: "Unknown call-id"
        case .unknownTag: "Unknown tag"
        case .unknownInterface(let n): "Unknown logical interface '\(n)'"
        case .invalidSDP: "Failed to parse SDP"
        case .noCryptoSuite: "No supported SDES crypto suite"
        case .noCodecsLeft: "No codecs left after codec manipulation"
        case .unsupported(let what): "\(what) is not supported by this media node"
        case .terminating(let e): "\(e)"
        case .invalidDigit: "Invalid DTMF digit"
        case .recordingUnavailable: "Recording is not configured on this media node"
        case .engine(.portsExhausted): "Ran out of ports"
        case .engine(let e): "Media engine: \(e)"
        case .conference(let reason): reason
        case .conferenceControl(.session(.portsExhausted)): "Ran out of ports"
        case .conferenceControl(let e): "Conference: \(e)"
        }
    }
}

/// How SRTP is handled for one offer until its answer arrives.
enum NGSRTPMode: Sendable {
    /// Neither side uses SDES.
    case plain
    /// Both sides use SDES: crypto lines and packets pass through untouched.
    case passthrough
    /// The offerer uses SDES, the answerer plain RTP: Tandem decrypts and answers with its own key.
    case terminateOfferer(tag: UInt32, suite: SRTPSuite)
    /// The offerer uses plain RTP, the answerer SDES: Tandem offered these keys (tag, keying).
    case originateToAnswerer([(UInt32, SRTPKeying)])

    var isPassthrough: Bool { if case .passthrough = self { true } else { false } }
}

/// An offer waiting for its answer on one media section.
struct NGPendingOffer: Sendable {
    var offerer: Int
    var offerProto: String
    var targetProto: String
    /// The offerer's media section as it offered it: its codecs, for choosing its side's format.
    var offerMedia: MediaDescription
    var mode: NGSRTPMode = .plain
}

/// One SDP media section of a call: a leg per party, linked.
final class NGMediaPair: @unchecked Sendable {
    // Only touched inside NGCallController's actor.
    let media: String
    let legs: [LegInfo]
    var protocols: [String?] = [nil, nil]
    var pending: NGPendingOffer?
    var rtcpMux = false

    init(media: String, legs: [LegInfo]) {
        self.media = media
        self.legs = legs
    }
}

/// One call: its session, the two parties' tags and the media pairs by SDP index.
final class NGCall: @unchecked Sendable {
    // Only touched inside NGCallController's actor.
    let id: String
    let session: MediaSessionHandle
    let created: Int64
    var lastSignal: Int64
    /// Party 0 made the first offer; party 1 answered it.
    var tags: [String?]
    var labels: [String?] = [nil, nil]
    var pairs: [NGMediaPair?] = []
    var sentVersion: [UInt64?] = [nil, nil]
    var sentBody: [String?] = [nil, nil]

    init(id: String, session: MediaSessionHandle, created: Int64, fromTag: String) {
        self.id = id
        self.session = session
        self.created = created
        lastSignal = created
        tags = [fromTag, nil]
    }

    /// Which party an offer with these tags comes from: a re-offer from the answerer is party 1.
    func party(forTag fromTag: String, toTag: String?) -> Int {
        if tags[1] == fromTag { return 1 }
        if tags[0] == fromTag {
            if let toTag, tags[1] == nil { tags[1] = toTag }
            return 0
        }
        // A new from-tag on a known call-id: the offerer changed (e.g. a new INVITE after a 3xx).
        tags[0] = fromTag
        return 0
    }

    /// The pair for media section `index`, created (two legs, linked) on first use.
    func pair(
        _ index: Int, media: String, engine: MediaEngine, isIPv6: [Bool]
    ) async throws(NGControllerError) -> NGMediaPair {
        if index < pairs.count, let pair = pairs[index] { return pair }
        do {
            let a = try await engine.addLeg(to: session, options: LegOptions(isIPv6: isIPv6[0]))
            let b = try await engine.addLeg(to: session, options: LegOptions(isIPv6: isIPv6[1]))
            try await engine.link(a.leg, b.leg)
            let pair = NGMediaPair(media: media, legs: [a, b])
            while pairs.count <= index { pairs.append(nil) }
            pairs[index] = pair
            return pair
        } catch {
            throw .engine(error)
        }
    }
}

/// File names from call-ids: letters, digits and a few safe punctuation marks; the rest become `_`.
enum CharacterSet {
    static func isFileNameSafe(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "." || c == "@")
    }
}
