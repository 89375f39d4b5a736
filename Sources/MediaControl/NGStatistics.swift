/// Packet, byte and error counters of one stream or a total (`stats` in a query reply).
public struct NGCounters: Hashable, Sendable {
    /// Packets.
    public var packets: UInt64
    /// Bytes.
    public var bytes: UInt64
    /// Errors (dropped, undecryptable, malformed).
    public var errors: UInt64
    /// Creates counters.
    public init(packets: UInt64 = 0, bytes: UInt64 = 0, errors: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
        self.errors = errors
    }

    var bencode: BencodeValue {
        .dictionary([
            "packets": .integer(Int64(clamping: packets)),
            "bytes": .integer(Int64(clamping: bytes)),
            "errors": .integer(Int64(clamping: errors)),
        ])
    }
}

/// An address and port as the query reply shows it (`endpoint`, `advertised endpoint`).
public struct NGEndpoint: Hashable, Sendable {
    /// `IPv4` or `IPv6` (the query reply's spelling, unlike `IP4`/`IP6` in requests).
    public var family: String
    /// The address as text.
    public var address: String
    /// The UDP port.
    public var port: UInt16
    /// Creates an endpoint.
    public init(family: String, address: String, port: UInt16) {
        self.family = family
        self.address = address
        self.port = port
    }

    var bencode: BencodeValue {
        .dictionary(["family": .string(family), "address": .string(address), "port": .integer(Int64(port))])
    }
}

/// One packet stream (RTP or RTCP) of a media section.
public struct NGStreamStatistics: Hashable, Sendable {
    /// Local UDP port, absent for an inactive stream.
    public var localPort: UInt16?
    /// Where packets are forwarded to (learned or signalled).
    public var endpoint: NGEndpoint?
    /// What the SDP advertised.
    public var advertisedEndpoint: NGEndpoint?
    /// SRTP suite in effect, e.g. `AES_CM_128_HMAC_SHA1_80`.
    public var cryptoSuite: String?
    /// UNIX seconds of the last received packet.
    public var lastPacket: Int64?
    /// Status flags (`RTP`, `RTCP`, `filled`, `confirmed`, ...).
    public var flags: [String]
    /// Counters.
    public var stats: NGCounters
    /// Creates a stream entry.
    public init(localPort: UInt16? = nil, endpoint: NGEndpoint? = nil, advertisedEndpoint: NGEndpoint? = nil,
                cryptoSuite: String? = nil, lastPacket: Int64? = nil, flags: [String] = [], stats: NGCounters = NGCounters()) {
        self.localPort = localPort
        self.endpoint = endpoint
        self.advertisedEndpoint = advertisedEndpoint
        self.cryptoSuite = cryptoSuite
        self.lastPacket = lastPacket
        self.flags = flags
        self.stats = stats
    }

    var bencode: BencodeValue {
        var d: [String: BencodeValue] = ["flags": .stringList(flags), "stats": stats.bencode]
        if let localPort { d["local port"] = .integer(Int64(localPort)) }
        if let endpoint { d["endpoint"] = endpoint.bencode }
        if let advertisedEndpoint { d["advertised endpoint"] = advertisedEndpoint.bencode }
        if let cryptoSuite { d["crypto suite"] = .string(cryptoSuite) }
        if let lastPacket { d["last packet"] = .integer(lastPacket) }
        return .dictionary(d)
    }
}

/// One SDP media section of a participant.
public struct NGMediaStatistics: Hashable, Sendable {
    /// 1-based index in the SDP.
    public var index: Int
    /// `audio`, `video`, ...
    public var type: String
    /// `RTP/AVP`, `RTP/SAVPF`, ...
    public var transportProtocol: String?
    /// Status flags (`initialized`, `rtcp-mux`, `SDES`, `ICE`, ...).
    public var flags: [String]
    /// Usually one RTP and one RTCP stream.
    public var streams: [NGStreamStatistics]
    /// Creates a media entry.
    public init(index: Int, type: String, transportProtocol: String? = nil, flags: [String] = [], streams: [NGStreamStatistics] = []) {
        self.index = index
        self.type = type
        self.transportProtocol = transportProtocol
        self.flags = flags
        self.streams = streams
    }

    var bencode: BencodeValue {
        var d: [String: BencodeValue] = [
            "index": .integer(Int64(index)), "type": .string(type), "flags": .stringList(flags),
            "streams": .list(streams.map(\.bencode)),
        ]
        if let transportProtocol { d["protocol"] = .string(transportProtocol) }
        return .dictionary(d)
    }
}

