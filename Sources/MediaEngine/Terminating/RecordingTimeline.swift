import Codecs

/// Places the two legs' timestamped frames on one timeline and produces the file's samples (writer thread).
///
/// Each leg has a cursor (samples written for it so far, at the recording rate). A frame stamped at time `t` belongs
/// at position `p = (t − origin) × rate`. Frames are written back to back at the leg's cursor, which absorbs arrival
/// jitter; only when `p` is more than `gapTolerance` past the cursor (the leg was silent: hold, DTX, loss, a late
/// start) is the gap filled with zeros first, and a frame whose `p` is more than `lateLimit` behind the cursor (a
/// sender clock running fast) is dropped so the legs cannot drift apart. A leg that sends nothing at all is
/// zero-filled so that it never trails the other by more than `maxSkew`; output is produced up to the position both
/// legs have reached. Stereo interleaves leg 0 (left) and leg 1 (right); mono sums them with saturation.
///
/// The alignment window is `maxSkew` (200 ms): one leg's frames may reach the writer up to that much after the other
/// leg's frames for the same time (bursty packetisation, jitter) and are still placed exactly. A leg later than that
/// was taken for silent; its frames are then placed at most `lateLimit` (250 ms) after their time, or dropped.
///
/// Pausing skips time: a frame from a new pause epoch re-bases the clock so that it lands right after the furthest
/// leg, and the paused interval is not in the file.
///
/// Frames at another rate than the recording's go through a per-leg `Resampler` (made on first use; allocation is
/// fine on the writer thread). Rates the resampler does not support are dropped and counted. Not thread-safe.
final class RecordingTimeline {
    let mode: RecordingMode
    let sampleRate: Int
    /// Jitter absorbed before a gap is zero-filled (samples).
    let gapTolerance: Int
    /// How far ahead of real time a leg may run before its frames are dropped (samples).
    let lateLimit: Int
    /// How far a silent leg may trail the other before it is zero-filled (samples).
    let maxSkew: Int
    /// Per-leg staging capacity in samples; staged samples start at `committed`.
    let capacity: Int

    private let staging: [UnsafeMutablePointer<Int16>]
    private let output: UnsafeMutablePointer<Int16>
    private let outputCapacity: Int
    private let scratch: UnsafeMutablePointer<Int16>
    private let scratchCapacity = 8192
    private var resamplers: [Resampler?] = [nil, nil]

    /// Absolute positions (samples at `sampleRate`).
    private(set) var cursors: [Int] = [0, 0]
    /// Sample frames already handed to the sink.
    private(set) var committed = 0
    /// Frames dropped because they arrived more than `lateLimit` behind their leg's cursor.
    private(set) var droppedLate = 0
    /// Frames dropped because their rate cannot be converted.
    private(set) var droppedRate = 0

    private var origin: UInt64?
    /// Nanoseconds of paused time removed from the clock so far.
    private var pausedNanoseconds: UInt64 = 0
    private var epoch: Int32 = 0

    init(mode: RecordingMode, sampleRate: Int, gapToleranceMilliseconds: Int = 60, lateLimitMilliseconds: Int = 250,
         maxSkewMilliseconds: Int = 200, capacityMilliseconds: Int = 2000) {
        self.mode = mode
        self.sampleRate = sampleRate
        gapTolerance = gapToleranceMilliseconds * sampleRate / 1000
        lateLimit = lateLimitMilliseconds * sampleRate / 1000
        maxSkew = maxSkewMilliseconds * sampleRate / 1000
        let size = max(capacityMilliseconds * sampleRate / 1000, maxSkew * 2 + 1)
        capacity = size
        staging = (0..<2).map { _ in
            let buffer = UnsafeMutablePointer<Int16>.allocate(capacity: size)
            buffer.initialize(repeating: 0, count: size)
            return buffer
        }
        outputCapacity = 4096
        output = .allocate(capacity: outputCapacity * 2)
        scratch = .allocate(capacity: scratchCapacity)
    }

    deinit {
        for buffer in staging { buffer.deallocate() }
        output.deallocate()
        scratch.deallocate()
    }

    /// Sample frames in the file once `finish` has run: the furthest leg's position.
    var duration: Int { max(cursors[0], cursors[1]) }

