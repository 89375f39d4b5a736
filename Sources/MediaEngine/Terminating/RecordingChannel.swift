import Synchronization
import TandemBase

/// The worker-side handle of one recording: a preallocated single-producer single-consumer ring of PCM frames from
/// the media worker to the `RecordingWriter` thread, plus the recording's state.
///
/// Threads: `write` from exactly one thread at a time (the worker that owns the call's legs); `pause`, `resume`
/// and `stop` from any thread (they only flip atomics and wake the writer); the writer thread consumes.
/// `write` never allocates, locks, blocks or makes a system call (unless the caller omits the timestamp, in which
/// case it reads CLOCK_MONOTONIC through the vDSO): when the ring is full it counts an overrun and drops the frame.
///
/// Each frame carries its leg, sample rate and a monotonic timestamp; the writer places frames on the recording's
/// timeline by those timestamps (see `RecordingTimeline`), so a leg that sends nothing is recorded as silence and
/// the two legs stay aligned without the worker having to write both legs every tick.
public final class RecordingChannel: @unchecked Sendable {
    /// Identifies the recording in events.
    public let id: Int
    /// The file being written.
    public let path: String
    /// The recording's options.
    public let options: RecordingOptions

    /// Samples per ring slot; longer frames take several slots.
    let slotCapacity: Int
    private let slotMask: Int
    private let samples: UnsafeMutablePointer<Int16>
    private let headers: UnsafeMutablePointer<FrameHeader>
    /// Next slot the writer reads (written by the writer only).
    private let head = Atomic<Int>(0)
    /// Next slot the worker fills (written by the worker only).
    private let tail = Atomic<Int>(0)
    /// `State` raw value.
    private let stateValue = Atomic<Int>(State.recording.rawValue)
    /// Incremented by every `resume`; frames carry it so the writer can close the paused gap.
    private let epochValue = Atomic<Int>(0)
    private let overrunCount = Atomic<Int>(0)
    private let frameCount = Atomic<Int>(0)
    /// Wakes the writer on `stop` (weak so a channel kept by a worker does not keep the writer alive).
    weak var writer: RecordingWriter?

    /// Life-cycle state, shared by the worker, the control side and the writer.
    enum State: Int {
        case recording = 0
        case paused = 1
        /// `stop()` was called; the writer drains the ring, finalises the file and moves to `finished`.
        case stopping = 2
        /// Finalised or failed: frames are ignored.
        case finished = 3
    }

    /// One frame's metadata in the ring.
    struct FrameHeader {
        var leg: Int32 = 0
        var count: Int32 = 0
        var sampleRate: Int32 = 0
        var epoch: Int32 = 0
        var nanoseconds: UInt64 = 0
    }

    /// A channel whose ring holds about `options.bufferMilliseconds` of audio. Allocates the ring once.
    init(id: Int, path: String, options: RecordingOptions) {
        self.id = id
        self.path = path
        self.options = options
        // One slot holds 20 ms at the recording rate; frames at a higher input rate simply use more slots.
        slotCapacity = max(160, options.sampleRate / 50)
        let wanted = max(8, options.bufferMilliseconds / 20)
        var slots = 8
        while slots < wanted { slots <<= 1 }
        slotMask = slots - 1
        samples = .allocate(capacity: slots * slotCapacity)
        samples.initialize(repeating: 0, count: slots * slotCapacity)
        headers = .allocate(capacity: slots)
        headers.initialize(repeating: FrameHeader(), count: slots)
    }

    deinit {
        samples.deallocate()
        headers.deallocate()
    }

    /// Ring slots (a power of two).
    public var slotCount: Int { slotMask + 1 }
    /// Frames dropped because the ring was full (the writer fell behind). Any thread.
    public var overruns: Int { overrunCount.load(ordering: .relaxed) }
    /// Frames accepted into the ring. Any thread.
    public var framesWritten: Int { frameCount.load(ordering: .relaxed) }
    /// Whether frames are being taken (not paused, stopped, finished or failed). Any thread.
    public var isRecording: Bool { state == .recording }
    /// Whether the recording has been finalised or has failed. Any thread.
    public var isFinished: Bool { state == .finished }

    var state: State { State(rawValue: stateValue.load(ordering: .acquiring)) ?? .finished }

    // MARK: - Worker side

