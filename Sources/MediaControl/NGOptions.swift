/// An ng command name, as sent in the `command` key.
public enum NGCommand: String, CaseIterable, Hashable, Sendable {
    case ping, offer, answer, delete, query, list, statistics
    case blockMedia = "block media"
    case unblockMedia = "unblock media"
    case blockDTMF = "block DTMF"
    case unblockDTMF = "unblock DTMF"
    // Terminating-path commands: decoded and modelled here, executed by the terminating engine.
    case startRecording = "start recording"
    case stopRecording = "stop recording"
    case pauseRecording = "pause recording"
    case playMedia = "play media"
    case stopMedia = "stop media"
    case playDTMF = "play DTMF"
    // Tandem's conference commands (not rtpengine's): a participant joins a room with an SDP offer and gets an
    // answer; the room is named by the `room` key and the participant by `participant`.
    case conferenceJoin = "conference join"
    case conferenceLeave = "conference leave"
    case conferenceUpdate = "conference update"
    case conferenceDestroy = "conference destroy"
    case conferenceQuery = "conference query"
    case conferencePlay = "conference play"
    case conferenceRecord = "conference record"

    /// Whether the command is one of Tandem's conference commands (`room` instead of `call-id`).
    public var isConference: Bool { rawValue.hasPrefix("conference ") }

    /// Whether the command names a call (everything but ping, list, statistics and the conference commands).
    public var requiresCallID: Bool {
        switch self {
        case .ping, .list, .statistics: return false
        case .conferenceJoin, .conferenceLeave, .conferenceUpdate, .conferenceDestroy, .conferenceQuery,
             .conferencePlay, .conferenceRecord: return false
        default: return true
        }
    }
}

/// `ICE` key: how ICE attributes in the SDP are handled.
public enum NGICEMode: String, CaseIterable, Hashable, Sendable {
    case remove, force, `default`, optional
    case forceRelay = "force-relay"
}

/// `transport-protocol` key: the SDP `m=` protocol to offer onwards.
public enum NGTransportProtocol: String, CaseIterable, Hashable, Sendable {
    case rtpAVP = "RTP/AVP"
    case rtpSAVP = "RTP/SAVP"
    case rtpAVPF = "RTP/AVPF"
    case rtpSAVPF = "RTP/SAVPF"
    case udpTLSRTPSAVP = "UDP/TLS/RTP/SAVP"
    case udpTLSRTPSAVPF = "UDP/TLS/RTP/SAVPF"
    /// Answer only: follow the protocol the answerer chose.
    case accept
}

/// `DTLS` key: DTLS-SRTP behaviour.
public enum NGDTLSMode: String, CaseIterable, Hashable, Sendable {
    case off, passive, active

    /// Parses the value, accepting rtpengine's aliases `no` and `disable` for `off`.
    public init?(keyword: String) {
        switch keyword {
        case "off", "no", "disable": self = .off
        case "passive": self = .passive
        case "active": self = .active
        default: return nil
        }
    }
}

/// `address family` key and the first element of `received-from`.
public enum NGAddressFamily: String, CaseIterable, Hashable, Sendable {
    case ip4 = "IP4"
    case ip6 = "IP6"
}

/// `all` key: which participants or flows a command applies to.
public enum NGAllSelector: String, CaseIterable, Hashable, Sendable {
    case none, all, flows
    case offerAnswer = "offer-answer"
    case exceptOfferAnswer = "except-offer-answer"
}

/// One `replace` keyword; open-ended so unknown keywords survive a round trip.
public struct NGReplaceOption: RawRepresentable, Hashable, Sendable {
    /// The keyword with spaces folded to hyphens.
    public var rawValue: String
    /// Creates an option, folding spaces to hyphens as rtpengine does.
    public init(rawValue: String) { self.rawValue = NGKey.fold(rawValue) }

    /// Rewrite the `o=` address.
    public static let origin = NGReplaceOption(rawValue: "origin")
    /// Rewrite the session-level `c=` address.
    public static let sessionConnection = NGReplaceOption(rawValue: "session-connection")
    /// Own the `o=` version field.
    public static let sdpVersion = NGReplaceOption(rawValue: "SDP-version")
    /// Own the `o=` username.
    public static let username = NGReplaceOption(rawValue: "username")
    /// Rewrite the `s=` line.
    public static let sessionName = NGReplaceOption(rawValue: "session-name")
    /// Replace zero (hold) addresses with a real one.
    public static let zeroAddress = NGReplaceOption(rawValue: "zero-address")
    /// Always increment the SDP version.
    public static let forceIncrementSDPVersion = NGReplaceOption(rawValue: "force-increment-sdp-ver")
}

/// One `rtcp-mux` keyword (RFC 5761 handling); open-ended.
public struct NGRTCPMuxOption: RawRepresentable, Hashable, Sendable {
    /// The keyword.
    public var rawValue: String
    /// Creates an option.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Always offer rtcp-mux.
    public static let offer = NGRTCPMuxOption(rawValue: "offer")
    /// Offer and assume accepted (WebRTC).
    public static let require = NGRTCPMuxOption(rawValue: "require")
    /// Accept from the offerer but do not offer onwards.
    public static let demux = NGRTCPMuxOption(rawValue: "demux")
    /// Accept and offer onwards if offered.
    public static let accept = NGRTCPMuxOption(rawValue: "accept")
    /// Reject if offered.
    public static let reject = NGRTCPMuxOption(rawValue: "reject")
}

