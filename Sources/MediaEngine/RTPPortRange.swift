/// The UDP ports the engine may bind for RTP and RTCP. RTP uses even ports and RTCP the odd
/// port above (RFC 3550 §11), so the range is trimmed to whole even/odd pairs.
public struct RTPPortRange: Hashable, Sendable, CustomStringConvertible {
    /// First port (always even).
    public let lowerBound: Int
    /// Last port (always odd).
    public let upperBound: Int

    /// The product's default, 20000–39999.
    public static let `default` = try! RTPPortRange(20000, 39999)

    /// A range of whole RTP/RTCP pairs within `lower...upper`.
    public init(_ lower: Int, _ upper: Int) throws(MediaEngineError) {
        guard (1024...65535).contains(lower), (1024...65535).contains(upper) else {
            throw .invalidPortRange("ports must be between 1024 and 65535")
        }
        guard lower < upper else { throw .invalidPortRange("the first port must be below the last") }
        let first = lower % 2 == 0 ? lower : lower + 1
        let last = upper % 2 == 1 ? upper : upper - 1
        guard last > first else { throw .invalidPortRange("the range must hold at least one even/odd port pair") }
        lowerBound = first
        upperBound = last
    }

    /// Parses `A-B`, e.g. `20000-39999`.
    public init(parsing text: String) throws(MediaEngineError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let a = Int(parts[0].trimmingSpaces), let b = Int(parts[1].trimmingSpaces)
        else { throw .invalidPortRange("expected FIRST-LAST, e.g. 20000-39999, got '\(text)'") }
        try self.init(a, b)
    }

    /// Number of RTP/RTCP pairs.
    public var pairCount: Int { (upperBound - lowerBound + 1) / 2 }

    /// Splits the range into `count` disjoint slices of whole pairs, one per worker.
    public func slices(_ count: Int) -> [RTPPortRange] {
        precondition(count > 0)
        let per = pairCount / count
        guard per > 0 else { return [self] }
        return (0..<count).map { i in
            let first = lowerBound + i * per * 2
            let last = i == count - 1 ? upperBound : first + per * 2 - 1
            return try! RTPPortRange(first, last)
        }
    }

    public var description: String { "\(lowerBound)-\(upperBound)" }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
