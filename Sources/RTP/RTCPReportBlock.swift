import TandemBase

/// A 64-bit NTP timestamp (RFC 3550 §4): seconds since 1900 and a 32-bit binary fraction.
public struct NTPTimestamp: RawRepresentable, Hashable, Sendable {
    /// Seconds in the high 32 bits, fraction in the low 32 bits.
    public var rawValue: UInt64

    /// Creates a timestamp from its 64-bit wire value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Creates a timestamp from whole seconds and a fraction in units of 2⁻³² s.
    public init(seconds: UInt32, fraction: UInt32) {
        self.rawValue = UInt64(seconds) << 32 | UInt64(fraction)
    }

    /// The middle 32 bits (16.16 fixed point seconds), the form LSR and DLSR use (RFC 3550 §6.4.1).
    public var middle32: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 16) }
}

/// A reception report block (RFC 3550 §6.4.1), 24 bytes on the wire. A plain value.
public struct RTCPReportBlock: Hashable, Sendable {
    /// The source this block reports on.
    public var ssrc: SSRC
    /// Fraction of packets lost since the previous report, in units of 1/256.
    public var fractionLost: UInt8
    /// Cumulative packets lost, a 24-bit signed value (negative when duplicates outnumber losses).
    public var cumulativeLost: Int32
    /// Extended highest sequence number received: cycles in the high 16 bits.
    public var extendedHighestSequenceNumber: UInt32
    /// Interarrival jitter in timestamp units.
    public var jitter: UInt32
    /// Last SR timestamp: the middle 32 bits of the NTP timestamp of the last SR, or 0.
    public var lastSenderReport: UInt32
    /// Delay since last SR in units of 1/65536 s, or 0.
    public var delaySinceLastSenderReport: UInt32

    /// The wire size of one block.
    public static let size = 24

    /// Creates a block from its fields; `cumulativeLost` is clamped to 24-bit signed.
    public init(
        ssrc: SSRC, fractionLost: UInt8, cumulativeLost: Int32, extendedHighestSequenceNumber: UInt32,
        jitter: UInt32, lastSenderReport: UInt32, delaySinceLastSenderReport: UInt32
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    /// Reads a block at `offset`; the caller has checked 24 bytes are there.
    init(reading bytes: UnsafeRawBufferPointer, at offset: Int) {
        ssrc = SSRC(bytes.u32(offset))
        let word = bytes.u32(offset + 4)
        fractionLost = UInt8(truncatingIfNeeded: word >> 24)
        // Sign-extend the low 24 bits.
        cumulativeLost = Int32(bitPattern: word << 8) >> 8
        extendedHighestSequenceNumber = bytes.u32(offset + 8)
        jitter = bytes.u32(offset + 12)
        lastSenderReport = bytes.u32(offset + 16)
        delaySinceLastSenderReport = bytes.u32(offset + 20)
    }

    /// Writes the block at `offset`; the caller has checked 24 bytes are there.
    func write(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer.put32(ssrc.rawValue, at: offset)
        buffer.put8(fractionLost, at: offset + 4)
        buffer.put24(UInt32(bitPattern: cumulativeLost), at: offset + 5)
        buffer.put32(extendedHighestSequenceNumber, at: offset + 8)
        buffer.put32(jitter, at: offset + 12)
        buffer.put32(lastSenderReport, at: offset + 16)
        buffer.put32(delaySinceLastSenderReport, at: offset + 20)
    }

    /// Round-trip time in units of 1/65536 s (RFC 3550 §6.4.1: A − LSR − DLSR), given the middle
    /// 32 bits of the NTP time at which this block arrived. Nil when no SR has been received
    /// (LSR 0) or the result would be negative (clock error).
    public func roundTripTime(arrivalMiddle32: UInt32) -> UInt32? {
        guard lastSenderReport != 0 else { return nil }
        // Wrapping arithmetic: the 16.16 clock wraps every ~18 hours.
        let rtt = Int32(bitPattern: arrivalMiddle32 &- lastSenderReport &- delaySinceLastSenderReport)
        guard rtt >= 0 else { return nil }
        return UInt32(rtt)
    }

    /// Round-trip time in seconds; see `roundTripTime(arrivalMiddle32:)`.
    public func roundTripSeconds(arrivalMiddle32: UInt32) -> Double? {
        roundTripTime(arrivalMiddle32: arrivalMiddle32).map { Double($0) / 65536 }
    }
}

/// A non-allocating iterator over the report blocks in an SR or RR body.
public struct RTCPReportBlocks: Sequence, IteratorProtocol {
    let bytes: UnsafeRawBufferPointer
    let remaining: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, count: Int) {
        self.bytes = bytes
        self.remaining = count
    }

    /// The next block.
    public mutating func next() -> RTCPReportBlock? {
        guard index < remaining else { return nil }
        defer { index += 1 }
        return RTCPReportBlock(reading: bytes, at: index * RTCPReportBlock.size)
    }
}