/// One `SDES` keyword (RFC 4568 crypto handling).
public enum NGSDESOption: Hashable, Sendable {
    /// `off`, `no` or `disable`: do not offer SDES.
    case off
    /// `no-SUITE`: exclude a crypto suite.
    case exclude(String)
    /// `only-SUITE`: offer only the listed suites.
    case only(String)
    /// Any other keyword (`pad`, `nonew`, `unencrypted_srtp`, `order:...`), kept verbatim.
    case other(String)

    /// Parses one keyword.
    public init(keyword: String) {
        switch keyword {
        case "off", "no", "disable": self = .off
        default:
            if keyword.hasPrefix("no-") {
                self = .exclude(String(keyword.dropFirst(3)))
            } else if keyword.hasPrefix("only-") {
                self = .only(String(keyword.dropFirst(5)))
            } else {
                self = .other(keyword)
            }
        }
    }

    /// The keyword as sent on the wire.
    public var keyword: String {
        switch self {
        case .off: return "off"
        case .exclude(let s): return "no-" + s
        case .only(let s): return "only-" + s
        case .other(let s): return s
        }
    }
}

/// `received-from`: the address family and source address of the SIP message.
public struct NGReceivedFrom: Hashable, Sendable {
    /// `IP4` or `IP6`.
    public var family: NGAddressFamily
    /// The address as text.
    public var address: String
    /// Creates a value.
    public init(family: NGAddressFamily, address: String) {
        self.family = family
        self.address = address
    }
}

/// `codec` dictionary: codec manipulations, each a list of codec specifications (`PCMU`, `opus/48000/2`).
public struct NGCodecOptions: Hashable, Sendable {
    /// Remove these codecs (`all`, `full` special).
    public var strip: [String] = []
    /// Keep and reorder to the front.
    public var offer: [String] = []
    /// Remove from the offer but accept for transcoding.
    public var mask: [String] = []
    /// Add, transcoding if needed.
    public var transcode: [String] = []
    /// Offer but accept even if the remote rejects.
    public var accept: [String] = []
    /// Keep despite a `strip`/`mask` of `all`.
    public var except: [String] = []
    /// Like `mask` but always engages transcoding.
    public var consume: [String] = []
    /// Codec options for implicitly accepted codecs.
    public var set: [String] = []
    /// Keys this codec does not know, kept verbatim.
    public var other: [String: BencodeValue] = [:]

    /// Creates empty options.
    public init() {}

    /// Whether nothing is set.
    public var isEmpty: Bool { self == NGCodecOptions() }
}

/// The `flags` list, with the flags the engine acts on as booleans and the rest kept verbatim.
public struct NGFlags: Hashable, Sendable {
    /// `symmetric`: learn endpoints (rtpengine's default).
    public var symmetric = false
    /// `asymmetric`: do not learn endpoint addresses.
    public var asymmetric = false
    /// `trust address`: use SDP addresses.
    public var trustAddress = false
    /// `SIP source address`: use `received-from` instead of SDP addresses.
    public var sipSourceAddress = false
    /// `strict source`: drop packets from other than the learned address.
    public var strictSource = false
    /// `media handover`: re-learn on source change.
    public var mediaHandover = false
    /// `port latching`: keep local ports when the remote changes.
    public var portLatching = false
    /// `no port latching`.
    public var noPortLatching = false
    /// `record call`.
    public var recordCall = false
    /// `all`: same as `all=all`.
    public var all = false
    /// `fatal` (delete): error instead of warning for unknown calls.
    public var fatal = false
    /// `reject ICE`.
    public var rejectICE = false
    /// `single codec` (answer).
    public var singleCodec = false
    /// `loop protect`.
    public var loopProtect = false
    /// `original sendrecv`.
    public var originalSendrecv = false
    /// `pause` (stop recording).
    public var pause = false
    /// Flags not modelled above, with spaces folded to hyphens.
    public var other: [String] = []

    /// Creates an empty set.
    public init() {}

    /// The wire names of the modelled flags, paired with their key paths.
    // Computed because key paths are not Sendable; control plane only, so the small allocation is fine.
    static var known: [(String, WritableKeyPath<NGFlags, Bool>)] { [
        ("symmetric", \.symmetric), ("asymmetric", \.asymmetric), ("trust-address", \.trustAddress),
        ("SIP-source-address", \.sipSourceAddress), ("strict-source", \.strictSource),
        ("media-handover", \.mediaHandover), ("port-latching", \.portLatching),
        ("no-port-latching", \.noPortLatching), ("record-call", \.recordCall), ("all", \.all),
        ("fatal", \.fatal), ("reject-ICE", \.rejectICE), ("single-codec", \.singleCodec),
        ("loop-protect", \.loopProtect), ("original-sendrecv", \.originalSendrecv), ("pause", \.pause),
    ] }

    /// The flags as wire strings (modelled ones first, then the rest in order).
    public var wireFlags: [String] {
        var out: [String] = []
        for (name, path) in Self.known where self[keyPath: path] { out.append(name) }
        out.append(contentsOf: other)
        return out
    }
}

/// Key spelling: rtpengine treats spaces and hyphens in keys and flags alike ("received from" = "received-from").
enum NGKey {
    /// Folds spaces to hyphens.
    static func fold(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: " ")) else { return s }
        return String(decoding: s.utf8.map { $0 == UInt8(ascii: " ") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
    }
}
