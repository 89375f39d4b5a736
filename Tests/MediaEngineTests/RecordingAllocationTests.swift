#if canImport(Glibc)
import Glibc
#endif
import Codecs
@testable import MediaEngine
import TandemBase
import Testing

/// Heap allocations on the worker-side paths (`RecordingChannel.write`, `PlaybackSource.render`/`noteDigit`).
///
/// Counted per thread by a malloc interposer, so other tests running in parallel do not disturb the count. The
/// tests run only when the process was started with it preloaded; build it with
/// `gcc -O2 -shared -fPIC -o liballoccount.so alloccount.c` from a file holding:
/// ```c
/// #define _GNU_SOURCE
/// #include <stddef.h>
/// #include <stdint.h>
/// extern void *__libc_malloc(size_t); extern void *__libc_calloc(size_t, size_t);
/// extern void *__libc_realloc(void *, size_t); extern void *__libc_memalign(size_t, size_t);
/// static __thread uint64_t count __attribute__((tls_model("initial-exec")));
/// uint64_t tandem_test_thread_allocations(void) { return count; }
/// void *malloc(size_t n) { count++; return __libc_malloc(n); }
/// void *calloc(size_t a, size_t b) { count++; return __libc_calloc(a, b); }
/// void *realloc(void *p, size_t n) { count++; return __libc_realloc(p, n); }
/// void *memalign(size_t a, size_t n) { count++; return __libc_memalign(a, n); }
/// void *aligned_alloc(size_t a, size_t n) { count++; return __libc_memalign(a, n); }
/// int posix_memalign(void **o, size_t a, size_t n) { count++; void *p = __libc_memalign(a, n);
///                                                    if (!p) return 12; *o = p; return 0; }
/// ```
/// and run the test binary with `LD_PRELOAD=/path/to/liballoccount.so`.
@Suite struct RecordingAllocationTests {
    typealias Counter = @convention(c) () -> UInt64

    static let counter: Counter? = {
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "tandem_test_thread_allocations")
        else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)
    }()

    static var isCounting: Bool { counter != nil }

    @Test(.enabled(if: isCounting, "needs LD_PRELOAD of the allocation counter"))
    func recordingWriteDoesNotAllocate() throws {
        let counter = try #require(Self.counter)
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = RecordingTests.temporaryPath("alloc")
        defer { unlink(path) }
        let channel = try writer.start(path: path, options: RecordingOptions(sampleRate: 16000, bufferMilliseconds: 500))
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 960)
        defer { frame.deallocate() }
        frame.initialize(repeating: 1000)
        let pcm = UnsafeBufferPointer(frame)
        var accepted = 0
        // Warm up once, then count: 20 000 frames of every size the worker produces (10/20 ms at 8–48 kHz), with
        // and without a caller timestamp, through full-ring overruns and a pause.
        _ = channel.write(leg: 0, pcm: UnsafeBufferPointer(rebasing: pcm[0..<160]), sampleRate: 8000)
        let sizes = [80, 160, 320, 480, 960], rates = [8000, 8000, 16000, 24000, 48000]
        let before = counter()
        for index in 0..<20_000 {
            let size = sizes[index % 5], rate = rates[index % 5]
            if index == 10_000 { channel.pause() }
            if index == 10_100 { channel.resume() }
            if channel.write(leg: index & 1, pcm: UnsafeBufferPointer(rebasing: pcm[0..<size]), sampleRate: rate,
                             at: Instant(nanoseconds: UInt64(index) * 10_000_000)) { accepted += 1 }
            _ = channel.write(leg: index & 1, pcm: UnsafeBufferPointer(rebasing: pcm[0..<size]), sampleRate: rate)
        }
        let allocations = counter() - before
        #expect(allocations == 0)
        #expect(accepted > 0)
        channel.stop()
    }

    @Test(.enabled(if: isCounting, "needs LD_PRELOAD of the allocation counter"))
    func playbackRenderDoesNotAllocate() throws {
        let counter = try #require(Self.counter)
        let prompt = try PlaybackSource(wav: WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000),
                                                     samples: [Int16](repeating: 5, count: 1234)),
                                        sampleRate: 8000, repeatCount: 0, bargeInDigits: [.pound])
        let tones = try PlaybackSource(toneSequence: "!440/100,0/100,350+440/200", sampleRate: 16000, repeatCount: 0)
        let digits = try PlaybackSource(dtmfDigits: "123#", sampleRate: 48000, repeatCount: 3)
        let frame = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 960)
        defer { frame.deallocate() }
        let before = counter()
        for _ in 0..<5000 {
            _ = prompt.render(into: UnsafeMutableBufferPointer(rebasing: frame[0..<160]))
            _ = tones.render(into: UnsafeMutableBufferPointer(rebasing: frame[0..<320]))
            _ = digits.render(into: frame)
            prompt.noteDigit(.one)
            _ = prompt.positionMilliseconds
        }
        prompt.noteDigit(.pound)
        _ = prompt.render(into: frame)
        #expect(counter() - before == 0)
        #expect(prompt.endReason == .bargeIn(.pound) && digits.endReason == .completed && tones.endReason == nil)
    }
}
