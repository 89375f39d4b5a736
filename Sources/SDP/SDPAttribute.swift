/// One `a=` line, typed when it is one of the common attributes and kept verbatim otherwise.
///
/// A known attribute whose value does not parse is kept as `.other` so nothing is lost
/// (RFC 8866 §5.13: unknown attributes are ignored, never an error).
public enum SDPAttribute: Sendable, Hashable {
    /// `a=rtpmap` (RFC 8866 §6.6).
    case rtpMap(SDPRTPMap)
    /// `a=fmtp` (RFC 8866 §6.15).
    case formatParameters(SDPFormatParameters)
    /// `a=ptime` in milliseconds (RFC 8866 §6.4).
    case ptime(Int)
    /// `a=maxptime` in milliseconds (RFC 8866 §6.5).
    case maxPtime(Int)
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly` or `a=inactive` (RFC 8866 §6.7).
    case direction(SDPDirection)
    /// `a=rtcp` (RFC 3605).
    case rtcp(SDPRTCPAttribute)
    /// `a=rtcp-mux` (RFC 5761).
    case rtcpMux
    /// `a=rtcp-fb` (RFC 4585), kept as payload type plus the rest.
    case rtcpFeedback(SDPRTCPFeedback)
    /// `a=crypto` (RFC 4568).
    case crypto(SDPCryptoAttribute)
    /// `a=mid` (RFC 5888).
    case mid(String)
    /// `a=ssrc` (RFC 5576).
    case ssrc(SDPSSRCAttribute)
    /// `a=extmap` (RFC 8285).
    case extmap(SDPExtmap)
    /// Any other attribute, name and value verbatim; `value` is nil for a property attribute without a colon.
    case other(name: String, value: String?)

    /// Parses one attribute from the text after `a=`; never fails: unknown or malformed values become `.other`.
    public init(parsing text: Substring) {
        let name: Substring
        let value: Substring?
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
        } else {
            name = text
            value = nil
        }
        if let typed = SDPAttribute.typed(name: name, value: value) {
            self = typed
        } else {
            self = .other(name: String(name), value: value.map(String.init))
        }
    }

    private static func typed(name: Substring, value: Substring?) -> SDPAttribute? {
        guard let value else {
            switch name {
            case "rtcp-mux": return .rtcpMux
            case "sendrecv": return .direction(.sendrecv)
            case "sendonly": return .direction(.sendonly)
            case "recvonly": return .direction(.recvonly)
            case "inactive": return .direction(.inactive)
            default: return nil
            }
        }
        switch name {
        case "rtpmap": return SDPRTPMap(value: value).map(SDPAttribute.rtpMap)
        case "fmtp": return SDPFormatParameters(value: value).map(SDPAttribute.formatParameters)
        case "ptime": return sdpMilliseconds(value).map(SDPAttribute.ptime)
        case "maxptime": return sdpMilliseconds(value).map(SDPAttribute.maxPtime)
        case "rtcp": return SDPRTCPAttribute(value: value).map(SDPAttribute.rtcp)
        case "rtcp-fb": return SDPRTCPFeedback(value: value).map(SDPAttribute.rtcpFeedback)
        case "crypto": return SDPCryptoAttribute(value: value).map(SDPAttribute.crypto)
        case "mid": return sdpIsToken(value) ? .mid(String(value)) : nil
        case "ssrc": return SDPSSRCAttribute(value: value).map(SDPAttribute.ssrc)
        case "extmap": return SDPExtmap(value: value).map(SDPAttribute.extmap)
        default: return nil
        }
    }

    /// The attribute name, as after `a=`.
    public var name: String {
        switch self {
        case .rtpMap: "rtpmap"
        case .formatParameters: "fmtp"
        case .ptime: "ptime"
        case .maxPtime: "maxptime"
        case .direction(let d): d.rawValue
        case .rtcp: "rtcp"
        case .rtcpMux: "rtcp-mux"
        case .rtcpFeedback: "rtcp-fb"
        case .crypto: "crypto"
        case .mid: "mid"
        case .ssrc: "ssrc"
        case .extmap: "extmap"
        case .other(let name, _): name
        }
    }

    /// The attribute value, after the colon; nil for property attributes.
    public var value: String? {
        switch self {
        case .rtpMap(let m): m.value
        case .formatParameters(let f): f.value
        case .ptime(let ms), .maxPtime(let ms): String(ms)
        case .direction, .rtcpMux: nil
        case .rtcp(let r): r.value
        case .rtcpFeedback(let f): f.value
        case .crypto(let c): c.value
        case .mid(let m): m
        case .ssrc(let s): s.value
        case .extmap(let e): e.value
        case .other(_, let value): value
        }
    }

    /// The text after `a=`.
    public var lineValue: String {
        if let value { "\(name):\(value)" } else { name }
    }
}

/// A whole number of milliseconds in 1...10000; a fractional `20.0` is accepted as 20 (seen from some phones).
func sdpMilliseconds(_ text: Substring) -> Int? {
    var digits = text
    if let dot = text.firstIndex(of: ".") {
        let fraction = text[text.index(after: dot)...]
        guard fraction.allSatisfy({ $0 == "0" }) else { return nil }
        digits = text[..<dot]
    }
    guard digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let ms = Int(digits), ms > 0 else {
        return nil
    }
    return ms
}

/// Whether `text` is a non-empty run of visible characters without spaces.
func sdpIsToken(_ text: Substring) -> Bool {
    !text.isEmpty && !text.contains(where: { $0 == " " || $0 == "\t" })
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
public struct SDPRTPMap: Sendable, Hashable {
    /// The RTP payload type, 0...127.
    public var payloadType: UInt8
    /// The encoding name as written (compare case-insensitively).
    public var encodingName: String
    /// The RTP clock rate in Hz.
    public var clockRate: UInt32
    /// The channel count for audio when written; nil means one channel.
    public var channels: Int?

    /// Creates an rtpmap.
    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    init?(value: Substring) {
        let f = sdpFields(value)
        guard f.count == 2, let pt = UInt8(f[0]), pt < 128 else { return nil }
        let parts = f[1].split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let rate = UInt32(parts[1]), rate > 0 else {
            return nil
        }
        var channels: Int?
        if parts.count == 3 {
            guard let c = Int(parts[2]), c > 0, c <= 255 else { return nil }
            channels = c
        }
        self.init(payloadType: pt, encodingName: String(parts[0]), clockRate: rate, channels: channels)
    }

    /// The value after `a=rtpmap:`.
    public var value: String {
        if let channels { "\(payloadType) \(encodingName)/\(clockRate)/\(channels)" } else { "\(payloadType) \(encodingName)/\(clockRate)" }
    }
}

/// `a=fmtp:<format> <parameters>` (RFC 8866 §6.15); the parameters are kept verbatim.
public struct SDPFormatParameters: Sendable, Hashable {
    /// The format (payload type) the parameters apply to.
    public var format: String
    /// The format-specific parameters, verbatim.
    public var parameters: String

    /// Creates an fmtp attribute.
    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }

    init?(value: Substring) {
        guard let space = value.firstIndex(of: " ") else { return nil }
        let format = value[..<space]
        let rest = value[value.index(after: space)...]
        guard sdpIsToken(format), let first = rest.first, first != " " else { return nil }
        self.init(format: String(format), parameters: String(rest))
    }

    /// The value after `a=fmtp:`.
    public var value: String { "\(format) \(parameters)" }

    /// The `;`-separated `name=value` pairs, names lower-cased and blanks trimmed; allocates.
    public var parameterList: [(name: String, value: String)] {
        parameters.split(separator: ";").compactMap { item in
            let trimmed = item.drop(while: { $0 == " " })
            guard !trimmed.isEmpty else { return nil }
            if let eq = trimmed.firstIndex(of: "=") {
                return (String(trimmed[..<eq]).lowercased(), String(trimmed[trimmed.index(after: eq)...]))
            }
            return (String(trimmed).lowercased(), "")
        }
    }

    /// The value of one parameter, matched case-insensitively; nil when absent.
    public func parameter(_ name: String) -> String? {
        let lower = name.lowercased()
        return parameterList.first(where: { $0.name == lower })?.value
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
public struct SDPRTCPAttribute: Sendable, Hashable {
    /// The RTCP port.
    public var port: UInt16
    /// The RTCP address when it differs from the media's connection address.
    public var connection: SDPConnection?

    /// Creates an rtcp attribute.
    public init(port: UInt16, connection: SDPConnection? = nil) {
        self.port = port
        self.connection = connection
    }

    init?(value: Substring) {
        let f = sdpFields(value)
        guard f.count == 1 || f.count == 4, let port = UInt16(f[0]) else { return nil }
        var connection: SDPConnection?
        if f.count == 4 {
            guard let type = SDPAddressType(rawValue: String(f[2])) else { return nil }
            connection = SDPConnection(networkType: String(f[1]), addressType: type, address: String(f[3]))
        }
        self.init(port: port, connection: connection)
    }

    /// The value after `a=rtcp:`.
    public var value: String {
        if let connection { "\(port) \(connection.value)" } else { String(port) }
    }
}

/// `a=rtcp-fb:<payload type or *> <type> [<parameters>]` (RFC 4585 §4.2), the feedback kept verbatim.
public struct SDPRTCPFeedback: Sendable, Hashable {
    /// The payload type the feedback applies to, or `*`.
    public var format: String
    /// The feedback type and parameters, such as `nack pli`, verbatim.
    public var feedback: String

    /// Creates an rtcp-fb attribute.
    public init(format: String, feedback: String) {
        self.format = format
        self.feedback = feedback
    }

    init?(value: Substring) {
        guard let fmt = SDPFormatParameters(value: value) else { return nil }
        self.init(format: fmt.format, feedback: fmt.parameters)
    }

    /// The value after `a=rtcp-fb:`.
    public var value: String { "\(format) \(feedback)" }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1), the source attribute kept verbatim.
public struct SDPSSRCAttribute: Sendable, Hashable {
    /// The synchronisation source.
    public var ssrc: UInt32
    /// The source attribute, such as `cname:abc`, verbatim.
    public var attribute: String

    /// Creates an ssrc attribute.
    public init(ssrc: UInt32, attribute: String) {
        self.ssrc = ssrc
        self.attribute = attribute
    }

    init?(value: Substring) {
        guard let fmt = SDPFormatParameters(value: value), let ssrc = UInt32(fmt.format) else { return nil }
        self.init(ssrc: ssrc, attribute: fmt.parameters)
    }

    /// The value after `a=ssrc:`.
    public var value: String { "\(ssrc) \(attribute)" }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8).
public struct SDPExtmap: Sendable, Hashable {
    /// The header extension identifier, 1...255 (4095 is not valid in RTP, but the grammar allows 1...14 and 256...).
    public var id: UInt16
    /// The direction of this extension, when given.
    public var direction: SDPDirection?
    /// The extension URI.
    public var uri: String
    /// Extension attributes after the URI, verbatim.
    public var extensionAttributes: String?

    /// Creates an extmap attribute.
    public init(id: UInt16, direction: SDPDirection? = nil, uri: String, extensionAttributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.extensionAttributes = extensionAttributes
    }

    init?(value: Substring) {
        guard let head = SDPFormatParameters(value: value) else { return nil }
        let idPart = head.format.split(separator: "/", omittingEmptySubsequences: false)
        guard idPart.count <= 2, let id = UInt16(idPart[0]) else { return nil }
        var direction: SDPDirection?
        if idPart.count == 2 {
            guard let d = SDPDirection(rawValue: String(idPart[1])) else { return nil }
            direction = d
        }
        let rest = head.parameters
        var uri = Substring(rest)
        var attrs: String?
        if let space = rest.firstIndex(of: " ") {
            uri = rest[..<space]
            let after = rest[rest.index(after: space)...]
            guard let first = after.first, first != " " else { return nil }
            attrs = String(after)
        }
        self.init(id: id, direction: direction, uri: String(uri), extensionAttributes: attrs)
    }

    /// The value after `a=extmap:`.
    public var value: String {
        var s = String(id)
        if let direction { s += "/\(direction.rawValue)" }
        s += " \(uri)"
        if let extensionAttributes { s += " \(extensionAttributes)" }
        return s
    }
}
