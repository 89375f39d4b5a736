/// A whole SDP session description (RFC 8866): session-level lines and media sections.
///
/// Parsing accepts CRLF or bare LF line ends and rejects structural errors with a typed error;
/// serialising writes CRLF in the RFC 8866 §5 order. Control plane: both allocate.
public struct SessionDescription: Sendable, Hashable {
    /// The largest input accepted, in UTF-8 bytes; SDP in SIP is a few kilobytes.
    public static let maximumLength = 65_536
    /// The most lines accepted.
    public static let maximumLineCount = 4_096

    /// The `o=` line.
    public var origin: SDPOrigin
    /// The `s=` value; `-` or a space when there is none (RFC 3264 §5).
    public var sessionName: String
    /// The `i=` line.
    public var information: String?
    /// The `u=` line.
    public var uri: String?
    /// The `e=` lines.
    public var emails: [String]
    /// The `p=` lines.
    public var phones: [String]
    /// The session-level `c=` line, the default for media sections without one.
    public var connection: SDPConnection?
    /// The session-level `b=` lines.
    public var bandwidths: [SDPBandwidth]
    /// The `t=` lines with their `r=` lines; at least one.
    public var timings: [SDPTiming]
    /// The `z=` line, verbatim.
    public var timeZones: String?
    /// The session-level `k=` line, verbatim.
    public var encryptionKey: String?
    /// The session-level attributes, in order, unknown ones kept.
    public var attributes: [SDPAttribute]
    /// The media sections, in order.
    public var media: [MediaDescription]

    /// Creates a session description; `t=0 0` by default.
    public init(origin: SDPOrigin, sessionName: String = "-", information: String? = nil, uri: String? = nil,
                emails: [String] = [], phones: [String] = [], connection: SDPConnection? = nil,
                bandwidths: [SDPBandwidth] = [], timings: [SDPTiming] = [SDPTiming()], timeZones: String? = nil,
                encryptionKey: String? = nil, attributes: [SDPAttribute] = [], media: [MediaDescription] = []) {
        self.origin = origin
        self.sessionName = sessionName
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timings = timings
        self.timeZones = timeZones
        self.encryptionKey = encryptionKey
        self.attributes = attributes
        self.media = media
    }

    /// Parses a session description; never traps, throws on structural errors.
    ///
    /// Accepts CRLF or LF line ends and ignores blank lines. Strict on structure: `v=0` first,
    /// then `o=` and `s=`, session lines before the first `m=`, at most one of each single line,
    /// at least one `t=`, no unknown line types (RFC 8866 §5).
    public init(parsing text: String) throws(SDPParseError) {
        guard text.utf8.count <= Self.maximumLength else { throw .tooLarge }
        var lines: [(number: Int, type: Character, value: Substring)] = []
        var number = 0
        // Split on the LF scalar: "\r\n" is one Character, so a Character split would not see it.
        for raw in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard number <= Self.maximumLineCount else { throw .tooLarge }
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            if line.isEmpty { continue }
            var it = line.makeIterator()
            guard let type = it.next(), type.isASCII, type.isLetter, line.dropFirst().first == "=" else {
                throw .malformedLine(line: number)
            }
            lines.append((number, type, line.dropFirst(2)))
        }
        guard let first = lines.first else { throw .empty }
        guard first.type == "v" else { throw .versionNotFirst }
        guard first.value == "0" else { throw .unsupportedVersion }

        var origin: SDPOrigin?
        var sessionName: String?
        var information: String?
        var uri: String?
        var emails: [String] = []
        var phones: [String] = []
        var connection: SDPConnection?
        var bandwidths: [SDPBandwidth] = []
        var timings: [SDPTiming] = []
        var timeZones: String?
        var key: String?
        var attributes: [SDPAttribute] = []
        var media: [MediaDescription] = []

