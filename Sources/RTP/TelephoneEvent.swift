import TandemBase

/// An RFC 4733 §2.3 telephone-event payload (4 bytes): event, end bit, volume, duration.
public struct TelephoneEvent: Hashable, Sendable {
    /// The event code (0–9, 10 = *, 11 = #, 12–15 = A–D for DTMF; RFC 4733 §3.2).
    public var event: UInt8
    /// The E bit: this packet ends the event.
    public var isEnd: Bool
    /// Power level in −dBm0, 0...63 (RFC 4733 §2.3.4).
    public var volume: UInt8
    /// Duration so far in timestamp units, counted from the event's timestamp (§2.3.5).
    public var duration: UInt16

    /// The payload size.
    public static let size = 4

    /// Creates an event payload.
    public init(event: UInt8, isEnd: Bool, volume: UInt8, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume
        self.duration = duration
    }

    /// Parses the first event in `bytes`; the reserved R bit is ignored (§2.3.3).
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPPayloadParseError) {
        guard bytes.count >= TelephoneEvent.size else { throw .truncated }
        event = bytes.u8(0)
        let b1 = bytes.u8(1)
        isEnd = b1 & 0x80 != 0
        volume = b1 & 0x3F
        duration = bytes.u16(2)
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { TelephoneEvent.size }

    /// Writes the payload at the start of `buffer`; returns 4.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard volume <= 63 else { throw .invalidField }
        guard buffer.count >= TelephoneEvent.size else { throw .bufferTooSmall }
        buffer.put8(event, at: 0)
        buffer.put8((isEnd ? 0x80 : 0) | volume, at: 1)
        buffer.put16(duration, at: 2)
        return TelephoneEvent.size
    }
}

/// One packet the telephone-event sender asks to be sent, in order.
public struct TelephoneEventPacket: Hashable, Sendable {
    /// Set on the first packet of an event (RFC 4733 §2.5.1.2).
    public var hasMarker: Bool
    /// The event's start timestamp, the same for every packet of one event (§2.5.1.2).
    public var timestamp: RTPTimestamp
    /// The payload.
    public var payload: TelephoneEvent
}

/// Produces the RFC 4733 packet sequence for one event at a time: a start packet with the marker,
/// updates with growing duration every packet interval, then the end packet three times
/// (§2.5.1.4). A pure state machine: the caller calls `nextPacket()` once per interval and sends
/// what it returns with the next RTP sequence number. No allocation.
///
/// Not done: events longer than 65535 timestamp units are clamped rather than split (§2.5.1.3).
public struct TelephoneEventSender: Sendable {
    /// Timestamp units between packets (e.g. 400 for 50 ms at 8 kHz).
    public let packetInterval: UInt16
    /// How many times the end packet is sent (§2.5.1.4 recommends three).
    public let endPacketCount: Int

    var event: UInt8 = 0
    var volume: UInt8 = 0
    var totalDuration: UInt16 = 0
    var timestamp = RTPTimestamp(0)
    var elapsed: UInt32 = 0
    var endPacketsSent = 0
    var sentAny = false
    /// True while packets remain for the current event.
    public private(set) var isActive = false

    /// Creates a sender that emits one packet per `packetInterval` timestamp units.
    public init(packetInterval: UInt16, endPacketCount: Int = 3) {
        self.packetInterval = max(packetInterval, 1)
        self.endPacketCount = max(endPacketCount, 1)
    }

    /// Creates a sender from a clock rate and a packet interval in milliseconds.
    public init(clockRate: Int, packetIntervalMilliseconds: Int, endPacketCount: Int = 3) {
        let (product, overflow) = clockRate.multipliedReportingOverflow(by: packetIntervalMilliseconds)
        let units = overflow ? Int.max : product / 1000
        self.init(packetInterval: UInt16(clamping: units), endPacketCount: endPacketCount)
    }

