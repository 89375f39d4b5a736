/// The fields of one RFC 4733 telephone-event payload, plus the event's start, in plain values
/// (the RTP module builds the packet; this module does not depend on it).
public struct TelephoneEventReport: Equatable, Sendable {
    /// Event code (RFC 4733 §3.2: 0-9, 10 = `*`, 11 = `#`, 12-15 = A-D).
    public var eventCode: UInt8
    /// Start of the event (or of this segment of a long event) in RTP clock units since the
    /// detector's first sample; the sender adds its RTP timestamp base (§2.3.2).
    public var start: Int
    /// Duration so far in RTP clock units, at most 0xFFFF (§2.5.1.3, §2.5.2.3).
    public var duration: Int
    /// The E bit: the event (segment) has ended (§2.5.1.4); senders repeat the final report 3 times.
    public var isEnd: Bool
    /// Volume: power level in −dBm0, 0 … 63 (§2.3.4).
    public var volume: UInt8

    /// A report with the given fields.
    public init(eventCode: UInt8, start: Int, duration: Int, isEnd: Bool, volume: UInt8) {
        self.eventCode = eventCode
        self.start = start
        self.duration = duration
        self.isEnd = isEnd
        self.volume = volume
    }
}

/// Turns in-band detector events into the reports an RFC 4733 sender needs: one when a digit is
/// recognised, one per packet interval while it lasts (`update(now:)`), and one final report.
///
/// Events longer than 0xFFFF clock units are split into segments as RFC 4733 §2.5.2.3 asks: each
/// new segment starts where the previous one ended, and only the last carries the E bit.
/// A value type with no allocation; owned by one worker.
public struct TelephoneEventSource: Sendable {
    /// Sampling rate of the audio the detector analyses, in Hz.
    public let sampleRate: Int
    /// RTP clock rate of the telephone-event payload type, in Hz (usually 8000).
    public let clockRate: Int
    /// Volume reported for in-band digits (−dBm0).
    public var volume: UInt8 = 10

    private var active: DTMFDigit?
    private var segmentStart = 0

    /// A source for audio at `sampleRate` sent with a telephone-event clock of `clockRate`.
    public init(sampleRate: Int = 8000, clockRate: Int = 8000) {
        self.sampleRate = max(1, sampleRate)
        self.clockRate = max(1, clockRate)
    }

    private func clock(_ sample: Int) -> Int { sample * clockRate / sampleRate }

    /// The report to send for a detector event.
    public mutating func handle(_ event: DTMFEvent) -> TelephoneEventReport? {
        let start = clock(event.startSample)
        let end = clock(event.startSample + event.durationSamples)
        switch event.kind {
        case .began:
            active = event.digit
            segmentStart = start
            return report(event.digit, upTo: end, isEnd: false)
        case .ended:
            guard active == event.digit else {
                // An end without a start (the source was reset meanwhile): report it whole.
                segmentStart = start
                return report(event.digit, upTo: end, isEnd: true)
            }
            active = nil
            return report(event.digit, upTo: end, isEnd: true)
        }
    }

    /// The update to send at `now` (in audio samples) while a digit lasts, or nil if none does.
    public mutating func update(now sample: Int) -> TelephoneEventReport? {
        guard let digit = active else { return nil }
        return report(digit, upTo: clock(sample), isEnd: false)
    }

    private mutating func report(_ digit: DTMFDigit, upTo end: Int, isEnd: Bool) -> TelephoneEventReport {
        // §2.5.2.3: a segment may not exceed the 16-bit duration field; move on to a new one.
        while end - segmentStart > 0xFFFF { segmentStart += 0xFFFF }
        return TelephoneEventReport(eventCode: digit.eventCode, start: segmentStart,
                                    duration: max(0, end - segmentStart), isEnd: isEnd, volume: volume)
    }
}

/// Plays received RFC 4733 telephone events as in-band DTMF: the first packet of an event starts
/// the tone, the end packet fixes its length, repeated end packets are ignored (§2.5.1.4), and an
/// event whose start packets were all lost is still played for its reported duration.
///
/// Owned by one worker: not thread-safe. Receiving and generating never allocate.
public final class TelephoneEventPlayer {
    /// RTP clock rate of the telephone-event payload type, in Hz.
    public let clockRate: Int
    private let generator: DTMFGenerator
    private var currentTimestamp: UInt32?
    private var endedTimestamp: UInt32?
    private var played = 0

    /// A player writing audio at `sampleRate` for events on an RTP clock of `clockRate`.
    public init(sampleRate: Int = 8000, clockRate: Int = 8000) throws(ToneError) {
        guard clockRate > 0 else { throw .invalidParameter }
        generator = try DTMFGenerator(sampleRate: sampleRate)
        self.clockRate = clockRate
    }

    /// Output sampling rate in Hz.
    public var sampleRate: Int { generator.sampleRate }
    /// True while a tone is sounding or still to be played out.
    public var isPlaying: Bool { !generator.isFinished }

    /// Takes one received telephone-event payload: `timestamp` is the packet's RTP timestamp (the
    /// event start), `duration` in clock units, `volume` in −dBm0.
    public func receive(eventCode: Int, timestamp: UInt32, duration: Int, isEnd: Bool, volume: Int = 10) throws(ToneError) {
        guard let digit = DTMFDigit(eventCode: eventCode) else { throw .unsupportedEventCode(eventCode) }
        if timestamp == endedTimestamp { return }
        // Two tones at −(volume + 3) dBm0 each add up to the event's power of −volume dBm0.
        let level = -Double(min(max(volume, 0), 63)) - 3.01
        if timestamp != currentTimestamp {
            currentTimestamp = timestamp
            played = 0
            try generator.start(digit, level: level)
        }
        if isEnd {
            endedTimestamp = timestamp
            // The wire field is 16 bits; clamping keeps a caller's bad value from overflowing.
            let total = min(max(0, duration), 1 << 24) * generator.sampleRate / clockRate
            generator.stop(afterSamples: max(0, total - played))
        }
    }

    /// Fills `output` with the tone (silence when none) and returns how many samples were tone.
    public func generate(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let n = generator.generate(into: output)
        played += n
        return n
    }

    /// Stops at once (e.g. the stream timed out with no end packet).
    public func stop() {
        generator.stop()
        currentTimestamp = nil
    }
}
