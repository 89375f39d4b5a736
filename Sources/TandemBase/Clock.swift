#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on a monotonic clock, in nanoseconds since an arbitrary origin.
public struct Instant: Hashable, Comparable, Sendable {
    public var nanoseconds: UInt64
    @inlinable public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    @inlinable public static func < (l: Instant, r: Instant) -> Bool { l.nanoseconds < r.nanoseconds }
    /// This instant plus `ms` milliseconds.
    @inlinable public func adding(milliseconds ms: Int64) -> Instant {
        Instant(nanoseconds: UInt64(Int64(nanoseconds) &+ ms &* 1_000_000))
    }
    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    @inlinable public func milliseconds(since earlier: Instant) -> Int64 {
        (Int64(bitPattern: nanoseconds) &- Int64(bitPattern: earlier.nanoseconds)) / 1_000_000
    }
}

/// The time source every timing behaviour is driven by, so tests can inject time.
public protocol TimeSource: Sendable {
    /// The current monotonic instant.
    func now() -> Instant
}

/// CLOCK_MONOTONIC. Any thread; no allocation.
public struct MonotonicClock: TimeSource {
    public init() {}
    public func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }
}
