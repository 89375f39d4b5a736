import Foundation
import Logging
import MediaEngine
import NIOCore
import NIOPosix
import PBX
import ServiceLifecycle
import Synchronization
import SIPCore
import SIPStack
import SRTP
import Store
import TandemBase

/// The SIP listeners of `tandem serve`: UDP and TCP on `sip`, TLS on `sip_tls`, WS on `sip_ws`, WSS on
/// `sip_wss`, all on one SIP endpoint. OPTIONS is answered 200 statelessly (keep-alives, monitoring); REGISTER
/// goes to the registrar (tenants and extensions from the store); INVITE and everything in a call's dialogs go
/// to the B2BUA (media anchored in the in-process engine, CDRs into the store). Other requests: 404 for
/// SUBSCRIBE/MESSAGE/REFER/PUBLISH, 481 for requests in unknown dialogs, 405 for unknown methods. Requests
/// from an address blocked for failed authentications get no answer.
///
/// Threading: the registrar and the flow set are confined to the endpoint's event loop (every delegate
/// callback runs there; the timer and flow-close callbacks hop onto it).
final class SIPService: Service, SIPEndpointDelegate, @unchecked Sendable {
    let endpoint: SIPEndpoint
    let logger: Logger
    let registrar: Registrar
    /// Also hears every registration event (the admin API's event feed); the registrar's stream has one reader.
    let onRegistrationEvent = CallbackSlot<RegistrationEvent>()
    let calls: B2BUA
    /// Also hears every call event (the admin API's event feed and webhooks); the B2BUA's stream has one reader.
    let onCallEvent = CallbackSlot<CallEvent>()
    /// The engine behind the calls' media, when in process: its media-timeout events end calls.
    private let engineMedia: EngineCallMedia?
    /// Writes each call record; nil: straight into the store.
    let recordWriter: CallRecordWriter
    private let clock = MonotonicClock()
    private var watchedFlows: Set<SIPTransportConnectionID> = []
    private var sweepTask: RepeatedTask?

    init(logger: Logger, store: TandemStore, media: any CallMediaService, registrar configuration: Registrar.Configuration = .init(),
         calls callConfiguration: B2BUA.Configuration = .init()) {
        let endpoint = SIPEndpoint(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        self.endpoint = endpoint
        self.logger = logger
        let registrar = Registrar(directory: StoreDirectory(store: store), configuration: configuration)
        self.registrar = registrar
        engineMedia = media as? EngineCallMedia
        // CDRs are written off the SIP loop (a SQLite commit); a failure is logged, never fatal to calls. Once the
        // admin API is up, `recordWriter` is its `recordCall` (the CDR with its webhook event, and the live event).
        let writer = CallRecordWriter()
        self.recordWriter = writer
        self.calls = B2BUA(endpoint: endpoint, registrar: registrar, media: media, configuration: callConfiguration) { record in
            Task.detached {
                do {
                    if try !writer.call(record) { try store.insertCallRecord(record) }
                } catch {
                    logger.error("cannot write the call record", metadata: ["call": "\(record.id)", "error": "\(error)"])
                }
            }
        }
    }

    /// Starts every listener; returns "kind host:port" for each bound address.
    func start(configuration: ServerConfiguration, tls: SIPTLSIdentity) async throws -> [String] {
        var transport = SIPTransportLayer.Configuration()
        transport.tlsServer = tls.serverConfiguration()
        transport.sourcePolicy.allow = configuration.sipAllow
        transport.sourcePolicy.deny = configuration.sipDeny
        transport.sourcePolicy.packetsPerSecond = configuration.sipRateLimit
        transport.sourcePolicy.burst = max(configuration.sipRateLimit * 2, 1)
        try endpoint.start(configuration: transport, delegate: self)
        var bound: [String] = []
        let plan: [(SIPTransportKind, ListenAddress)] = [
            (.udp, configuration.sip), (.tcp, configuration.sip), (.tls, configuration.sipTLS),
            (.ws, configuration.sipWS), (.wss, configuration.sipWSS),
        ]
        for (kind, address) in plan {
            let socket = try await endpoint.listen(kind, host: address.host, port: address.port).get()
            let host = socket.ipAddress ?? address.host
            let calls = calls, local = CallLocalAddress(kind: kind, host: host, port: socket.port ?? address.port)
            endpoint.eventLoop.execute { calls.setListener(local) }
            bound.append("\(kind.rawValue) \(host.contains(":") ? "[\(host)]" : host):\(socket.port ?? address.port)")
        }
        // Registration expiry and the failed-authentication guard's housekeeping, once a second.
        let registrar = registrar, clock = clock, calls = calls
        sweepTask = endpoint.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            registrar.tick(now: clock.now())
        }
        endpoint.eventLoop.execute { calls.start() }
        return bound
    }

