#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
import TandemBase

/// Writes every call recording of the process from one background thread, so that disk latency never reaches a
/// media worker.
///
/// `start` (control side) creates the file, writes its header and returns the `RecordingChannel` the worker feeds.
/// The writer thread wakes every `drainInterval` (and at once on `stop`/`shutdown`), empties each channel's ring,
/// lays the frames out with `RecordingTimeline` and appends them with `WAVWriter`. About every `headerInterval` it
/// patches each file's RIFF and `data` sizes, so a crash or kill leaves a file that plays up to that point (and
/// `WAVFile` reads even the bytes after it). A write error (full disk, I/O error) ends only that recording: its
/// header is patched for the last good write if possible, `.failed` is reported, and the others go on.
///
/// Events (`.started`, `.stopped`, `.failed`) are queued for `drainEvents()`/`waitForEvents(timeout:)` and passed to
/// the optional `onEvent` handler, which runs on the writer thread (`.started`: on the thread calling `start`); keep
/// it short, e.g. signal an eventfd.
///
/// `shutdown()` (SIGTERM, or when the engine stops) stops every recording, finalises every file and joins the
/// thread. It must be called: the running thread keeps the writer alive.
///
/// Limits: one thread does all the writing, so a disk that stalls for longer than a recording's ring
/// (`RecordingOptions.bufferMilliseconds`) costs every recording frames (counted as overruns), never a worker's time.
public final class RecordingWriter: @unchecked Sendable {
    /// How often the thread empties the rings.
    public let drainInterval: Duration
    /// How often each file's header sizes are patched.
    public let headerInterval: Duration

    private let monitor = Monitor()
    private let onEvent: (@Sendable (RecordingEvent) -> Void)?
    // Guarded by `monitor`.
    private var pending: [(RecordingChannel, WAVWriter)] = []
    private var events: [RecordingEvent] = []
    private var isRunning = true
    private var nextID = 1
    private var thread: pthread_t?
    // Writer thread only.
    private var active: [Recording] = []

    /// One open recording on the writer thread.
    private final class Recording {
        let channel: RecordingChannel
        let file: WAVWriter
        let timeline: RecordingTimeline
        var lastPatch: Instant

        init(channel: RecordingChannel, file: WAVWriter, now: Instant) {
            self.channel = channel
            self.file = file
            self.timeline = RecordingTimeline(mode: channel.options.mode, sampleRate: channel.options.sampleRate)
            self.lastPatch = now
        }
    }

