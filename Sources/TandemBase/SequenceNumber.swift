/// A 16-bit RTP sequence number with wrap-aware ordering (RFC 3550 §A.1, serial number arithmetic
/// as in RFC 1982): `a < b` when b is less than half the number space ahead of a.
public struct SequenceNumber: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt16) { self.rawValue = value }

    /// Signed distance from `self` to `other`, in -32768...32767.
    @inlinable public func distance(to other: SequenceNumber) -> Int {
        Int(Int16(bitPattern: other.rawValue &- rawValue))
    }

    /// The number `n` steps later, wrapping.
    @inlinable public func advanced(by n: Int) -> SequenceNumber {
        SequenceNumber(rawValue: rawValue &+ UInt16(truncatingIfNeeded: n))
    }

    @inlinable public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs.distance(to: rhs) > 0
    }

    public var description: String { String(rawValue) }
}

/// A 32-bit RTP timestamp with wrap-aware ordering and differences.
public struct RTPTimestamp: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt32) { self.rawValue = value }

    /// Signed distance from `self` to `other` in clock ticks.
    @inlinable public func distance(to other: RTPTimestamp) -> Int {
        Int(Int32(bitPattern: other.rawValue &- rawValue))
    }

    /// The timestamp `n` ticks later, wrapping.
    @inlinable public func advanced(by n: Int) -> RTPTimestamp {
        RTPTimestamp(rawValue: rawValue &+ UInt32(truncatingIfNeeded: n))
    }

    @inlinable public static func < (lhs: RTPTimestamp, rhs: RTPTimestamp) -> Bool {
        lhs.distance(to: rhs) > 0
    }

    public var description: String { String(rawValue) }
}
