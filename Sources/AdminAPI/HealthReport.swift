import Hummingbird

/// The body of `GET /health`.
public struct HealthReport: ResponseEncodable, Decodable, Sendable, Equatable {
    public var status: String
    public var version: String
    public var uptimeSeconds: Double
    /// The allocator the server process runs on, e.g. "jemalloc 5.3.0-0-g…", or "system".
    public var allocator: String

    public init(status: String = "ok", version: String, uptimeSeconds: Double, allocator: String) {
        self.status = status
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.allocator = allocator
    }

    enum CodingKeys: String, CodingKey {
        case status, version, allocator
        case uptimeSeconds = "uptime_seconds"
    }
}