    func run() async throws {
        let logger = logger
        let feed = Task { [self] in
            for await event in registrar.events {
                _ = try? self.onRegistrationEvent.call(event)
                logger.info("registration \(event.kind.rawValue)", metadata: [
                    "aor": "\(event.binding.aor)", "contact": "\(event.binding.uri)",
                    "source": "\(event.binding.source.kind.rawValue) \(event.binding.source.remote)"])
            }
        }
        let callFeed = Task { [self] in
            for await event in calls.events {
                _ = try? self.onCallEvent.call(event)
                guard event.kind == .ended, let r = event.record else {
                    logger.info("call \(event.kind.rawValue)", metadata: ["call": "\(event.callID)", "caller": "\(event.caller)",
                                                                     "callee": "\(event.callee)"])
                    continue
                }
                logger.info("call ended", metadata: [
                    "call": "\(r.id)", "caller": "\(r.caller)", "callee": "\(r.callee)", "reason": "\(r.endReason.rawValue)",
                    "status": "\(r.sipStatus.map(String.init) ?? "-")", "hung_up_by": "\(r.hungUpBy.rawValue)",
                    "duration": "\(r.durationSeconds)", "codecs": "\(r.callerCodec ?? "-")/\(r.calleeCodec ?? "-")",
                    "transcoded": "\(r.transcoded)", "targets": "\(r.targets.count)"])
            }
        }
        // No RTP on a call's leg for the engine's media timeout: the B2BUA hangs the call up.
        let mediaFeed = Task { [calls, endpoint, engineMedia] in
            guard let engineMedia else { return }
            for await event in engineMedia.engine.events {
                guard case .mediaTimeout = event.kind, let id = engineMedia.callID(of: event.leg.session) else { continue }
                logger.info("media timeout", metadata: ["call": "\(id)"])
                endpoint.eventLoop.execute { calls.handleMediaTimeout(callID: id) }
            }
        }
        try? await gracefulShutdown()
        mediaFeed.cancel()
        let b2bua = calls
        try? await endpoint.eventLoop.submit { b2bua.stop() }.get()
        sweepTask?.cancel()
        feed.cancel()
        callFeed.cancel()
        try await endpoint.shutdown().get()
    }

    func endpoint(_ endpoint: SIPEndpoint, received request: SIPMessage, transaction: TransactionKey, source: SIPTransportSource) {
        let now = clock.now()
        if registrar.isBlocked(source, now: now) { return }
        if request.method == .register {
            register(request, source: source, now: now)
            return
        }
        let inDialog = (try? request.to)?.tag != nil
        if request.method == .invite, !inDialog {
            calls.handleInvite(request, source: source)
            return
        }
        if inDialog, request.method != .ack, calls.handleInDialog(request) { return }
        let status: Int
        switch request.method {
        case .ack?:
            return
        case .refer? where !inDialog:
            status = 403  // transfer is a REFER inside a call's dialog only
        case .invite?, .subscribe?, .message?, .refer?, .publish?:
            status = (try? request.to)?.tag == nil ? 404 : 481
        case .bye?, .update?, .info?, .notify?, .prack?:
            status = 481
        default:
            status = 405
        }
        guard var builder = try? SIPMessageBuilder.response(to: request, statusCode: status, toTag: TransactionLayer.makeTag())
        else { return }
        if status == 405 { builder.add(name: "Allow", value: "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO") }
        if let response = try? SIPMessage(parsing: builder.bytes()) { endpoint.respond(response) }
    }