    /// Starts the writer thread.
    public init(drainInterval: Duration = .milliseconds(20), headerInterval: Duration = .seconds(1),
                onEvent: (@Sendable (RecordingEvent) -> Void)? = nil) throws(RecordingError) {
        self.drainInterval = drainInterval
        self.headerInterval = headerInterval
        self.onEvent = onEvent
        let box = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<RecordingWriter>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<RecordingWriter>.fromOpaque(box).release()
            throw .threadStartFailed(errno: rc)
        }
        thread = handle
    }

    // MARK: - Control side

    /// Creates (or truncates) the file at `path` and starts recording into it. Control side: blocking `open` and a
    /// header write; allocates the channel's ring. Throws if the file cannot be created or the options are invalid.
    public func start(path: String, options: RecordingOptions = RecordingOptions()) throws(RecordingError)
        -> RecordingChannel {
        // Checked before the file is created, so bad options leave nothing behind.
        guard Self.areValid(options) else { throw .invalidOptions }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(errno: errno) }
        return try start(fileDescriptor: descriptor, path: path, options: options)
    }

    /// Starts recording into an open, writable `fileDescriptor` (which the recording then owns and closes); `path` is
    /// only reported in events. Control side.
    public func start(fileDescriptor: Int32, path: String, options: RecordingOptions = RecordingOptions())
        throws(RecordingError) -> RecordingChannel {
        guard Self.areValid(options) else {
            close(fileDescriptor)
            throw .invalidOptions
        }
        let format = WAVFormat(encoding: options.encoding, sampleRate: options.sampleRate,
                               channels: options.mode.channels)
        let file: WAVWriter
        do {
            file = try WAVWriter(fileDescriptor: fileDescriptor, format: format, closesDescriptor: true)
        } catch {
            if case .io(let code) = error { throw .io(errno: code) }
            throw .invalidOptions
        }
        let channel: RecordingChannel? = monitor.withLock {
            guard isRunning else { return nil }
            let made = RecordingChannel(id: nextID, path: path, options: options)
            nextID += 1
            made.writer = self
            pending.append((made, file))
            return made
        }
        guard let channel else {
            try? file.finish()
            throw .writerStopped
        }
        report(.started(id: channel.id, path: path))
        monitor.signal()
        return channel
    }

    /// Returns and clears the queued events. Any thread.
    public func drainEvents() -> [RecordingEvent] {
        monitor.withLock {
            let taken = events
            events = []
            return taken
        }
    }

    /// Waits until at least one event is queued or `timeout` passes, then returns and clears the queued events.
    /// Any thread except the writer's; blocks.
    public func waitForEvents(timeout: Duration) -> [RecordingEvent] {
        let deadline = MonotonicClock().now().adding(milliseconds: Self.milliseconds(timeout))
        return monitor.withLock {
            while events.isEmpty {
                let now = MonotonicClock().now()
                guard now < deadline else { break }
                monitor.wait(nanoseconds: deadline.nanoseconds - now.nanoseconds)
            }
            let taken = events
            events = []
            return taken
        }
    }

    /// Recordings the writer thread is serving. Any thread (a snapshot).
    public var activeCount: Int { monitor.withLock { activeSnapshot } }
    private var activeSnapshot = 0

    /// Stops every recording, finalises the files (each reported as `.stopped` or `.failed`), and joins the thread.
    /// Further `start` calls throw `.writerStopped`. Any thread but the writer's; blocks until done. Idempotent.
    public func shutdown() {
        let handle: pthread_t? = monitor.withLock {
            isRunning = false
            let t = thread
            thread = nil
            return t
        }
        monitor.signal()
        if let handle { pthread_join(handle, nil) }
    }

    /// Wakes the writer thread (a channel was stopped). Any thread.
    func wake() {
        monitor.signal()
    }

    // MARK: - Writer thread

    private func run() {
        var running = true
        while running {
            let (adopted, keepGoing) = monitor.withLock {
                if isRunning, pending.isEmpty, !active.contains(where: { $0.channel.state == .stopping }) {
                    monitor.wait(nanoseconds: UInt64(Self.milliseconds(drainInterval)) * 1_000_000)
                }
                let taken = (pending, isRunning)
                pending = []
                return taken
            }
            running = keepGoing
            let now = MonotonicClock().now()
            for (channel, file) in adopted {
                active.append(Recording(channel: channel, file: file, now: now))
            }
            var index = 0
            while index < active.count {
                let recording = active[index]
                if serve(recording, now: now, finishing: !running) {
                    index += 1
                } else {
                    active.remove(at: index)
                }
            }
            let count = active.count
            monitor.withLock { activeSnapshot = count }
        }
    }

    /// Drains one recording; finalises it when stopping. Returns false once it is finished.
    private func serve(_ recording: Recording, now: Instant, finishing: Bool) -> Bool {
        let channel = recording.channel
        // Read the state before draining: a stop seen here is honoured after the frames queued before it.
        let stopping = finishing || channel.state == .stopping
        var failure: WAVError?
        channel.drain { header, samples in
            guard failure == nil else { return }
            do throws(WAVError) {
                try recording.timeline.place(leg: Int(header.leg), samples: samples, sampleRate: Int(header.sampleRate),
                                             epoch: header.epoch, nanoseconds: header.nanoseconds) {
                    (output) throws(WAVError) in try recording.file.append(samples: output)
                }
            } catch {
                failure = error
            }
        }
        if failure == nil, stopping {
            do throws(WAVError) {
                try recording.timeline.finish { (output) throws(WAVError) in try recording.file.append(samples: output) }
                try recording.file.finish()
            } catch {
                failure = error
            }
            if failure == nil {
                channel.markFinished()
                let milliseconds = recording.timeline.committed * 1000 / channel.options.sampleRate
                report(.stopped(id: channel.id, path: channel.path, durationMilliseconds: milliseconds))
                return false
            }
        }
        if failure == nil, now.milliseconds(since: recording.lastPatch) >= Self.milliseconds(headerInterval) {
            recording.lastPatch = now
            do throws(WAVError) { try recording.file.updateHeader() } catch { failure = error }
        }
        guard let failure else { return true }
        // Cover the last good write if the header can still be written (it overwrites existing blocks, so it usually
        // can on a full disk), then close.
        channel.markFinished()
        try? recording.file.finish()
        let reason: RecordingFailure
        switch failure {
        case .io(let code): reason = .writeFailed(errno: code)
        default: reason = .fileTooLarge
        }
        report(.failed(id: channel.id, path: channel.path, reason: reason))
        return false
    }

    private func report(_ event: RecordingEvent) {
        monitor.withLock { events.append(event) }
        monitor.broadcast()
        onEvent?(event)
    }

    private static func areValid(_ options: RecordingOptions) -> Bool {
        Resampler.supportedRates.contains(options.sampleRate) && (1...60_000).contains(options.bufferMilliseconds)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// A pthread mutex and condition variable (the writer's wake-up and the event wait share it).
private final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (lock held) until signalled or `nanoseconds` pass.
    func wait(nanoseconds: UInt64) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = UInt64(now.tv_nsec) + nanoseconds % 1_000_000_000
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(nanoseconds / 1_000_000_000) + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    func signal() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func broadcast() { signal() }
}
