import Codecs
import Synchronization

/// Audio to play into one leg: a WAV prompt, a tone sequence or a DTMF digit string, rendered at the leg's rate.
///
/// Loading happens on the control side and may allocate and block (file read, decoding, one-off resampling to the
/// leg's rate, tone generator set-up); loading errors are typed (`PlaybackError`). Then the source is handed to the
/// worker that owns the leg, which calls `render(into:)` once per frame and `noteDigit(_:)` for each DTMF digit it
/// detects; neither allocates, locks nor blocks. `stop()` and the read-only properties are safe from any thread.
///
/// A WAV prompt is played `repeatCount` times (0 = until stopped). A tone sequence plays its segments in order;
/// each further pass skips its `!` (plays-once) segments, as `ToneSequence` defines, and a sequence ending with a
/// continuous segment never ends by itself. A digit string is played as `on` ms of each digit's two tones followed by
/// `off` ms of silence, per pass.
public final class PlaybackSource: @unchecked Sendable {
    /// The rate `render` produces, in Hz.
    public let sampleRate: Int
    /// Passes to play; 0 = until stopped.
    public let repeatCount: Int
    /// Samples in the first pass, and in each further pass (they differ only for tone sequences with `!` segments);
    /// nil when a pass never ends (a continuous tone).
    public let firstPassSamples: Int?
    public let laterPassSamples: Int?

    /// Exactly one of the two is set: a prompt already at `sampleRate`, or a tone generator.
    private let prompt: UnsafeBufferPointer<Int16>?
    private let generator: ToneGenerator?
    /// Keeps a shared prompt's samples alive.
    private let promptOwner: PlaybackPrompt?
    /// Barge-in digits as a bit mask over event codes 0…15.
    private let bargeInMask: UInt16
    /// Samples rendered so far (all passes). Worker writes, anyone reads.
    private let played = Atomic<Int>(0)
    /// 0 playing, 1 completed, 2 stopped, 3 + event code: barged in.
    private let endCode = Atomic<Int>(0)
    private let stopRequested = Atomic<Bool>(false)
    /// Worker-side position inside the PCM prompt.
    private var offset = 0

    private init(prompt: PlaybackPrompt?, generator: ToneGenerator?, sampleRate: Int,
                 repeatCount: Int, first: Int?, later: Int?, bargeInDigits: Set<DTMFDigit>) {
        self.promptOwner = prompt
        self.prompt = prompt?.samples
        self.generator = generator
        self.sampleRate = sampleRate
        self.repeatCount = max(0, repeatCount)
        firstPassSamples = first
        laterPassSamples = later
        bargeInMask = bargeInDigits.reduce(0) { $0 | 1 << UInt16($1.eventCode) }
    }

    // MARK: - Loading (control side)

    /// Loads the WAV file at `path` (see `PlaybackPrompt`) and plays it. Blocking file I/O; allocates.
    /// `repeatCount` ≤ 0 plays until stopped; `bargeInDigits` end playback when detected.
    public convenience init(wavFile path: String, sampleRate: Int, repeatCount: Int = 1,
                            bargeInDigits: Set<DTMFDigit> = []) throws(PlaybackError) {
        try self.init(prompt: PlaybackPrompt(wavFile: path, sampleRate: sampleRate), repeatCount: repeatCount,
                      bargeInDigits: bargeInDigits)
    }

    /// Plays an already parsed WAV file, converted once to `sampleRate`. Allocates.
    public convenience init(wav: WAVFile, sampleRate: Int, repeatCount: Int = 1,
                            bargeInDigits: Set<DTMFDigit> = []) throws(PlaybackError) {
        try self.init(prompt: PlaybackPrompt(wav: wav, sampleRate: sampleRate), repeatCount: repeatCount,
                      bargeInDigits: bargeInDigits)
    }

    /// Plays a loaded prompt at its rate. Many sources may share one prompt (music on hold for many legs): the
    /// samples are not copied. Allocates only the source.
    public convenience init(prompt: PlaybackPrompt, repeatCount: Int = 1, bargeInDigits: Set<DTMFDigit> = []) {
        self.init(prompt: prompt, generator: nil, sampleRate: prompt.sampleRate, repeatCount: repeatCount,
                  first: prompt.samples.count, later: prompt.samples.count, bargeInDigits: bargeInDigits)
    }

