import Foundation

/// One media worker's load, as the system status shows it (the executable copies it from the engine, so that
/// AdminAPI does not depend on MediaEngine).
public struct MediaWorkerLoadInfo: Sendable, Equatable, Encodable {
    public var index: Int
    public var sessions: Int
    public var legs: Int
    public var packetsIn: UInt64
    public var packetsOut: UInt64
    public var packetsDropped: UInt64
    /// Share of wall time spent handling events over the last load window (0…1).
    public var busyFraction: Double
    /// The CPU the worker is pinned to, or nil.
    public var cpu: Int?

    public init(index: Int, sessions: Int, legs: Int, packetsIn: UInt64, packetsOut: UInt64, packetsDropped: UInt64,
                busyFraction: Double, cpu: Int?) {
        self.index = index
        self.sessions = sessions
        self.legs = legs
        self.packetsIn = packetsIn
        self.packetsOut = packetsOut
        self.packetsDropped = packetsDropped
        self.busyFraction = busyFraction
        self.cpu = cpu
    }

    enum CodingKeys: String, CodingKey {
        case index, sessions, legs, cpu
        case packetsIn = "packets_in", packetsOut = "packets_out", packetsDropped = "packets_dropped"
        case busyFraction = "busy_fraction"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(sessions, forKey: .sessions)
        try c.encode(legs, forKey: .legs)
        try c.encode(packetsIn, forKey: .packetsIn)
        try c.encode(packetsOut, forKey: .packetsOut)
        try c.encode(packetsDropped, forKey: .packetsDropped)
        try c.encode(busyFraction, forKey: .busyFraction)
        try c.encode(cpu, forKey: .cpu)  // null when not pinned
    }
}
