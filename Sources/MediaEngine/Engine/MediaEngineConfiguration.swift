/// How a `MediaEngine` runs: workers, ports, addresses and timeouts.
public struct MediaEngineConfiguration: Sendable {
    /// Worker threads, one per core by default.
    public var workerCount: Int
    /// The UDP ports for RTP/RTCP pairs; split into one slice per worker.
    public var portRange: RTPPortRange
    /// Numeric IPv4 address IPv4 legs bind to.
    public var bindAddress: String
    /// Address put in LegInfo for IPv4 legs; differs from `bindAddress` behind 1:1 NAT. Nil: the bound one.
    public var advertisedAddress: String?
    /// Numeric IPv6 address IPv6 legs bind to.
    public var bindAddressIPv6: String
    /// Advertised address for IPv6 legs. Nil: the bound one.
    public var advertisedAddressIPv6: String?
    /// A leg not on hold that receives no RTP for this long gets one `mediaTimeout` event.
    public var mediaTimeout: Duration
    /// Whether each worker pins itself to one CPU.
    public var pinsWorkers: Bool
    /// Packets in a row needed from a new source before a strict leg re-latches to it.
    public var relatchThreshold: Int
    /// The worker's housekeeping tick (timeouts); 10 ms by design.
    public var tickInterval: Duration
    /// The window over which `WorkerLoad.busyFraction` is measured (checked once per tick).
    public var loadWindow: Duration

    /// The defaults: one worker per CPU, 20000–39999, all addresses, 120 s media timeout, pinned.
    public init(
        workerCount: Int = HostCPU.availableCount,
        portRange: RTPPortRange = .default,
        bindAddress: String = "0.0.0.0",
        advertisedAddress: String? = nil,
        bindAddressIPv6: String = "::",
        advertisedAddressIPv6: String? = nil,
        mediaTimeout: Duration = .seconds(120),
        pinsWorkers: Bool = true,
        relatchThreshold: Int = 5,
        tickInterval: Duration = .milliseconds(10),
        loadWindow: Duration = .seconds(1)
    ) {
        self.workerCount = workerCount
        self.portRange = portRange
        self.bindAddress = bindAddress
        self.advertisedAddress = advertisedAddress
        self.bindAddressIPv6 = bindAddressIPv6
        self.advertisedAddressIPv6 = advertisedAddressIPv6
        self.mediaTimeout = mediaTimeout
        self.pinsWorkers = pinsWorkers
        self.relatchThreshold = relatchThreshold
        self.tickInterval = tickInterval
        self.loadWindow = loadWindow
    }
}