    /// Queues one frame of `leg` (0 = A, 1 = B) captured at `time`. Worker thread; no allocation, lock or block.
    ///
    /// `pcm` is mono linear PCM at `sampleRate` (8–48 kHz, typically 10 or 20 ms); the caller keeps the buffer.
    /// Ignored (returns false) while paused or after stop; a frame that does not fit in the ring is dropped whole
    /// and counted in `overruns` (returns false).
    @discardableResult
    public func write(leg: Int, pcm: UnsafeBufferPointer<Int16>, sampleRate: Int, at time: Instant) -> Bool {
        guard stateValue.load(ordering: .relaxed) == State.recording.rawValue else { return false }
        guard leg == 0 || leg == 1, sampleRate > 0, sampleRate <= 192_000, let source = pcm.baseAddress,
              pcm.count > 0 else { return false }
        let needed = (pcm.count + slotCapacity - 1) / slotCapacity
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        guard slotCount - (t &- h) >= needed else {
            overrunCount.wrappingAdd(1, ordering: .relaxed)
            return false
        }
        let epoch = Int32(truncatingIfNeeded: epochValue.load(ordering: .relaxed))
        var offset = 0
        var slot = t
        while offset < pcm.count {
            let n = min(slotCapacity, pcm.count - offset)
            let index = slot & slotMask
            (samples + index * slotCapacity).update(from: source + offset, count: n)
            // Later pieces of a long frame start later by the samples before them.
            let shift = UInt64(offset) * 1_000_000_000 / UInt64(sampleRate)
            headers[index] = FrameHeader(leg: Int32(leg), count: Int32(n), sampleRate: Int32(sampleRate),
                                         epoch: epoch, nanoseconds: time.nanoseconds &+ shift)
            offset += n
            slot &+= 1
        }
        tail.store(slot, ordering: .releasing)
        frameCount.wrappingAdd(1, ordering: .relaxed)
        return true
    }

    /// Queues one frame stamped with the current monotonic time. Worker thread; no allocation, lock or block.
    @discardableResult
    public func write(leg: Int, pcm: UnsafeBufferPointer<Int16>, sampleRate: Int) -> Bool {
        write(leg: leg, pcm: pcm, sampleRate: sampleRate, at: MonotonicClock().now())
    }

    /// A per-leg adapter with the shape of `AudioPipeline`'s `PipelineTap` (`decoded(_:sampleRate:)`), to hang on
    /// the leg's pipeline: every decoded frame of that leg goes into this recording. Control side (allocates once).
    public func tap(leg: Int) -> RecordingLegTap {
        RecordingLegTap(channel: self, leg: leg)
    }

    // MARK: - Control side

    /// Stops taking frames until `resume()`. Paused time is skipped, not written as silence: the audio after
    /// `resume()` follows the audio before `pause()` directly (as rtpengine does). Any thread.
    public func pause() {
        _ = stateValue.compareExchange(expected: State.recording.rawValue, desired: State.paused.rawValue,
                                       ordering: .acquiringAndReleasing)
    }

    /// Takes frames again after `pause()`. Any thread.
    public func resume() {
        // The epoch changes before frames are taken again, so every post-resume frame carries the new one.
        epochValue.wrappingAdd(1, ordering: .relaxed)
        _ = stateValue.compareExchange(expected: State.paused.rawValue, desired: State.recording.rawValue,
                                       ordering: .acquiringAndReleasing)
    }

    /// Stops the recording: frames already queued are written, the header is finalised and the writer reports
    /// `.stopped`. Calling it again, or after a failure, does nothing. Any thread.
    public func stop() {
        var current = stateValue.load(ordering: .acquiring)
        while current == State.recording.rawValue || current == State.paused.rawValue {
            let (exchanged, original) = stateValue.compareExchange(
                expected: current, desired: State.stopping.rawValue, ordering: .acquiringAndReleasing)
            if exchanged {
                writer?.wake()
                return
            }
            current = original
        }
    }

    // MARK: - Writer side

    /// Marks the recording finished (writer thread, after finalising or failing).
    func markFinished() {
        stateValue.store(State.finished.rawValue, ordering: .releasing)
    }

    /// Hands every queued frame to `body` in order, then frees the slots. Writer thread only.
    func drain(_ body: (FrameHeader, UnsafeBufferPointer<Int16>) -> Void) {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var slot = h
        while slot != t {
            let index = slot & slotMask
            let header = headers[index]
            body(header, UnsafeBufferPointer(start: samples + index * slotCapacity, count: Int(header.count)))
            slot &+= 1
        }
        head.store(t, ordering: .releasing)
    }
}

/// Feeds one leg's decoded frames into a `RecordingChannel`, stamped with the monotonic clock. Worker thread; the
/// call does not allocate, lock or block. Made by `RecordingChannel.tap(leg:)`.
public final class RecordingLegTap {
    /// The recording fed.
    public let channel: RecordingChannel
    /// 0 (A, left) or 1 (B, right).
    public let leg: Int

    init(channel: RecordingChannel, leg: Int) {
        self.channel = channel
        self.leg = leg
    }

    /// One decoded frame of `pcm.count` mono samples at `sampleRate` Hz.
    public func decoded(_ pcm: UnsafeBufferPointer<Int16>, sampleRate: Int) {
        channel.write(leg: leg, pcm: pcm, sampleRate: sampleRate)
    }
}
