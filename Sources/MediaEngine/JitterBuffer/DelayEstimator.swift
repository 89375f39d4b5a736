/// Estimates the target playout delay from packet arrival times (NetEq's relative-delay approach).
///
/// For each packet, `d = arrival − send time` (send time from the RTP timestamp). The relative delay is
/// `d − min(d)` over a sliding window of a few seconds, so clock offset and slow drift cancel out. A histogram of
/// relative delays with exponential forgetting gives a high quantile; that plus half a frame of pull quantisation
/// is the target. A peak detector keeps the target above recent delay spikes while they recur. All storage is
/// allocated in `init`; `update` is O(bucket count) with no allocation. One thread.
public final class DelayEstimator {
    /// Width of one histogram bucket, in milliseconds.
    public static let bucketMs = 10
    /// Length of one minimum-tracking segment, in microseconds; the base window spans `segmentCount` of them.
    static let segmentMicroseconds: Int64 = 1_000_000
    static let segmentCount = 4
    /// A relative delay this far above the histogram target is a peak (NetEq DelayPeakDetector: ~2–3 frames).
    static let peakThresholdMicroseconds: Int64 = 60_000
    /// Peaks older than this are forgotten, in microseconds.
    static let peakWindowMicroseconds: Int64 = 12_000_000
    static let peakSlots = 8

    /// Quantile of the relative-delay distribution the target covers.
    public let quantile: Double
    /// Per-packet forgetting factor of the histogram (0.998 ≈ 10 s memory at 50 packets/s).
    public let forgettingFactor: Double
    /// Bounds of the target, in microseconds.
    public let minimumMicroseconds: Int64, maximumMicroseconds: Int64
    /// Frame duration in microseconds (margin for the pull quantisation).
    public let frameMicroseconds: Int64

    /// The current target playout delay relative to the fastest recent packet, in microseconds.
    public private(set) var targetMicroseconds: Int64
    /// The target from the histogram alone, without peak mode, in microseconds.
    public private(set) var histogramTargetMicroseconds: Int64
    /// Whether recurring delay peaks currently hold the target up.
    public private(set) var isInPeakMode = false
    /// Packets seen since creation.
    public private(set) var packetCount = 0

    private let bucketCount: Int
    private let histogram: UnsafeMutablePointer<Double>
    private var segmentMins: (Int64, Int64, Int64, Int64) = (.max, .max, .max, .max)
    private var segmentIndex = 0
    private var segmentStart: Int64 = 0
    private var hasBase = false
    private let peakTimes: UnsafeMutablePointer<Int64>
    private let peakHeights: UnsafeMutablePointer<Int64>
    private var peakNext = 0

    /// An estimator for frames of `frameMs`, bounding the target to `minimumMs...maximumMs`. Allocates once.
    public init(frameMs: Int, minimumMs: Int, maximumMs: Int, quantile: Double = 0.97, forgettingFactor: Double = 0.998) {
        self.quantile = quantile
        self.forgettingFactor = forgettingFactor
        frameMicroseconds = Int64(frameMs) * 1000
        minimumMicroseconds = Int64(minimumMs) * 1000
        maximumMicroseconds = Int64(max(minimumMs, maximumMs)) * 1000
        bucketCount = max(2, maximumMs / Self.bucketMs + 1)
        histogram = .allocate(capacity: bucketCount)
        histogram.initialize(repeating: 0, count: bucketCount)
        peakTimes = .allocate(capacity: Self.peakSlots)
        peakTimes.initialize(repeating: .min, count: Self.peakSlots)
        peakHeights = .allocate(capacity: Self.peakSlots)
        peakHeights.initialize(repeating: 0, count: Self.peakSlots)
        targetMicroseconds = max(minimumMicroseconds, frameMicroseconds)
        histogramTargetMicroseconds = targetMicroseconds
    }

    deinit {
        histogram.deallocate()
        peakTimes.deallocate()
        peakHeights.deallocate()
    }

    /// The minimum of `arrival − send time` over the window, in microseconds, or nil before the first packet.
    public var baseMicroseconds: Int64? {
        guard hasBase else { return nil }
        return min(min(segmentMins.0, segmentMins.1), min(segmentMins.2, segmentMins.3))
    }