/// One participant (SIP tag) of a call.
public struct NGTagStatistics: Hashable, Sendable {
    /// The SIP tag; empty for a side that has not signalled its tag yet.
    public var tag: String
    /// UNIX seconds when first seen.
    public var created: Int64
    /// The label from offer/answer.
    public var label: String?
    /// The tag of the other side.
    public var inDialogueWith: String?
    /// Media sections.
    public var medias: [NGMediaStatistics]
    /// Creates a participant entry.
    public init(tag: String, created: Int64, label: String? = nil, inDialogueWith: String? = nil, medias: [NGMediaStatistics] = []) {
        self.tag = tag
        self.created = created
        self.label = label
        self.inDialogueWith = inDialogueWith
        self.medias = medias
    }

    var bencode: BencodeValue {
        var d: [String: BencodeValue] = [
            "tag": .string(tag), "created": .integer(created), "medias": .list(medias.map(\.bencode)),
        ]
        if let label { d["label"] = .string(label) }
        if let inDialogueWith { d["in dialogue with"] = .string(inDialogueWith) }
        return .dictionary(d)
    }
}

/// What `query` returns and `delete` may return about one call; filled by the engine.
public struct NGCallStatistics: Hashable, Sendable {
    /// UNIX seconds when the call was created.
    public var created: Int64
    /// UNIX seconds of the last signalling event.
    public var lastSignal: Int64
    /// Participants.
    public var tags: [NGTagStatistics]
    /// RTP totals.
    public var rtpTotals: NGCounters
    /// RTCP totals.
    public var rtcpTotals: NGCounters
    /// Creates call statistics.
    public init(created: Int64, lastSignal: Int64, tags: [NGTagStatistics] = [], rtpTotals: NGCounters = NGCounters(), rtcpTotals: NGCounters = NGCounters()) {
        self.created = created
        self.lastSignal = lastSignal
        self.tags = tags
        self.rtpTotals = rtpTotals
        self.rtcpTotals = rtcpTotals
    }

    /// Adds the reply keys (`created`, `last signal`, `tags`, `totals`) to `d`.
    func add(to d: inout [String: BencodeValue]) {
        d["created"] = .integer(created)
        d["last signal"] = .integer(lastSignal)
        var tagDict: [String: BencodeValue] = [:]
        for t in tags { tagDict[t.tag] = t.bencode }
        d["tags"] = .dictionary(tagDict)
        d["totals"] = .dictionary(["RTP": rtpTotals.bencode, "RTCP": rtcpTotals.bencode])
    }
}

/// The minimal `statistics` reply content (rtpengine's `list jsonstats` subset); filled by the engine.
public struct NGGlobalStatistics: Hashable, Sendable {
    /// Sessions owned by this node.
    public var sessionsOwn: UInt64 = 0
    /// Sessions owned by other nodes (always 0 for Tandem).
    public var sessionsForeign: UInt64 = 0
    /// Media streams being transcoded.
    public var transcodedMedia: UInt64 = 0
    /// Packets per second relayed.
    public var packetRate: UInt64 = 0
    /// Bytes per second relayed.
    public var byteRate: UInt64 = 0
    /// Errors per second.
    public var errorRate: UInt64 = 0
    /// Seconds since start.
    public var uptimeSeconds: UInt64 = 0
    /// Sessions handled since start.
    public var managedSessions: UInt64 = 0
    /// Sessions rejected (limits, errors).
    public var rejectedSessions: UInt64 = 0
    /// Sessions ended by media timeout.
    public var timeoutSessions: UInt64 = 0
    /// Sessions ended by `delete`.
    public var regularTerminatedSessions: UInt64 = 0
    /// Packets relayed since start.
    public var relayedPackets: UInt64 = 0
    /// Relay errors since start.
    public var relayedPacketErrors: UInt64 = 0

    /// Creates zeroed statistics.
    public init() {}

    var bencode: BencodeValue {
        func i(_ v: UInt64) -> BencodeValue { .integer(Int64(clamping: v)) }
        return .dictionary([
            "currentstatistics": .dictionary([
                "sessionsown": i(sessionsOwn), "sessionsforeign": i(sessionsForeign),
                "sessionstotal": i(sessionsOwn &+ sessionsForeign), "transcodedmedia": i(transcodedMedia),
                "packetrate": i(packetRate), "byterate": i(byteRate), "errorrate": i(errorRate),
            ]),
            "totalstatistics": .dictionary([
                // rtpengine sends uptime as a decimal string.
                "uptime": .string(String(uptimeSeconds)), "managedsessions": i(managedSessions),
                "rejectedsessions": i(rejectedSessions), "timeoutsessions": i(timeoutSessions),
                "regularterminatedsessions": i(regularTerminatedSessions),
                "relayedpackets": i(relayedPackets), "relayedpacketerrors": i(relayedPacketErrors),
            ]),
        ])
    }
}