    /// Places one frame and hands any completed output to `sink`.
    func place(leg: Int, samples: UnsafeBufferPointer<Int16>, sampleRate rate: Int, epoch frameEpoch: Int32,
               nanoseconds: UInt64, sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void) throws(WAVError) {
        guard leg == 0 || leg == 1 else { return }
        if frameEpoch < epoch { return }
        // Position from the (pause-adjusted) clock.
        if origin == nil { origin = nanoseconds }
        if frameEpoch > epoch {
            // First frame after a resume: continue right after the furthest leg, skipping the paused time.
            epoch = frameEpoch
            let resumeAt = UInt64(max(cursors[0], cursors[1])) * 1_000_000_000 / UInt64(sampleRate)
            let elapsed = nanoseconds &- origin! &- pausedNanoseconds
            if elapsed > resumeAt { pausedNanoseconds &+= elapsed - resumeAt }
        }
        let elapsed = nanoseconds >= origin! &+ pausedNanoseconds ? nanoseconds - origin! - pausedNanoseconds : 0
        let position = Int(elapsed / 1000 * UInt64(sampleRate) / 1_000_000)

        if position > cursors[leg] + gapTolerance {
            try fill(leg: leg, upTo: position, from: nil, sink: sink)
        } else if cursors[leg] > position + lateLimit {
            droppedLate += 1
            return
        }
        if rate == sampleRate {
            try fill(leg: leg, upTo: cursors[leg] + samples.count, from: samples, sink: sink)
        } else {
            guard let resampler = resampler(leg: leg, from: rate) else {
                droppedRate += 1
                return
            }
            // Pieces small enough that the converted output always fits the scratch buffer (ratio ≤ 6).
            var start = 0
            while start < samples.count {
                let end = min(samples.count, start + 1024)
                let n = resampler.process(UnsafeBufferPointer(rebasing: samples[start..<end]),
                                          into: UnsafeMutableBufferPointer(start: scratch, count: scratchCapacity))
                try fill(leg: leg, upTo: cursors[leg] + n, from: UnsafeBufferPointer(start: scratch, count: n),
                         sink: sink)
                start = end
            }
        }
        try keepUp(with: leg, sink: sink)
        try commit(sink: sink)
    }

    /// Zero-fills the shorter leg to the longer one and hands out everything left.
    func finish(sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void) throws(WAVError) {
        let end = max(cursors[0], cursors[1])
        for leg in 0..<2 where cursors[leg] < end {
            try fill(leg: leg, upTo: end, from: nil, sink: sink)
        }
        try commit(sink: sink)
    }

    /// Appends to `leg` up to absolute position `target`: `source` samples, or zeros when `source` is nil. Commits
    /// (zero-filling the other leg as needed) whenever the leg's staging buffer is full.
    private func fill(leg: Int, upTo target: Int, from source: UnsafeBufferPointer<Int16>?,
                      sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void) throws(WAVError) {
        var done = 0
        while cursors[leg] < target {
            let space = capacity - (cursors[leg] - committed)
            if space <= 0 {
                try keepUp(with: leg, sink: sink)
                try commit(sink: sink)
                continue
            }
            let n = min(space, target - cursors[leg])
            let destination = staging[leg] + (cursors[leg] - committed)
            if let source, let base = source.baseAddress {
                destination.update(from: base + done, count: n)
            } else {
                destination.update(repeating: 0, count: n)
            }
            cursors[leg] += n
            done += n
        }
    }

    /// Zero-fills the other leg so it trails `leg` by at most `maxSkew`.
    private func keepUp(with leg: Int, sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void) throws(WAVError) {
        let other = 1 - leg
        let floor = cursors[leg] - maxSkew
        if cursors[other] < floor {
            let n = floor - cursors[other]
            (staging[other] + (cursors[other] - committed)).update(repeating: 0, count: n)
            cursors[other] = floor
        }
    }

    /// Hands out the samples both legs have reached, and shifts the staging buffers.
    private func commit(sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void) throws(WAVError) {
        let target = min(cursors[0], cursors[1])
        var done = 0
        let total = target - committed
        guard total > 0 else { return }
        let left = staging[0], right = staging[1]
        while done < total {
            let n = min(outputCapacity, total - done)
            switch mode {
            case .stereo:
                for i in 0..<n {
                    output[2 * i] = left[done + i]
                    output[2 * i + 1] = right[done + i]
                }
                try sink(UnsafeBufferPointer(start: output, count: 2 * n))
            case .mono:
                for i in 0..<n {
                    let sum = Int32(left[done + i]) + Int32(right[done + i])
                    output[i] = Int16(clamping: sum)
                }
                try sink(UnsafeBufferPointer(start: output, count: n))
            }
            done += n
        }
        for leg in 0..<2 {
            let remaining = cursors[leg] - target
            if remaining > 0 { staging[leg].update(from: staging[leg] + total, count: remaining) }
        }
        committed = target
    }

    private func resampler(leg: Int, from rate: Int) -> Resampler? {
        if let existing = resamplers[leg], existing.inputRate == rate { return existing }
        guard let made = try? Resampler(inputRate: rate, outputRate: sampleRate) else { return nil }
        resamplers[leg] = made
        return made
    }
}
