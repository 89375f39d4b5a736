/// One media section: the `m=` line and the lines up to the next `m=` (RFC 8866 §5.14).
public struct MediaDescription: Sendable, Hashable {
    /// The media type: `audio`, `video`, `text`, `application`, `image`, or another token.
    public var media: String
    /// The transport port; 0 marks a rejected or disabled stream (RFC 3264 §5.1, §6).
    public var port: UInt16
    /// The number of ports for `<port>/<count>` (hierarchical encoding), when written.
    public var portCount: Int?
    /// The transport protocol, such as `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `UDP/TLS/RTP/SAVPF`.
    public var proto: String
    /// The media formats: RTP payload types for the RTP profiles, in the sender's order of preference.
    public var formats: [String]
    /// The `i=` line.
    public var information: String?
    /// The media-level `c=` lines (several only for layered multicast).
    public var connections: [SDPConnection]
    /// The media-level `b=` lines.
    public var bandwidths: [SDPBandwidth]
    /// The `k=` line, kept verbatim (obsolete, RFC 8866 §5.12).
    public var encryptionKey: String?
    /// The media-level attributes, in order, unknown ones kept.
    public var attributes: [SDPAttribute]

    /// Creates a media section.
    public init(media: String, port: UInt16, portCount: Int? = nil, proto: String, formats: [String],
                information: String? = nil, connections: [SDPConnection] = [], bandwidths: [SDPBandwidth] = [],
                encryptionKey: String? = nil, attributes: [SDPAttribute] = []) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.information = information
        self.connections = connections
        self.bandwidths = bandwidths
        self.encryptionKey = encryptionKey
        self.attributes = attributes
    }

    /// Parses an `m=` value; returns nil when it is malformed.
    init?(mLine value: Substring) {
        let f = sdpFields(value)
        guard f.count >= 3, sdpIsToken(f[0]), sdpIsToken(f[2]) else { return nil }
        let portParts = f[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2, let port = UInt16(portParts[0]) else { return nil }
        var count: Int?
        if portParts.count == 2 {
            guard portParts[1].count <= 5, let c = Int(portParts[1]), c > 0 else { return nil }
            count = c
        }
        self.init(media: String(f[0]), port: port, portCount: count, proto: String(f[2]), formats: f[3...].map(String.init))
    }

    /// The `m=` value as written.
    public var mLineValue: String {
        var s = media + " " + String(port)
        if let portCount { s += "/\(portCount)" }
        s += " " + proto
        for f in formats { s += " " + f }
        return s
    }

    /// Whether the stream is rejected or disabled (port 0, RFC 3264 §5.1).
    public var isRejected: Bool { port == 0 }

    /// Whether the profile is secure RTP (`RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP(F)`).
    public var isSecureProfile: Bool { proto.uppercased().contains("SAVP") }

    /// Whether the profile is RTP at all (`RTP/...` or `UDP/TLS/RTP/...`).
    public var isRTP: Bool { proto.uppercased().contains("RTP/") }

    /// The rtpmap lines, in order.
    public var rtpMaps: [SDPRTPMap] {
        attributes.compactMap { if case .rtpMap(let m) = $0 { m } else { nil } }
    }

    /// The rtpmap for a payload type, or nil.
    public func rtpMap(for payloadType: UInt8) -> SDPRTPMap? {
        for a in attributes { if case .rtpMap(let m) = a, m.payloadType == payloadType { return m } }
        return nil
    }

    /// The fmtp parameters for a format, or nil.
    public func formatParameters(for format: String) -> String? {
        for a in attributes { if case .formatParameters(let f) = a, f.format == format { return f.parameters } }
        return nil
    }

    /// The `a=ptime` value, or nil.
    public var ptime: Int? {
        for a in attributes { if case .ptime(let v) = a { return v } }
        return nil
    }

    /// The `a=maxptime` value, or nil.
    public var maxPtime: Int? {
        for a in attributes { if case .maxPtime(let v) = a { return v } }
        return nil
    }

    /// The media-level direction attribute, or nil when absent (then the session level or sendrecv applies).
    public var directionAttribute: SDPDirection? {
        for a in attributes { if case .direction(let d) = a { return d } }
        return nil
    }

    /// Whether `a=rtcp-mux` is present (RFC 5761).
    public var hasRTCPMux: Bool { attributes.contains(.rtcpMux) }

    /// The `a=rtcp` attribute, or nil.
    public var rtcp: SDPRTCPAttribute? {
        for a in attributes { if case .rtcp(let r) = a { return r } }
        return nil
    }

    /// The crypto lines, in order (RFC 4568).
    public var cryptos: [SDPCryptoAttribute] {
        attributes.compactMap { if case .crypto(let c) = $0 { c } else { nil } }
    }

    /// The `a=mid` value, or nil.
    public var mid: String? {
        for a in attributes { if case .mid(let m) = a { return m } }
        return nil
    }

    /// The value of the first attribute with this name as written (`nil` value for a flag), or nil when absent.
    public func attribute(named name: String) -> SDPAttribute? {
        attributes.first { $0.name == name }
    }

    /// Replaces the direction attribute, or appends one when absent.
    public mutating func setDirection(_ direction: SDPDirection) {
        if let i = attributes.firstIndex(where: { if case .direction = $0 { true } else { false } }) {
            attributes[i] = .direction(direction)
        } else {
            attributes.append(.direction(direction))
        }
    }
}