        for (index, line) in lines.enumerated().dropFirst() {
            let n = line.number
            let value = line.value
            // RFC 8866 §5: o= and s= follow v= directly.
            if index == 1, line.type != "o" { throw .missingField("o") }
            if index == 2, line.type != "s" { throw .missingField("s") }
            if var current = media.popLast() {
                switch line.type {
                case "m":
                    media.append(current)
                    guard let m = MediaDescription(mLine: value) else { throw .invalidMedia(line: n) }
                    media.append(m)
                    continue
                case "i":
                    guard current.information == nil else { throw .unexpectedLine(line: n) }
                    current.information = String(value)
                case "c":
                    guard let c = SDPConnection(value: value) else { throw .invalidConnection(line: n) }
                    current.connections.append(c)
                case "b":
                    guard let b = SDPBandwidth(value: value) else { throw .invalidBandwidth(line: n) }
                    current.bandwidths.append(b)
                case "k":
                    guard current.encryptionKey == nil else { throw .unexpectedLine(line: n) }
                    current.encryptionKey = String(value)
                case "a":
                    guard !value.isEmpty, value.first != ":" else { throw .invalidAttribute(line: n) }
                    current.attributes.append(SDPAttribute(parsing: value))
                case "v", "o", "s", "u", "e", "p", "t", "r", "z":
                    throw .unexpectedLine(line: n)
                default:
                    throw .unknownType(line: n)
                }
                media.append(current)
                continue
            }
            switch line.type {
            case "o":
                guard origin == nil else { throw .unexpectedLine(line: n) }
                guard let o = SDPOrigin(value: value) else { throw .invalidOrigin(line: n) }
                origin = o
            case "s":
                guard sessionName == nil else { throw .unexpectedLine(line: n) }
                sessionName = String(value)
            case "i":
                guard information == nil else { throw .unexpectedLine(line: n) }
                information = String(value)
            case "u":
                guard uri == nil else { throw .unexpectedLine(line: n) }
                uri = String(value)
            case "e": emails.append(String(value))
            case "p": phones.append(String(value))
            case "c":
                guard connection == nil else { throw .unexpectedLine(line: n) }
                guard let c = SDPConnection(value: value) else { throw .invalidConnection(line: n) }
                connection = c
            case "b":
                guard let b = SDPBandwidth(value: value) else { throw .invalidBandwidth(line: n) }
                bandwidths.append(b)
            case "t":
                guard let t = SDPTiming(value: value) else { throw .invalidTiming(line: n) }
                timings.append(t)
            case "r":
                // RFC 8866 §5.10: r= belongs to the t= before it.
                guard !timings.isEmpty, !value.isEmpty else { throw .invalidTiming(line: n) }
                timings[timings.count - 1].repeats.append(String(value))
            case "z":
                guard timeZones == nil else { throw .unexpectedLine(line: n) }
                timeZones = String(value)
            case "k":
                guard key == nil else { throw .unexpectedLine(line: n) }
                key = String(value)
            case "a":
                guard !value.isEmpty, value.first != ":" else { throw .invalidAttribute(line: n) }
                attributes.append(SDPAttribute(parsing: value))
            case "m":
                guard let m = MediaDescription(mLine: value) else { throw .invalidMedia(line: n) }
                media.append(m)
            case "v":
                throw .unexpectedLine(line: n)
            default:
                throw .unknownType(line: n)
            }
        }
        guard let origin else { throw .missingField("o") }
        guard let sessionName else { throw .missingField("s") }
        guard !timings.isEmpty else { throw .missingField("t") }
        self.init(origin: origin, sessionName: sessionName, information: information, uri: uri, emails: emails,
                  phones: phones, connection: connection, bandwidths: bandwidths, timings: timings,
                  timeZones: timeZones, encryptionKey: key, attributes: attributes, media: media)
    }

    /// The description as text with CRLF line ends, lines in RFC 8866 §5 order; allocates.
    public var serialized: String {
        var s = "v=0\r\n"
        s.reserveCapacity(512)
        func line(_ type: String, _ value: String) {
            s += type
            s += value
            s += "\r\n"
        }
        line("o=", origin.value)
        line("s=", sessionName)
        if let information { line("i=", information) }
        if let uri { line("u=", uri) }
        for e in emails { line("e=", e) }
        for p in phones { line("p=", p) }
        if let connection { line("c=", connection.value) }
        for b in bandwidths { line("b=", b.lineValue) }
        for t in timings {
            line("t=", "\(t.start) \(t.stop)")
            for r in t.repeats { line("r=", r) }
        }
        if let timeZones { line("z=", timeZones) }
        if let encryptionKey { line("k=", encryptionKey) }
        for a in attributes { line("a=", a.lineValue) }
        for m in media {
            line("m=", m.mLineValue)
            if let information = m.information { line("i=", information) }
            for c in m.connections { line("c=", c.value) }
            for b in m.bandwidths { line("b=", b.lineValue) }
            if let k = m.encryptionKey { line("k=", k) }
            for a in m.attributes { line("a=", a.lineValue) }
        }
        return s
    }

    /// The session-level direction attribute, or nil.
    public var directionAttribute: SDPDirection? {
        for a in attributes { if case .direction(let d) = a { return d } }
        return nil
    }

    /// The direction in force for a media section: media level, else session level, else sendrecv (RFC 8866 §6.7).
    public func direction(of mediaIndex: Int) -> SDPDirection {
        guard media.indices.contains(mediaIndex) else { return directionAttribute ?? .sendrecv }
        return media[mediaIndex].directionAttribute ?? directionAttribute ?? .sendrecv
    }

    /// The connection in force for a media section: its first `c=`, else the session's.
    public func connection(of mediaIndex: Int) -> SDPConnection? {
        guard media.indices.contains(mediaIndex) else { return connection }
        return media[mediaIndex].connections.first ?? connection
    }

    /// Whether the sender of this description puts the stream on hold: `c=0.0.0.0` (RFC 2543 style),
    /// or a direction of sendonly or inactive (RFC 3264 §8.4, RFC 6337 §5.3).
    public func isHold(mediaIndex: Int) -> Bool {
        if connection(of: mediaIndex)?.isHoldAddress == true { return true }
        let d = direction(of: mediaIndex)
        return d == .sendonly || d == .inactive
    }
}
