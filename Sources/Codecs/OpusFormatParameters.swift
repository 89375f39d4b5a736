/// The RFC 7587 §6.1 `a=fmtp` parameters of an Opus payload type, as a value.
///
/// Every parameter describes the side that sends the SDP: the plain ones are what it wants to receive, the
/// `sprop-` ones what it will send. Absent parameters are nil and take the RFC defaults. Unknown parameters are
/// kept in order so that writing preserves them. Control plane only: parsing and writing allocate.
public struct OpusFormatParameters: Hashable, Sendable {
    /// A parameter this type does not interpret, kept verbatim.
    public struct Extra: Hashable, Sendable {
        /// The parameter name as written.
        public var name: String
        /// The value after `=`, or nil for a bare name.
        public var value: String?

        /// Creates an extra parameter.
        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// `maxplaybackrate`: the highest audio rate, in Hz, the receiver can render (8000–48000; default 48000).
    public var maxPlaybackRate: Int?
    /// `sprop-maxcapturerate`: the highest rate, in Hz, the sender captures at (8000–48000).
    public var spropMaxCaptureRate: Int?
    /// `maxaveragebitrate`: the highest average bitrate, in bit/s, the receiver wants (6000–510000).
    public var maxAverageBitrate: Int?
    /// `stereo`: whether the receiver prefers stereo (default false).
    public var stereo: Bool?
    /// `sprop-stereo`: whether the sender is likely to send stereo (default false).
    public var spropStereo: Bool?
    /// `cbr`: whether the receiver prefers constant bitrate (default false).
    public var constantBitrate: Bool?
    /// `useinbandfec`: whether the receiver can use Opus in-band FEC (default false).
    public var useInbandFEC: Bool?
    /// `usedtx`: whether the receiver prefers discontinuous transmission (default false).
    public var useDTX: Bool?
    /// `ptime`, in ms. Properly an SDP attribute (RFC 4566), but some peers put it in the fmtp line.
    public var ptime: Int?
    /// `minptime`, in ms, as WebRTC writes it (`minptime=10;useinbandfec=1`).
    public var minPtime: Int?
    /// `maxptime`, in ms. Properly an SDP attribute, accepted here for the same reason as `ptime`.
    public var maxPtime: Int?
    /// Parameters not listed above, in their original order.
    public var extras: [Extra] = []

    /// Creates a parameter set with nothing specified (all RFC defaults).
    public init() {}

    /// Parses the parameter list of an `a=fmtp:<pt> ` line (the part after the payload type), e.g.
    /// `"minptime=10;useinbandfec=1"`. Names are matched case-insensitively; a repeated parameter keeps its last
    /// value; empty items are skipped. Throws on a known parameter with a non-numeric or out-of-range value.
    public init(parsing text: Substring) throws(CodecError) {
        for item in text.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = Self.trim(item)
            if trimmed.isEmpty { continue }
            let name: Substring
            let value: Substring?
            if let equals = trimmed.firstIndex(of: "=") {
                name = Self.trim(trimmed[..<equals])
                value = Self.trim(trimmed[trimmed.index(after: equals)...])
            } else {
                name = trimmed
                value = nil
            }
            guard !name.isEmpty else { throw .invalidFormatParameters }
            switch name.lowercased() {
            case "maxplaybackrate": maxPlaybackRate = try Self.integer(value, in: 8000...48000)
            case "sprop-maxcapturerate": spropMaxCaptureRate = try Self.integer(value, in: 8000...48000)
            case "maxaveragebitrate": maxAverageBitrate = try Self.integer(value, in: 6000...510_000)
            case "stereo": stereo = try Self.flag(value)
            case "sprop-stereo": spropStereo = try Self.flag(value)
            case "cbr": constantBitrate = try Self.flag(value)
            case "useinbandfec": useInbandFEC = try Self.flag(value)
            case "usedtx": useDTX = try Self.flag(value)
            // Opus frames are 2.5–60 ms and a packet holds at most 120 ms (RFC 6716 §3.2.5).
            case "ptime": ptime = try Self.integer(value, in: 1...120)
            case "minptime": minPtime = try Self.integer(value, in: 1...120)
            case "maxptime": maxPtime = try Self.integer(value, in: 1...120)
            default:
                // Unknown parameters must be ignored (RFC 4566 §6); keep them so writing does not lose them.
                guard !name.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) else {
                    throw .invalidFormatParameters
                }
                extras.append(Extra(name: String(name), value: value.map(String.init)))
            }
        }
    }

    /// Parses an fmtp parameter list held in a `String`.
    public init(parsing text: String) throws(CodecError) {
        try self.init(parsing: text[...])
    }

    /// The parameter list for an `a=fmtp` line, in a fixed order (ptimes before flags, as WebRTC writes them),
    /// items joined by `;`. Empty when nothing is set.
    public var formatted: String {
        var items: [String] = []
        func add(_ name: String, _ value: Int?) { if let value { items.append("\(name)=\(value)") } }
        func add(_ name: String, _ value: Bool?) { if let value { items.append("\(name)=\(value ? 1 : 0)") } }
        add("maxplaybackrate", maxPlaybackRate)
        add("sprop-maxcapturerate", spropMaxCaptureRate)
        add("maxaveragebitrate", maxAverageBitrate)
        add("ptime", ptime)
        add("minptime", minPtime)
        add("maxptime", maxPtime)
        add("stereo", stereo)
        add("sprop-stereo", spropStereo)
        add("cbr", constantBitrate)
        add("useinbandfec", useInbandFEC)
        add("usedtx", useDTX)
        for extra in extras {
            items.append(extra.value.map { "\(extra.name)=\($0)" } ?? extra.name)
        }
        return items.joined(separator: ";")
    }

    private static func trim(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }

    private static func integer(_ value: Substring?, in range: ClosedRange<Int>) throws(CodecError) -> Int {
        guard let value, !value.isEmpty, value.count <= 9, value.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(value), range.contains(number) else {
            throw .invalidFormatParameters
        }
        return number
    }

    private static func flag(_ value: Substring?) throws(CodecError) -> Bool {
        switch value {
        case "0": false
        case "1": true
        default: throw .invalidFormatParameters
        }
    }
}