    private func register(_ request: SIPMessage, source: SIPTransportSource, now: Instant) {
        guard case .respond(let builder) = registrar.handle(request, source: source, now: now),
              let response = try? SIPMessage(parsing: builder.bytes()) else { return }
        endpoint.respond(response)
        // RFC 5626 §5.3: a binding that can only be reached over its connection dies with it.
        if response.statusCode == 200, let id = source.connectionID, !watchedFlows.contains(id) {
            watchedFlows.insert(id)
            let registrar = registrar, loop = endpoint.eventLoop
            endpoint.transports.closeFuture(of: id).whenComplete { [weak self] _ in
                loop.execute {
                    registrar.flowClosed(id)
                    self?.watchedFlows.remove(id)
                }
            }
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: TransactionKey, by cancel: SIPMessage) {
        calls.handleCancel(cancel)
    }

    func endpoint(_ endpoint: SIPEndpoint, received response: SIPMessage, transaction: TransactionKey?) {
        calls.handleResponse(response)
    }

    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPMessage, source: SIPTransportSource) {
        calls.handleACK(ack)
    }

    func endpoint(_ endpoint: SIPEndpoint, transaction: TransactionKey, terminated reason: TransactionTerminationReason) {
        calls.handleTerminated(transaction, reason: reason)
    }
}

/// The B2BUA's media over the in-process engine: one engine session per call, legs remembered by index.
final class EngineCallMedia: CallMediaService, Sendable {
    let engine: MediaEngine
    private let sessions = Mutex<[String: (session: MediaSessionHandle, legs: [MediaLegHandle])]>([:])
    /// Per call: its legs as call control sees them and each leg's codec label (EngineCallMedia+Hold.swift).
    let legDetails = Mutex<[String: (legs: [CallMediaLeg], codecs: [Int: String])]>([:])
    /// A WAV file played to held parties; nil: a soft periodic beep.
    let holdMusicPath: String?

    init(engine: MediaEngine, holdMusicPath: String? = nil) {
        self.engine = engine
        self.holdMusicPath = holdMusicPath
    }
    /// Call recordings (EngineCallRecordings.swift).
    let recordings = EngineCallRecordings()

    /// Session `id`'s engine handle, while it is open.
    func sessionHandle(_ id: String) -> MediaSessionHandle? { sessions.withLock { $0[id]?.session } }

    func canTranscode(name: String, clockRate: Int) -> Bool {
        Self.format(CallAudioFormat(name: name, clockRate: clockRate, payloadType: 0)) != nil
    }

    /// The engine's format for a negotiated one; nil for a codec the engine cannot decode.
    static func format(_ f: CallAudioFormat) -> AudioEndpointFormat? {
        let te = f.telephoneEventPayloadType
        switch (f.name.lowercased(), f.clockRate) {
        case ("pcmu", 8000): return AudioEndpointFormat(codec: .pcmu, payloadType: f.payloadType, ptimeMilliseconds: f.ptimeMilliseconds, telephoneEventPayloadType: te)
        case ("pcma", 8000): return AudioEndpointFormat(codec: .pcma, payloadType: f.payloadType, ptimeMilliseconds: f.ptimeMilliseconds, telephoneEventPayloadType: te)
        case ("g722", 8000): return AudioEndpointFormat(codec: .g722, payloadType: f.payloadType, ptimeMilliseconds: f.ptimeMilliseconds, telephoneEventPayloadType: te)
        case ("opus", 48000): return AudioEndpointFormat(codec: .opus, payloadType: f.payloadType, ptimeMilliseconds: f.ptimeMilliseconds, telephoneEventPayloadType: te)
        default: return nil
        }
    }

