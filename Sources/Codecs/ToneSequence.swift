/// One step of a tone cadence: up to four frequencies, each with a relative gain, for a duration
/// (or for ever when it is the last step).
public struct ToneSegment: Equatable, Sendable {
    /// Frequencies in Hz; empty means silence.
    public var frequencies: [Double]
    /// Linear gain of each frequency relative to the generator's level (same count as `frequencies`).
    public var gains: [Double]
    /// Duration in milliseconds, or nil for a continuous tone.
    public var durationMilliseconds: Int?
    /// When true the step plays on the first pass only and is skipped when the sequence repeats.
    public var playsOnce: Bool

    /// A segment of `frequencies` at unit gain.
    public init(_ frequencies: [Double], gains: [Double]? = nil, milliseconds: Int?, playsOnce: Bool = false) {
        self.frequencies = frequencies
        self.gains = gains ?? frequencies.map { _ in 1 }
        self.durationMilliseconds = milliseconds
        self.playsOnce = playsOnce
    }

    /// Silence for `milliseconds`.
    public static func silence(milliseconds: Int, playsOnce: Bool = false) -> ToneSegment {
        ToneSegment([], milliseconds: milliseconds, playsOnce: playsOnce)
    }
}

/// A tone cadence: segments played in order and then repeated (segments marked `playsOnce` are
/// skipped on repeats; if every segment is marked, the sequence plays once and ends).
///
/// Compact description grammar (spaces between tokens are ignored):
/// ```
/// sequence  = segment *( "," segment )
/// segment   = [ "!" ] tones [ "/" duration ]     ; "!" = play on the first pass only
/// tones     = "0" / tone *3( "+" tone )          ; "0" = silence
/// tone      = frequency [ "*" gain ]             ; Hz, 1 ≤ f < 4000 (valid at 8 kHz); gain 0 or 0.001 … 1
/// duration  = 1*DIGIT                            ; milliseconds, 1 … 600000; omitted = continuous,
///                                                ; allowed on the last segment only
/// ```
/// Example: `"350+440/1000,0/500,440*0.5/300"` is 1 s of 350+440 Hz, 0.5 s of silence, 0.3 s of
/// 440 Hz at half amplitude, repeated. The notation follows Asterisk's indications.conf where
/// the two overlap ("!" and "f1+f2/ms").
public struct ToneSequence: Equatable, Sendable, CustomStringConvertible {
    /// The steps, in playing order.
    public var segments: [ToneSegment]

    /// Longest description accepted, in characters.
    public static let maximumDescriptionLength = 2048
    /// Most segments in one sequence (also the generator's capacity).
    public static let maximumSegments = 64
    /// Most simultaneous frequencies in one segment.
    public static let maximumFrequencies = 4
    /// Longest duration of one segment, in milliseconds.
    public static let maximumDurationMilliseconds = 600_000
    /// Frequencies accepted by the parser, in Hz: below the 8 kHz Nyquist so every rate can play them.
    public static let frequencyRange: Range<Double> = 1..<4000

    /// A sequence of the given segments (not validated; the generator clamps what it cannot play).
    public init(_ segments: [ToneSegment]) {
        self.segments = segments
    }

    /// Parses a compact description (grammar above). Never traps; allocates.
    public init(parsing text: String) throws(ToneDescriptionError) {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= Self.maximumDescriptionLength else { throw .tooLong }
        var parser = Parser(scalars: scalars)
        segments = try parser.parseSequence()
    }

    /// The description in the compact grammar; parsing it gives back an equal sequence.
    public var description: String {
        segments.map { segment in
            var s = segment.playsOnce ? "!" : ""
            if segment.frequencies.isEmpty {
                s += "0"
            } else {
                s += zip(segment.frequencies, segment.gains).map { f, g in
                    g == 1 ? Self.format(f) : Self.format(f) + "*" + Self.format(g)
                }.joined(separator: "+")
            }
            if let ms = segment.durationMilliseconds { s += "/\(ms)" }
            return s
        }.joined(separator: ",")
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    /// Recursive-descent parser over Unicode scalars.
    private struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func skipSpaces() {
            while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" { position += 1 }
        }

        mutating func peek() -> Unicode.Scalar? {
            skipSpaces()
            return position < scalars.count ? scalars[position] : nil
        }

        mutating func parseSequence() throws(ToneDescriptionError) -> [ToneSegment] {
            guard peek() != nil else { throw .empty }
            var segments: [ToneSegment] = []
            while true {
                let start = position
                let segment = try parseSegment()
                if let last = segments.last, last.durationMilliseconds == nil {
                    throw .continuousSegmentNotLast(offset: start)
                }
                segments.append(segment)
                guard segments.count <= ToneSequence.maximumSegments else { throw .tooManySegments }
                guard let next = peek() else { return segments }
                guard next == "," else { throw .unexpectedCharacter(offset: position) }
                position += 1
            }
        }

        mutating func parseSegment() throws(ToneDescriptionError) -> ToneSegment {
            var once = false
            if peek() == "!" {
                once = true
                position += 1
            }
            var frequencies: [Double] = []
            var gains: [Double] = []
            let toneStart: Int = { var p = self; _ = p.peek(); return p.position }()
            let first = try parseNumber()
            if first.text == "0" {
                // "0" is silence; "0+…" or "0*…" makes no sense.
                if let c = peek(), c == "+" || c == "*" { throw .unexpectedCharacter(offset: position) }
            } else {
                var number = first
                while true {
                    guard let f = number.value, ToneSequence.frequencyRange.contains(f) else {
                        throw .invalidFrequency(offset: number.offset)
                    }
                    var gain = 1.0
                    if peek() == "*" {
                        position += 1
                        let g = try parseNumber()
                        guard let v = g.value, v == 0 || (v >= 0.001 && v <= 1) else { throw .invalidGain(offset: g.offset) }
                        gain = v
                    }
                    frequencies.append(f)
                    gains.append(gain)
                    guard frequencies.count <= ToneSequence.maximumFrequencies else { throw .tooManyFrequencies(offset: toneStart) }
                    guard peek() == "+" else { break }
                    position += 1
                    number = try parseNumber()
                }
            }
            var duration: Int?
            if peek() == "/" {
                position += 1
                let d = try parseNumber()
                guard !d.text.contains("."), let v = d.value, v >= 1, v <= Double(ToneSequence.maximumDurationMilliseconds) else {
                    throw .invalidDuration(offset: d.offset)
                }
                duration = Int(v)
            }
            return ToneSegment(frequencies, gains: gains, milliseconds: duration, playsOnce: once)
        }

        /// Digits with at most one decimal point; returns its text, value and offset.
        mutating func parseNumber() throws(ToneDescriptionError) -> (text: String, value: Double?, offset: Int) {
            skipSpaces()
            let start = position
            var sawDigit = false
            var sawPoint = false
            while position < scalars.count {
                let c = scalars[position]
                if c >= "0" && c <= "9" {
                    sawDigit = true
                } else if c == "." && !sawPoint {
                    sawPoint = true
                } else {
                    break
                }
                position += 1
                // 24 characters is far more than any valid value needs; longer is garbage.
                if position - start > 24 { throw .unexpectedCharacter(offset: position) }
            }
            guard sawDigit else { throw .unexpectedCharacter(offset: start) }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars[start..<position])
            return (text, Double(text), start)
        }
    }
}