    /// Plays a tone sequence given in `ToneSequence`'s compact grammar (e.g. `"425/1000,0/4000"`), each frequency at
    /// `level` dBm0. Allocates.
    public convenience init(toneSequence description: String, sampleRate: Int, repeatCount: Int = 1,
                            level: Double = -13, bargeInDigits: Set<DTMFDigit> = []) throws(PlaybackError) {
        let sequence: ToneSequence
        do { sequence = try ToneSequence(parsing: description) } catch { throw .invalidToneSequence(error) }
        try self.init(tones: sequence, sampleRate: sampleRate, repeatCount: repeatCount, level: level,
                      bargeInDigits: bargeInDigits)
    }

    /// Plays `tones`, each frequency at `level` dBm0. Allocates.
    public convenience init(tones: ToneSequence, sampleRate: Int, repeatCount: Int = 1, level: Double = -13,
                            bargeInDigits: Set<DTMFDigit> = []) throws(PlaybackError) {
        guard ToneGenerator.supportedRates.contains(sampleRate) else { throw .unsupportedSampleRate(sampleRate) }
        let generator: ToneGenerator
        do {
            generator = try ToneGenerator(sampleRate: sampleRate, level: level)
            try generator.play(tones)
        } catch {
            throw .tone(error)
        }
        // Pass lengths, counted the way the generator counts (whole samples per segment).
        var first: Int? = 0
        var later: Int? = 0
        for segment in tones.segments {
            guard let milliseconds = segment.durationMilliseconds else {
                first = nil
                later = nil
                break
            }
            let samples = milliseconds * sampleRate / 1000
            first = first.map { $0 + samples }
            if !segment.playsOnce { later = later.map { $0 + samples } }
        }
        self.init(prompt: nil, generator: generator, sampleRate: sampleRate, repeatCount: repeatCount, first: first,
                  later: later, bargeInDigits: bargeInDigits)
    }

    /// Plays DTMF `digits` (0-9 * # A-D, at most 32): each for `onMilliseconds` then `offMilliseconds` of silence,
    /// both frequencies at `level` dBm0 (Q.23). Allocates.
    public convenience init(dtmfDigits digits: String, sampleRate: Int, onMilliseconds: Int = 100,
                            offMilliseconds: Int = 100, level: Double = -10, repeatCount: Int = 1,
                            bargeInDigits: Set<DTMFDigit> = []) throws(PlaybackError) {
        guard !digits.isEmpty, digits.count * 2 <= ToneSequence.maximumSegments,
              (1...ToneSequence.maximumDurationMilliseconds).contains(onMilliseconds),
              (0...ToneSequence.maximumDurationMilliseconds).contains(offMilliseconds) else { throw .invalidDigits }
        var segments: [ToneSegment] = []
        for character in digits {
            guard let digit = DTMFDigit(character) else { throw .invalidDigits }
            segments.append(ToneSegment([digit.lowFrequency, digit.highFrequency], milliseconds: onMilliseconds))
            if offMilliseconds > 0 { segments.append(.silence(milliseconds: offMilliseconds)) }
        }
        try self.init(tones: ToneSequence(segments), sampleRate: sampleRate, repeatCount: repeatCount, level: level,
                      bargeInDigits: bargeInDigits)
    }

    // MARK: - Properties (any thread)

