/// An RTP synchronisation source identifier (RFC 3550 §5.1).
public struct SSRC: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt32) { self.rawValue = value }
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A 7-bit RTP payload type (RFC 3550 §5.1; static assignments in RFC 3551 §6).
public struct PayloadType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    /// Nil when `rawValue` does not fit in 7 bits.
    @inlinable public init?(rawValue: UInt8) {
        guard rawValue < 128 else { return nil }
        self.rawValue = rawValue
    }

    public static let pcmu = PayloadType(rawValue: 0)!
    public static let pcma = PayloadType(rawValue: 8)!
    public static let g722 = PayloadType(rawValue: 9)!
    public static let comfortNoise = PayloadType(rawValue: 13)!

    /// True for 0...95, the range RFC 3551 assigns statically (96...127 are dynamic).
    public var isStatic: Bool { rawValue < 96 }

    /// True for 72...76, which collide with RTCP packet types under rtcp-mux (RFC 5761 §4).
    public var collidesWithRTCP: Bool { (72...76).contains(rawValue) }

    public var description: String { String(rawValue) }
}
