#if canImport(Glibc)
import Glibc
#endif
import Codecs
import Foundation
@testable import MediaEngine
import TandemBase
import Testing

@Suite struct RecordingTests {
    static let t0: UInt64 = 1_000_000_000_000

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-rec-\(getpid())-\(name).wav").path
    }

    /// `count` samples of a sine at `frequency`, starting at absolute sample `start` (phase-continuous across frames).
    static func sine(_ frequency: Double, rate: Int, start: Int, count: Int, amplitude: Double = 12000) -> [Int16] {
        (0..<count).map { Int16(amplitude * sin(2 * Double.pi * frequency * Double(start + $0) / Double(rate))) }
    }

    /// Relative power of `frequency` in `samples` (Goertzel), normalised by the signal's energy.
    static func power(_ samples: ArraySlice<Int16>, _ frequency: Double, rate: Int) -> Double {
        let w = 2 * Double.pi * frequency / Double(rate)
        let coefficient = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0, energy = 0.0
        for sample in samples {
            let x = Double(sample)
            let s = x + coefficient * s1 - s2
            s2 = s1
            s1 = s
            energy += x * x
        }
        let p = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        return energy > 0 ? p / (energy * Double(samples.count) / 2) : 0
    }

    /// Feeds `frames` 20 ms frames of `leg` starting at frame `from`, stamped on a 20 ms grid.
    static func feed(_ channel: RecordingChannel, leg: Int, frequency: Double, frames: Range<Int>, rate: Int = 8000,
                     timeShift: UInt64 = 0) {
        let size = rate / 50
        for frame in frames {
            let pcm = sine(frequency, rate: rate, start: frame * size, count: size)
            pcm.withUnsafeBufferPointer {
                _ = channel.write(leg: leg, pcm: $0, sampleRate: rate,
                                  at: Instant(nanoseconds: t0 + UInt64(frame) * 20_000_000 + timeShift))
            }
        }
    }

    /// Waits (bounded) for the recording's terminal event.
    static func awaitEnd(_ writer: RecordingWriter, id: Int) -> RecordingEvent? {
        let deadline = MonotonicClock().now().adding(milliseconds: 10_000)
        while MonotonicClock().now() < deadline {
            for event in writer.waitForEvents(timeout: .milliseconds(500)) {
                switch event {
                case .stopped(let eventID, _, _) where eventID == id: return event
                case .failed(let eventID, _, _) where eventID == id: return event
                default: continue
                }
            }
        }
        return nil
    }

    static func channel(_ samples: [Int16], _ index: Int, of channels: Int) -> [Int16] {
        stride(from: index, to: samples.count, by: channels).map { samples[$0] }
    }

    @Test func stereoFileHasOneLegPerChannelAlignedInTime() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("stereo")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(mode: .stereo, sampleRate: 8000,
                                                                                 bufferMilliseconds: 10_000))
        // Interleaved per tick, as a worker would: leg A 1 kHz, leg B 400 Hz, 100 ticks of 20 ms.
        for frame in 0..<100 {
            Self.feed(recording, leg: 0, frequency: 1000, frames: frame..<frame + 1)
            Self.feed(recording, leg: 1, frequency: 400, frames: frame..<frame + 1)
        }
        recording.stop()
        let end = Self.awaitEnd(writer, id: recording.id)
        #expect(end == .stopped(id: recording.id, path: path, durationMilliseconds: 2000))
        #expect(recording.overruns == 0 && recording.framesWritten == 200 && recording.isFinished)

        let file = try WAVFile(contentsOf: path)
        #expect(file.format == WAVFormat(encoding: .pcm16, sampleRate: 8000, channels: 2))
        let samples = file.samples()
        #expect(samples.count == 2 * 16000)
        let left = Self.channel(samples, 0, of: 2), right = Self.channel(samples, 1, of: 2)
        // Each channel holds its own leg, sample for sample.
        #expect(left == Self.sine(1000, rate: 8000, start: 0, count: 16000))
        #expect(right == Self.sine(400, rate: 8000, start: 0, count: 16000))
        #expect(Self.power(left[...], 1000, rate: 8000) > 0.9 && Self.power(left[...], 400, rate: 8000) < 0.01)
        #expect(Self.power(right[...], 400, rate: 8000) > 0.9 && Self.power(right[...], 1000, rate: 8000) < 0.01)
    }

    @Test func perLegTapsFeedTheirChannel() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("tap")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(bufferMilliseconds: 10_000))
        let a = recording.tap(leg: 0), b = recording.tap(leg: 1)
        let loud = [Int16](repeating: 5000, count: 160), quiet = [Int16](repeating: -7, count: 160)
        // Stamped with the real clock: frames written back to back land back to back.
        for _ in 0..<10 {
            loud.withUnsafeBufferPointer { a.decoded($0, sampleRate: 8000) }
            quiet.withUnsafeBufferPointer { b.decoded($0, sampleRate: 8000) }
        }
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 200))
        let samples = try WAVFile(contentsOf: path).samples()
        #expect(Self.channel(samples, 0, of: 2).allSatisfy { $0 == 5000 })
        #expect(Self.channel(samples, 1, of: 2).allSatisfy { $0 == -7 })
    }

    @Test func monoMixSumsTheLegsWithSaturation() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("mono")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(mode: .mono, sampleRate: 16000,
                                                                                 bufferMilliseconds: 10_000))
        for frame in 0..<10 {
            let a = [Int16](repeating: frame < 5 ? 1000 : 30000, count: 320)
            let b = [Int16](repeating: frame < 5 ? -300 : 30000, count: 320)
            let time = Instant(nanoseconds: Self.t0 + UInt64(frame) * 20_000_000)
            a.withUnsafeBufferPointer { _ = recording.write(leg: 0, pcm: $0, sampleRate: 16000, at: time) }
            b.withUnsafeBufferPointer { _ = recording.write(leg: 1, pcm: $0, sampleRate: 16000, at: time) }
        }
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 200))
        let samples = try WAVFile(contentsOf: path).samples()
        #expect(samples.count == 3200)
        #expect(samples[0..<1600].allSatisfy { $0 == 700 })
        #expect(samples[1600...].allSatisfy { $0 == Int16.max })
    }

    @Test func aLawRecordingsHoldTheEncodedLegs() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("alaw")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(mode: .stereo, sampleRate: 8000,
                                                                                 encoding: .aLaw,
                                                                                 bufferMilliseconds: 10_000))
        // Each leg in bursts of 100 ms (five frames), as a worker whose legs have 100 ms packets would write them:
        // within the 200 ms alignment window, so the legs still line up sample for sample.
        for burst in stride(from: 0, to: 25, by: 5) {
            Self.feed(recording, leg: 0, frequency: 1000, frames: burst..<burst + 5)
            Self.feed(recording, leg: 1, frequency: 400, frames: burst..<burst + 5)
        }
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 500))
        let file = try WAVFile(contentsOf: path)
        #expect(file.format == WAVFormat(encoding: .aLaw, sampleRate: 8000, channels: 2))
        let left = Self.sine(1000, rate: 8000, start: 0, count: 4000).map { G711.decodeALaw(G711.encodeALaw($0)) }
        let right = Self.sine(400, rate: 8000, start: 0, count: 4000).map { G711.decodeALaw(G711.encodeALaw($0)) }
        #expect(Self.channel(file.samples(), 0, of: 2) == left)
        #expect(Self.channel(file.samples(), 1, of: 2) == right)
    }

    @Test func aSilentLegIsZeroFilledAndTheLegsStayAligned() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("silent-leg")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(bufferMilliseconds: 10_000))
        // Leg B joins one second late (answered later, or on hold), and its frames arrive with 7 ms of jitter.
        for frame in 0..<100 {
            Self.feed(recording, leg: 0, frequency: 1000, frames: frame..<frame + 1)
            if frame >= 50 {
                Self.feed(recording, leg: 1, frequency: 400, frames: frame..<frame + 1,
                          timeShift: frame % 2 == 1 ? 7_000_000 : 0)
            }
        }
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 2000))
        let samples = try WAVFile(contentsOf: path).samples()
        let right = Self.channel(samples, 1, of: 2)
        #expect(right.count == 16000)
        // The first second of B is silence; B's audio starts where its first frame was stamped (sample 8000; the
        // 7 ms jitter is absorbed, not turned into gaps).
        #expect(right[0..<8000].allSatisfy { $0 == 0 })
        #expect(Array(right[8000...]) == Self.sine(400, rate: 8000, start: 8000, count: 8000))
    }

    @Test func pausedTimeIsSkipped() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("pause")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(bufferMilliseconds: 10_000))
        func tick(_ frames: Range<Int>) {
            for frame in frames {
                Self.feed(recording, leg: 0, frequency: 1000, frames: frame..<frame + 1)
                Self.feed(recording, leg: 1, frequency: 400, frames: frame..<frame + 1)
            }
        }
        tick(0..<50)
        recording.pause()
        #expect(!recording.isRecording)
        tick(50..<150) // two seconds while paused: not recorded
        recording.resume()
        tick(150..<200)
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 2000))
        let samples = try WAVFile(contentsOf: path).samples()
        let left = Self.channel(samples, 0, of: 2)
        #expect(left.count == 16000)
        // One second before the pause, then the audio from after the resume follows directly (no silence).
        #expect(Array(left[0..<8000]) == Self.sine(1000, rate: 8000, start: 0, count: 8000))
        #expect(Array(left[8000...]) == Self.sine(1000, rate: 8000, start: 150 * 160, count: 8000))
    }

    @Test func framesAtAnotherRateAreResampled() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("resample")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(mode: .stereo, sampleRate: 16000,
                                                                                 bufferMilliseconds: 10_000))
        for frame in 0..<50 {
            Self.feed(recording, leg: 0, frequency: 1000, frames: frame..<frame + 1, rate: 8000)
            Self.feed(recording, leg: 1, frequency: 3000, frames: frame..<frame + 1, rate: 48000)
        }
        recording.stop()
        #expect(Self.awaitEnd(writer, id: recording.id) == .stopped(id: recording.id, path: path, durationMilliseconds: 1000))
        let file = try WAVFile(contentsOf: path)
        #expect(file.format.sampleRate == 16000)
        let samples = file.samples()
        let left = Self.channel(samples, 0, of: 2), right = Self.channel(samples, 1, of: 2)
        #expect(left.count == 16000)
        #expect(Self.power(left[1000...], 1000, rate: 16000) > 0.9)
        #expect(Self.power(right[1000...], 3000, rate: 16000) > 0.9)
    }

    @Test func theHeaderIsPatchedWhileRecordingSoACrashLeavesAValidFile() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5), headerInterval: .milliseconds(20))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("crash")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(bufferMilliseconds: 10_000))
        // Before any audio the file is a valid empty WAV.
        #expect(try WAVFile(contentsOf: path).data.isEmpty)
        for frame in 0..<50 {
            Self.feed(recording, leg: 0, frequency: 1000, frames: frame..<frame + 1)
            Self.feed(recording, leg: 1, frequency: 400, frames: frame..<frame + 1)
        }
        // Without stopping: wait (bounded) until the writer has patched the header for all 8000 sample frames.
        let deadline = MonotonicClock().now().adding(milliseconds: 10_000)
        var dataSize = 0
        while MonotonicClock().now() < deadline {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            if bytes.count >= 44 {
                dataSize = Int(bytes[40]) | Int(bytes[41]) << 8 | Int(bytes[42]) << 16 | Int(bytes[43]) << 24
                let riffSize = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
                if dataSize >= 8000 * 4 {
                    #expect(riffSize == 36 + dataSize)
                    break
                }
            }
            usleep(2000) // polling the file for a condition, bounded by the deadline
        }
        #expect(dataSize == 8000 * 4)
        // A process killed now leaves exactly this file: it reads back as a valid, complete stereo WAV.
        let file = try WAVFile(contentsOf: path)
        #expect(file.samples().count == 16000)
        #expect(Self.channel(file.samples(), 0, of: 2) == Self.sine(1000, rate: 8000, start: 0, count: 8000))
        #expect(recording.isRecording)
    }

    @Test func aWriteErrorFailsOnlyThatRecordingAndKeepsTheFileValid() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let failingPath = Self.temporaryPath("enospc")
        let healthyPath = Self.temporaryPath("healthy")
        defer { unlink(failingPath); unlink(healthyPath) }
        let descriptor = open(failingPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        #expect(descriptor >= 0)
        let failing = try writer.start(fileDescriptor: descriptor, path: failingPath,
                                       options: RecordingOptions(bufferMilliseconds: 10_000))
        let healthy = try writer.start(path: healthyPath, options: RecordingOptions(bufferMilliseconds: 10_000))
        for frame in 0..<25 {
            for channel in [failing, healthy] {
                Self.feed(channel, leg: 0, frequency: 1000, frames: frame..<frame + 1)
                Self.feed(channel, leg: 1, frequency: 400, frames: frame..<frame + 1)
            }
        }
        // Wait (bounded) until the first half second is on disk, then make the disk "full": the recording's
        // descriptor now refers to /dev/full, whose writes fail with ENOSPC.
        let deadline = MonotonicClock().now().adding(milliseconds: 10_000)
        while MonotonicClock().now() < deadline, lseek(descriptor, 0, SEEK_END) < 44 + 4000 * 4 { usleep(2000) }
        #expect(lseek(descriptor, 0, SEEK_END) == 44 + 4000 * 4)
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        #expect(full >= 0)
        #expect(dup2(full, descriptor) == descriptor)
        close(full)
        for frame in 25..<50 {
            for channel in [failing, healthy] {
                Self.feed(channel, leg: 0, frequency: 1000, frames: frame..<frame + 1)
                Self.feed(channel, leg: 1, frequency: 400, frames: frame..<frame + 1)
            }
        }
        #expect(Self.awaitEnd(writer, id: failing.id) == .failed(id: failing.id, path: failingPath,
                                                                 reason: .writeFailed(errno: ENOSPC)))
        #expect(failing.isFinished)
        let frame = [Int16](repeating: 1, count: 160)
        #expect(!frame.withUnsafeBufferPointer { failing.write(leg: 0, pcm: $0, sampleRate: 8000) })
        // The other recording is unaffected.
        #expect(healthy.isRecording)
        healthy.stop()
        #expect(Self.awaitEnd(writer, id: healthy.id) == .stopped(id: healthy.id, path: healthyPath,
                                                                 durationMilliseconds: 1000))
        #expect(try WAVFile(contentsOf: healthyPath).samples().count == 16000)
        // The failed file holds the half second written before the disk filled, and parses as a valid WAV
        // (its header was never patched, so the sizes are 0 and the reader takes the bytes present).
        let partial = try WAVFile(contentsOf: failingPath)
        #expect(Self.channel(partial.samples(), 0, of: 2) == Self.sine(1000, rate: 8000, start: 0, count: 4000))
    }

    @Test func startingOnAFullDiskOrWithBadOptionsThrows() throws {
        let writer = try RecordingWriter()
        defer { writer.shutdown() }
        #expect(throws: RecordingError.io(errno: ENOSPC)) { try writer.start(path: "/dev/full") }
        #expect(throws: RecordingError.io(errno: ENOENT)) { try writer.start(path: "/nonexistent/dir/x.wav") }
        #expect(throws: RecordingError.invalidOptions) {
            try writer.start(path: Self.temporaryPath("bad"), options: RecordingOptions(sampleRate: 11025))
        }
        writer.shutdown()
        #expect(throws: RecordingError.writerStopped) { try writer.start(path: Self.temporaryPath("late")) }
        unlink(Self.temporaryPath("late"))
    }

    @Test func shutdownFinalisesEveryOpenRecording() throws {
        let writer = try RecordingWriter(drainInterval: .seconds(10), headerInterval: .seconds(60))
        let paths = (0..<3).map { Self.temporaryPath("shutdown-\($0)") }
        defer { for path in paths { unlink(path) } }
        let recordings = try paths.map { try writer.start(path: $0, options: RecordingOptions(bufferMilliseconds: 10_000)) }
        for recording in recordings {
            Self.feed(recording, leg: 0, frequency: 1000, frames: 0..<30)
        }
        // As on SIGTERM: no stop() per recording, the writer is shut down and must finalise all of them.
        writer.shutdown()
        let events = writer.drainEvents()
        for (recording, path) in zip(recordings, paths) {
            #expect(events.contains(.stopped(id: recording.id, path: path, durationMilliseconds: 600)))
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            // Exact sizes in the header: a finished file, not one read leniently.
            #expect(bytes.count == 44 + 4800 * 4)
            #expect(Int(bytes[40]) | Int(bytes[41]) << 8 == 4800 * 4)
            #expect(recording.isFinished)
        }
    }

    @Test func aFullRingCountsOverrunsInsteadOfWaiting() throws {
        // The writer drains only when woken, so the ring (8 slots of 20 ms) fills.
        let writer = try RecordingWriter(drainInterval: .seconds(30))
        defer { writer.shutdown() }
        let path = Self.temporaryPath("overrun")
        defer { unlink(path) }
        let recording = try writer.start(path: path, options: RecordingOptions(bufferMilliseconds: 160))
        #expect(recording.slotCount == 8)
        Self.feed(recording, leg: 0, frequency: 1000, frames: 0..<40)
        #expect(recording.overruns > 0)
        #expect(recording.overruns + recording.framesWritten == 40)
        recording.stop()
        guard case .stopped = Self.awaitEnd(writer, id: recording.id) else {
            Issue.record("no stopped event")
            return
        }
    }

    @Test func frameTimelineAbsorbsJitterFillsGapsAndDropsRunawayFrames() throws {
        let timeline = RecordingTimeline(mode: .stereo, sampleRate: 8000)
        var written: [Int16] = []
        let sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void = { written += $0 }
        func place(_ leg: Int, value: Int16, at milliseconds: Int) throws {
            let frame = [Int16](repeating: value, count: 160)
            try frame.withUnsafeBufferPointer { (pcm) throws(WAVError) in
                try timeline.place(leg: leg, samples: pcm, sampleRate: 8000, epoch: 0,
                                   nanoseconds: Self.t0 + UInt64(milliseconds) * 1_000_000, sink: sink)
            }
        }
        // Leg 0: 20 ms frames arriving 0–15 ms late; contiguous.
        for (index, lateness) in [0, 15, 3, 9, 0].enumerated() { try place(0, value: 1, at: index * 20 + lateness) }
        #expect(timeline.cursors[0] == 800)
        // A 200 ms silence (DTX): the next frame is placed at its time, the gap zero-filled.
        try place(0, value: 2, at: 300)
        #expect(timeline.cursors[0] == 2400 + 160)
        // Frames far ahead of real time (a fast sender clock) are dropped.
        for _ in 0..<40 { try place(0, value: 3, at: 320) }
        #expect(timeline.droppedLate > 0)
        #expect(timeline.cursors[0] <= 2560 + timeline.lateLimit + 160)
        // Leg 1 never sent anything: it trails by at most the skew limit, as zeros.
        #expect(timeline.cursors[1] >= timeline.cursors[0] - timeline.maxSkew)
        try timeline.finish(sink: sink)
        #expect(written.count == 2 * timeline.duration)
        let left = Self.channel(written, 0, of: 2)
        #expect(left[0..<800].allSatisfy { $0 == 1 } && left[800..<2400].allSatisfy { $0 == 0 } && left[2400] == 2)
        #expect(Self.channel(written, 1, of: 2).allSatisfy { $0 == 0 })
    }

    @Test func aLegArrivingLaterThanTheAlignmentWindowIsShiftedAtMostByTheLateLimit() throws {
        let timeline = RecordingTimeline(mode: .stereo, sampleRate: 8000)
        var written: [Int16] = []
        let sink: (UnsafeBufferPointer<Int16>) throws(WAVError) -> Void = { written += $0 }
        func place(_ leg: Int, _ frame: Int) throws {
            let pcm = [Int16](repeating: Int16(frame + 1), count: 160)
            try pcm.withUnsafeBufferPointer { (pcm) throws(WAVError) in
                try timeline.place(leg: leg, samples: pcm, sampleRate: 8000, epoch: 0,
                                   nanoseconds: Self.t0 + UInt64(frame) * 20_000_000, sink: sink)
            }
        }
        // One second of leg 0, then the same second of leg 1 in one burst (far beyond the 200 ms window): leg 1 had
        // been taken for silent, so frames that would land more than `lateLimit` behind are dropped, and the rest
        // are shifted by no more than `lateLimit`.
        for frame in 0..<50 { try place(0, frame) }
        for frame in 0..<50 { try place(1, frame) }
        for frame in 50..<60 { try place(0, frame); try place(1, frame) }
        try timeline.finish(sink: sink)
        let right = Self.channel(written, 1, of: 2)
        let firstAudio = try #require(right.firstIndex { $0 != 0 })
        let shift = firstAudio - Int(right[firstAudio] - 1) * 160
        #expect(shift > 0 && shift <= timeline.lateLimit)
        #expect(timeline.droppedLate > 0)
    }
}