    /// Forgets the base delay (timestamps restarted: SSRC change or jump); the histogram and peaks are kept,
    /// since the network path is the same.
    public func resetBase() {
        segmentMins = (.max, .max, .max, .max)
        hasBase = false
    }

    /// Feeds one packet's arrival and send times (both microseconds, any common origin per side); returns its
    /// relative delay in microseconds. O(bucket count), no allocation.
    @discardableResult
    public func update(arrivalMicroseconds arrival: Int64, sendMicroseconds send: Int64) -> Int64 {
        let d = arrival - send
        if !hasBase {
            hasBase = true
            segmentStart = arrival
            segmentIndex = 0
            segmentMins = (d, .max, .max, .max)
        } else {
            // Rotate segments so the window covers the last segmentCount × segmentMicroseconds.
            var rotations = 0
            while arrival - segmentStart >= Self.segmentMicroseconds && rotations < Self.segmentCount {
                segmentStart += Self.segmentMicroseconds
                segmentIndex = (segmentIndex + 1) % Self.segmentCount
                setSegment(segmentIndex, .max)
                rotations += 1
            }
            if arrival - segmentStart >= Self.segmentMicroseconds { segmentStart = arrival }
            if d < segment(segmentIndex) { setSegment(segmentIndex, d) }
        }
        let base = baseMicroseconds ?? d
        let relative = max(0, d - base)

        // Histogram with forgetting; during start-up weigh all packets equally so a few samples do not dominate.
        packetCount += 1
        let f = min(forgettingFactor, 1 - 1 / Double(packetCount))
        let bucket = min(Int(relative / Int64(Self.bucketMs * 1000)), bucketCount - 1)
        for i in 0..<bucketCount { histogram[i] *= f }
        histogram[bucket] += 1 - f

        var cumulative = 0.0
        var q = bucketCount - 1
        for i in 0..<bucketCount {
            cumulative += histogram[i]
            if cumulative >= quantile { q = i; break }
        }
        // Upper edge of the quantile bucket plus half a frame: a packet is on time if it arrives before the pull.
        let fromHistogram = Int64(q + 1) * Int64(Self.bucketMs * 1000) + frameMicroseconds / 2
        histogramTargetMicroseconds = clamp(fromHistogram)

        // Peak detection: a delay well above the normal target. Samples of one burst (within a second of the
        // previous peak) merge into one peak; two distinct recent peaks hold the target up (peak mode).
        if relative > histogramTargetMicroseconds + Self.peakThresholdMicroseconds {
            let last = (peakNext + Self.peakSlots - 1) % Self.peakSlots
            if peakTimes[last] != .min && arrival - peakTimes[last] < 1_000_000 {
                peakHeights[last] = max(peakHeights[last], relative)
            } else {
                peakTimes[peakNext] = arrival
                peakHeights[peakNext] = relative
                peakNext = (peakNext + 1) % Self.peakSlots
            }
        }
        var recentPeaks = 0
        var highest: Int64 = 0
        for i in 0..<Self.peakSlots where peakTimes[i] != .min && arrival - peakTimes[i] <= Self.peakWindowMicroseconds {
            recentPeaks += 1
            highest = max(highest, peakHeights[i])
        }
        isInPeakMode = recentPeaks >= 2
        targetMicroseconds = isInPeakMode ? clamp(max(histogramTargetMicroseconds, highest + frameMicroseconds / 2)) : histogramTargetMicroseconds
        return relative
    }

    private func clamp(_ v: Int64) -> Int64 { min(max(v, minimumMicroseconds), maximumMicroseconds) }

    private func segment(_ i: Int) -> Int64 {
        switch i {
        case 0: segmentMins.0
        case 1: segmentMins.1
        case 2: segmentMins.2
        default: segmentMins.3
        }
    }

    private func setSegment(_ i: Int, _ v: Int64) {
        switch i {
        case 0: segmentMins.0 = v
        case 1: segmentMins.1 = v
        case 2: segmentMins.2 = v
        default: segmentMins.3 = v
        }
    }
}