    /// Starts an event lasting `duration` timestamp units (clamped to 1...65535), beginning at
    /// `timestamp`. Replaces any event in progress.
    public mutating func start(event: UInt8, volume: UInt8 = 10, duration: Int, timestamp: RTPTimestamp) {
        self.event = event
        self.volume = min(volume, 63)
        self.totalDuration = UInt16(clamping: max(duration, 1))
        self.timestamp = timestamp
        self.elapsed = 0
        self.endPacketsSent = 0
        self.sentAny = false
        self.isActive = true
    }

    /// The packet due at this interval, or nil when the event is finished.
    public mutating func nextPacket() -> TelephoneEventPacket? {
        guard isActive else { return nil }
        let marker = !sentAny
        sentAny = true
        if elapsed < UInt32(totalDuration) {
            elapsed = min(elapsed + UInt32(packetInterval), UInt32(totalDuration))
        }
        let isEnd = elapsed >= UInt32(totalDuration)
        if isEnd {
            endPacketsSent += 1
            if endPacketsSent >= endPacketCount { isActive = false }
        }
        return TelephoneEventPacket(
            hasMarker: marker, timestamp: timestamp,
            payload: TelephoneEvent(event: event, isEnd: isEnd, volume: volume, duration: UInt16(elapsed)))
    }
}

/// A digit reported by `TelephoneEventReceiver`, once per event.
public struct ReceivedTelephoneEvent: Hashable, Sendable {
    /// The event code.
    public var event: UInt8
    /// The event's RTP timestamp (its identity, RFC 4733 §2.5.2).
    public var timestamp: RTPTimestamp
    /// The last duration seen, in timestamp units.
    public var duration: UInt16
    /// False when no end packet arrived and the event was closed by the next event starting.
    public var sawEndPacket: Bool

    /// Creates a report.
    public init(event: UInt8, timestamp: RTPTimestamp, duration: UInt16, sawEndPacket: Bool) {
        self.event = event
        self.timestamp = timestamp
        self.duration = duration
        self.sawEndPacket = sawEndPacket
    }
}

/// Turns received telephone-event packets into one report per event: the first end packet reports
/// it and repeated end packets (§2.5.1.4) and late updates are ignored. No allocation.
///
/// Events are identified by their RTP timestamp (§2.5.2). If every end packet is lost the event is
/// reported when the next one starts; an event whose end packets are all lost and that is never
/// followed is not reported (a caller-side timeout would be needed).
public struct TelephoneEventReceiver: Sendable {
    var current: ReceivedTelephoneEvent?
    var reported = false

    /// Creates a receiver with no event in progress.
    public init() {}

    /// Feeds one packet; returns the event when it is complete for the first time.
    public mutating func receive(_ payload: TelephoneEvent, timestamp: RTPTimestamp) -> ReceivedTelephoneEvent? {
        if var event = current {
            if timestamp == event.timestamp {
                guard !reported else { return nil }
                event.duration = max(event.duration, payload.duration)
                if payload.isEnd {
                    event.sawEndPacket = true
                    reported = true
                }
                current = event
                return payload.isEnd ? event : nil
            }
            // A packet from an older event (reordered or repeated): ignore.
            if timestamp < event.timestamp { return nil }
            let previous = reported ? nil : event
            begin(payload, timestamp: timestamp, reportEnd: previous == nil)
            if let previous {
                // The previous event's end was lost: report it now. If this packet already ends the
                // new event, the next repeated end packet reports it.
                return previous
            }
            return payload.isEnd ? current : nil
        }
        begin(payload, timestamp: timestamp, reportEnd: true)
        return payload.isEnd ? current : nil
    }

    private mutating func begin(_ payload: TelephoneEvent, timestamp: RTPTimestamp, reportEnd: Bool) {
        let ends = payload.isEnd && reportEnd
        current = ReceivedTelephoneEvent(
            event: payload.event, timestamp: timestamp, duration: payload.duration, sawEndPacket: ends)
        reported = ends
    }
}
