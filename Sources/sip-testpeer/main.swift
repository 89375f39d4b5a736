// sip-testpeer: a small UAS and registrar built on Tandem's SIP stack, for the interop tests (SIPp drives
// it over UDP, TCP and TLS) and for `perf/run sip-stateless`. It answers OPTIONS statelessly, REGISTER
// with a digest challenge, INVITE with 180 + 200 (SDP answer from the offer/answer engine), BYE with
// 200, and rings forever on `sip:ring@…` so that CANCEL can be tested. Not part of the server.
import Foundation
import NIOCore
import NIOPosix
import SDP
import SIPCore
import SIPStack
import TandemBase

struct Options {
    var listeners: [(SIPTransportKind, String, Int)] = []
    var certificateDirectory: String?
    var username = "alice"
    var password = "secret-password"
    var realm = "tandem.test"

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("missing value for \(args[i - 1])") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--udp", "--tcp", "--tls", "--ws", "--wss":
                let kind = SIPTransportKind(rawValue: String(args[i].dropFirst(2)))!
                let text = value()
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                    fail("expected HOST:PORT, got \(text)")
                }
                o.listeners.append((kind, String(text[..<colon]), port))
            case "--cert-dir": o.certificateDirectory = value()
            case "--user": o.username = value()
            case "--password": o.password = value()
            case "--realm": o.realm = value()
            default: fail("unknown argument \(args[i])")
            }
            i += 1
        }
        if o.listeners.isEmpty { o.listeners = [(.udp, "127.0.0.1", 5060)] }
        return o
    }
}

/// Prints a line to standard output at once (tests wait for these lines).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("sip-testpeer: " + message + "\n").utf8))
    exit(2)
}

struct Credentials: DigestCredentialStore {
    let username: String
    let password: String
    func secret(username: String, realm: String, algorithm: DigestAlgorithm) -> DigestSecret? {
        username == self.username ? .password(password) : nil
    }
}

/// The UAS/registrar logic. Confined to the endpoint's event loop.
final class Peer: SIPEndpointDelegate, @unchecked Sendable {
    let options: Options
    let challenger: DigestChallenger
    let clock = MonotonicClock()
    /// INVITE transactions that are ringing until cancelled, with their requests.
    var ringing: [TransactionKey: SIPMessage] = [:]
    var registrations: [String: String] = [:]
    let localTag = TransactionLayer.makeTag()

    init(options: Options) {
        self.options = options
        challenger = DigestChallenger(realm: options.realm, secret: SecureRandom.bytes(32))
    }

    func respond(_ endpoint: SIPEndpoint, to request: SIPMessage, _ status: Int, extra: [(String, String)] = [],
                 body: (type: String, bytes: [UInt8])? = nil) {
        guard var builder = try? SIPMessageBuilder.response(to: request, statusCode: status, toTag: localTag) else { return }
        for (name, value) in extra { builder.add(name: name, value: value) }
        if let body {
            builder.set(.contentType, body.type)
            builder.body = body.bytes
        }
        guard let response = try? SIPMessage(parsing: builder.bytes()) else { return }
        endpoint.respond(response)
    }

    func endpoint(_ endpoint: SIPEndpoint, received request: SIPMessage, transaction: TransactionKey, source: SIPTransportSource) {
        switch request.method {
        case .register?:
            guard let credentials = (try? request.authorization)?.first else {
                let challenge = challenger.challenge(now: clock.now())
                respond(endpoint, to: request, 401, extra: [("WWW-Authenticate", challenge.description)])
                return
            }
            switch challenger.verify(credentials, method: "REGISTER", store: Credentials(username: options.username, password: options.password), now: clock.now()) {
            case .authenticated(let user):
                let contact = request.value(.contact) ?? ""
                registrations[user] = contact
                respond(endpoint, to: request, 200, extra: [("Contact", contact), ("Expires", "300")])
            case .stale:
                let challenge = challenger.challenge(isStale: true, now: clock.now())
                respond(endpoint, to: request, 401, extra: [("WWW-Authenticate", challenge.description)])
            case .rejected:
                respond(endpoint, to: request, 403)
            }
        case .invite?:
            let contact = "<sip:testpeer@\(source.local?.ipAddress ?? "127.0.0.1"):\(source.local?.port ?? 5060)>"
            respond(endpoint, to: request, 180, extra: [("Contact", contact)])
            if (try? request.requestURI)??.user == "ring" {
                ringing[transaction] = request
                return
            }
            guard let offer = try? SessionDescription(parsing: String(decoding: request.body, as: UTF8.self)) else {
                respond(endpoint, to: request, 488)
                return
            }
            let session = SDPLocalSession(sessionID: "1", sessionVersion: 1, address: "127.0.0.1")
            let audio = SDPMediaCapability(port: 40000, codecs: [.pcmu, .pcma])
            var keys = SystemSDESKeyGenerator()
            let (answer, negotiated) = OfferAnswer.makeAnswer(to: offer, session: session, media: [audio], keys: &keys)
            guard negotiated.contains(where: { $0.isAccepted }) else {
                respond(endpoint, to: request, 488)
                return
            }
            respond(endpoint, to: request, 200, extra: [("Contact", contact)],
                    body: ("application/sdp", Array(answer.serialized.utf8)))
        case .bye?:
            respond(endpoint, to: request, 200)
        case .ack?:
            break
        default:
            respond(endpoint, to: request, 405, extra: [("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER")])
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: TransactionKey, by cancel: SIPMessage) {
        guard let request = ringing.removeValue(forKey: invite) else { return }
        respond(endpoint, to: request, 487)
    }

    func endpoint(_ endpoint: SIPEndpoint, received response: SIPMessage, transaction: TransactionKey?) {}
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPMessage, source: SIPTransportSource) {}
    func endpoint(_ endpoint: SIPEndpoint, transaction: TransactionKey, terminated reason: TransactionTerminationReason) {
        ringing[transaction] = nil
    }
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let endpoint = SIPEndpoint(eventLoop: group.next())
let peer = Peer(options: options)
var configuration = SIPTransportLayer.Configuration()
if options.listeners.contains(where: { $0.0.isSecure }) {
    let directory = options.certificateDirectory ?? NSTemporaryDirectory()
    do {
        let identity = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "sip-testpeer")
        configuration.tlsServer = identity.serverConfiguration()
        say("tls fingerprint \(identity.fingerprintText)")
    } catch {
        fail("cannot set up TLS: \(error)")
    }
}
do {
    try endpoint.start(configuration: configuration, delegate: peer)
    for (kind, host, port) in options.listeners {
        let bound = try endpoint.listen(kind, host: host, port: port).wait()
        say("listening \(kind.rawValue) \(bound.ipAddress ?? host) \(bound.port ?? port)")
    }
} catch {
    fail("cannot listen: \(error)")
}
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let stop = DispatchSemaphore(value: 0)
let sources = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
    let s = DispatchSource.makeSignalSource(signal: sig)
    s.setEventHandler { stop.signal() }
    s.resume()
    return s
}
stop.wait()
try? endpoint.shutdown().wait()
try? await group.shutdownGracefully()
withExtendedLifetime(sources) {}