    func createSession(id: String) async throws {
        let handle = try await engine.createSession(id: id)
        sessions.withLock { $0[id] = (handle, []) }
    }

    func addLeg(session id: String, ipv6: Bool) async throws -> CallMediaLeg {
        guard let handle = sessions.withLock({ $0[id]?.session }) else { throw MediaSessionError.unknownSession }
        let info = try await engine.addLeg(to: handle, options: LegOptions(isIPv6: ipv6))
        let index = sessions.withLock { table -> Int in
            table[id]?.legs.append(info.leg)
            return (table[id]?.legs.count ?? 1) - 1
        }
        let leg = CallMediaLeg(session: id, index: index, address: info.address, rtpPort: info.rtpPort, rtcpPort: info.rtcpPort)
        legDetails.withLock { $0[id, default: ([], [:])].legs.append(leg) }
        return leg
    }

    func handle(_ leg: CallMediaLeg) throws -> MediaLegHandle {
        guard let h = sessions.withLock({ $0[leg.session].flatMap { leg.index < $0.legs.count ? $0.legs[leg.index] : nil } })
        else { throw MediaSessionError.unknownSession }
        return h
    }

    func updateLeg(_ leg: CallMediaLeg, remote: CallMediaRemote) async throws {
        var update = LegUpdate()
        update.remoteRTP = remote.rtp.map { MediaAddress(host: $0.host, port: $0.port) }
        update.remoteRTCP = remote.rtcp.map { MediaAddress(host: $0.host, port: $0.port) }
        switch remote.direction {
        case .sendrecv: update.direction = .sendrecv
        case .sendonly: update.direction = .sendonly
        case .recvonly: update.direction = .recvonly
        case .inactive: update.direction = .inactive
        }
        try await engine.updateLeg(try handle(leg), update)
    }

    func link(_ a: CallMediaLeg, _ b: CallMediaLeg) async throws {
        try await engine.link(try handle(a), try handle(b))
    }

    func setAudioFormat(_ format: CallAudioFormat?, for leg: CallMediaLeg) async throws {
        try await engine.setAudioFormat(format.flatMap(Self.format), for: try handle(leg))
        legDetails.withLock { $0[leg.session]?.codecs[leg.index] = format?.label }
    }

    /// SDES on a leg: the party's key decrypts what it sends, Tandem's encrypts what goes to it (the engine's
    /// SRTP↔RTP bridging; the other leg stays plain).
    func setSRTP(_ leg: CallMediaLeg, inbound: CallSRTPKey, outbound: CallSRTPKey) async throws {
        func keying(_ k: CallSRTPKey) throws -> SRTPKeying {
            guard let suite = SRTPSuite(rawValue: k.suite) else { throw MediaSessionError.invalidSRTPKey }
            return SRTPKeying(suite: suite, keyParameters: try SDESKeyParameters(parsing: k.keyParameters, suite: suite))
        }
        var update = LegUpdate()
        update.inboundSRTP = .some(try keying(inbound))
        update.outboundSRTP = .some(try keying(outbound))
        try await engine.updateLeg(try handle(leg), update)
    }

    /// The call whose media session is `session`, if it is still open.
    func callID(of session: MediaSessionHandle) -> String? {
        sessions.withLock { table in table.first(where: { $0.value.session == session })?.key }
    }

    func deleteSession(id: String) async {
        legDetails.withLock { _ = $0.removeValue(forKey: id) }
        guard let entry = sessions.withLock({ $0.removeValue(forKey: id) }) else { return }
        try? await engine.deleteSession(entry.session)
    }
}

/// The B2BUA's record sink, set once the admin API exists.
typealias CallRecordWriter = CallbackSlot<CallDetailRecord>