    /// Milliseconds of one pass (the first), or nil when it never ends.
    public var durationMilliseconds: Int? { firstPassSamples.map { $0 * 1000 / sampleRate } }
    /// Milliseconds of all passes together, or nil when playback never ends by itself.
    public var totalMilliseconds: Int? { totalSamples.map { $0 * 1000 / sampleRate } }
    /// Milliseconds rendered so far, over all passes. Any thread.
    public var playedMilliseconds: Int { played.load(ordering: .relaxed) * 1000 / sampleRate }
    /// Milliseconds into the current pass. Any thread.
    public var positionMilliseconds: Int {
        let samples = played.load(ordering: .relaxed)
        guard let first = firstPassSamples else { return samples * 1000 / sampleRate }
        if samples < first { return samples * 1000 / sampleRate }
        guard let later = laterPassSamples, later > 0 else { return first * 1000 / sampleRate }
        return (samples - first) % later * 1000 / sampleRate
    }
    /// Why playback ended, or nil while it plays. Any thread.
    public var endReason: PlaybackEnd? {
        switch endCode.load(ordering: .acquiring) {
        case 0: nil
        case 1: .completed
        case 2: .stopped
        case let code: DTMFDigit(eventCode: code - 3).map { .bargeIn($0) } ?? .stopped
        }
    }

    private var totalSamples: Int? {
        guard repeatCount > 0, let first = firstPassSamples, let later = laterPassSamples else { return nil }
        return first + (repeatCount - 1) * later
    }

    // MARK: - Worker side

    /// Ends playback from any thread; the next `render` returns false with silence.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Tells the source a DTMF digit arrived on the leg; ends playback if it is a barge-in digit. Worker thread.
    public func noteDigit(_ digit: DTMFDigit) {
        guard bargeInMask & (1 << UInt16(digit.eventCode)) != 0 else { return }
        finish(3 + Int(digit.eventCode))
    }

    /// Fills `output` with the next samples (silence after the end) and returns whether playback goes on after this
    /// frame. The first false return is the end event: the frame holds the last samples, `endReason` says why.
    /// Worker thread; no allocation, lock or system call.
    @discardableResult
    public func render(into output: UnsafeMutableBufferPointer<Int16>) -> Bool {
        guard let base = output.baseAddress else { return endCode.load(ordering: .relaxed) == 0 }
        if stopRequested.load(ordering: .acquiring) { finish(2) }
        guard endCode.load(ordering: .relaxed) == 0 else {
            base.update(repeating: 0, count: output.count)
            return false
        }
        let done = played.load(ordering: .relaxed)
        var wanted = output.count
        if let total = totalSamples { wanted = min(wanted, total - done) }
        var written = 0
        if let prompt, let source = prompt.baseAddress {
            while written < wanted {
                if offset == prompt.count { offset = 0 }
                let n = min(wanted - written, prompt.count - offset)
                (base + written).update(from: source + offset, count: n)
                offset += n
                written += n
            }
        } else if let generator {
            written = generator.generate(into: UnsafeMutableBufferPointer(rebasing: output[0..<wanted]))
        }
        if written < output.count { (base + written).update(repeating: 0, count: output.count - written) }
        played.store(done + written, ordering: .relaxed)
        if let total = totalSamples, done + written >= total {
            finish(1)
        } else if let generator, generator.isFinished {
            finish(1)
        }
        return endCode.load(ordering: .relaxed) == 0
    }

    /// The shape `AudioPipeline`'s `PipelineSource` calls: fills `pcm` and returns true while playback has audio for
    /// this frame (the last frame, padded with silence, included); returns false, leaving `pcm` untouched so the
    /// leg's own audio goes through, once playback has ended or when `sampleRate` is not the source's rate.
    /// Worker thread; no allocation.
    public func render(into pcm: UnsafeMutableBufferPointer<Int16>, sampleRate rate: Int) -> Bool {
        guard rate == sampleRate else { return false }
        if stopRequested.load(ordering: .acquiring) { finish(2) }
        guard endCode.load(ordering: .relaxed) == 0 else { return false }
        render(into: pcm)
        return true
    }

    /// Returns why playback ended the first time it is called after the end, nil otherwise: the worker polls it
    /// after each frame to post exactly one end event. Worker thread.
    public func takeEnd() -> PlaybackEnd? {
        guard !hasReportedEnd, let reason = endReason else { return nil }
        hasReportedEnd = true
        return reason
    }

    private var hasReportedEnd = false

    private func finish(_ code: Int) {
        _ = endCode.compareExchange(expected: 0, desired: code, ordering: .acquiringAndReleasing)
    }
}
