import Codecs
import Synchronization
import TandemBase

/// Control-side bookkeeping for the terminating path: what each leg negotiated, which legs are linked,
/// what plays into each leg and whose audio is recorded. The worker only ever sees the result: a
/// pipeline (or none) per leg.
struct TerminatingState: @unchecked Sendable {
    // Playbacks and taps are handed to the worker inside pipelines; here they are only referenced.
    var formats: [MediaLegHandle: AudioEndpointFormat] = [:]
    var links: [MediaLegHandle: MediaLegHandle] = [:]
    /// Playback into a leg (what its endpoint hears), and the source rendering it once built.
    var playbacks: [MediaLegHandle: PlaybackRequest] = [:]
    var sources: [MediaLegHandle: PlaybackSource] = [:]
    /// Recording tap on a leg's audio (what its endpoint says).
    var taps: [MediaLegHandle: RecordingLegTap] = [:]
    var recordings: [MediaSessionHandle: RecordingChannel] = [:]
    /// Legs whose endpoint's audio is scanned for in-band DTMF.
    var inBandDetection: Set<MediaLegHandle> = []
    /// Legs that currently have a pipeline, and its shape.
    var shapes: [MediaLegHandle: PipelineShape] = [:]

    mutating func forget(_ session: MediaSessionHandle) {
        formats = formats.filter { $0.key.session != session }
        links = links.filter { $0.key.session != session }
        playbacks = playbacks.filter { $0.key.session != session }
        taps = taps.filter { $0.key.session != session }
        sources = sources.filter { $0.key.session != session }
        shapes = shapes.filter { $0.key.session != session }
        inBandDetection = inBandDetection.filter { $0.session != session }
        // A recording still running when its session goes is finished, not abandoned with the file open.
        recordings[session]?.stop()
        recordings[session] = nil
    }

    /// What the leg's endpoint should get: relayed packets (nil) or a pipeline of this shape.
    func desiredShape(for leg: MediaLegHandle) -> PipelineShape? {
        guard let output = formats[leg] else { return nil }
        let source = links[leg]
        let input = source.flatMap { formats[$0] }
        let playback = playbacks[leg]
        let tap = source.flatMap { taps[$0] }
        let detects = source.map { inBandDetection.contains($0) } ?? false
        if playback == nil, tap == nil, !detects {
            guard let input, !Self.relayCarries(from: input, to: output) else { return nil }
        }
        if input == nil, playback == nil { return nil }
        // A playback replaces what the other side says, so nothing is decoded while it runs: the
        // pipeline is encode-only and its clock starts at once, whether or not the other side sends.
        if playback != nil {
            return PipelineShape(input: nil, output: output, playback: playback, tap: nil)
        }
        return PipelineShape(input: input, output: output, playback: playback, tap: tap, detectsInBandDTMF: detects)
    }

    /// Whether relaying packets unchanged gives the receiver what it negotiated: same codec, payload
    /// types and packetisation.
    static func relayCarries(from input: AudioEndpointFormat, to output: AudioEndpointFormat) -> Bool {
        input.codec.name.lowercased() == output.codec.name.lowercased()
            && input.codec.rtpClockRate == output.codec.rtpClockRate
            && input.payloadType == output.payloadType
            && input.ptimeMilliseconds == output.ptimeMilliseconds
            && (output.telephoneEventPayloadType == nil || input.telephoneEventPayloadType == output.telephoneEventPayloadType)
    }
}

/// The inputs a leg's pipeline is built from; a change rebuilds it.
struct PipelineShape: @unchecked Sendable, Equatable {
    var input: AudioEndpointFormat?
    var output: AudioEndpointFormat
    var playback: PlaybackRequest?
    var tap: RecordingLegTap?
    var detectsInBandDTMF = false

    static func == (a: PipelineShape, b: PipelineShape) -> Bool {
        a.input == b.input && a.output == b.output && a.playback?.id == b.playback?.id && a.tap === b.tap
            && a.detectsInBandDTMF == b.detectsInBandDTMF
    }
}

/// Something to play into a leg; rendered into a `PlaybackSource` at the rate of the leg's pipeline.
public struct PlaybackRequest: Sendable {
    /// What to play.
    public enum Content: Sendable {
        /// A WAV file on disk (16-bit PCM, µ-law or A-law, any common rate).
        case file(String)
        /// A WAV file's bytes (ng `blob`).
        case wav([UInt8])
        /// A tone sequence in `ToneSequence`'s grammar, e.g. `"425/1000,0/4000"`.
        case tones(String)
        /// DTMF digits played in band.
        case digits(String, milliseconds: Int)
        /// One key sent as RFC 4733 events where the leg negotiated telephone-event, else in band.
        case telephoneEvent(DTMFDigit, milliseconds: Int)
        /// A prompt loaded once and shared (music on hold).
        case prompt(PlaybackPrompt)
    }

    /// What to play.
    public var content: Content
    /// Passes; 0 or below plays until stopped.
    public var repeatCount: Int
    /// Digits that stop it (barge-in).
    public var bargeInDigits: Set<DTMFDigit>
    let id = UInt64.random(in: 1...UInt64.max)

    /// A request to play `content` `repeatCount` times.
    public init(_ content: Content, repeatCount: Int = 1, bargeInDigits: Set<DTMFDigit> = []) {
        self.content = content
        self.repeatCount = repeatCount
        self.bargeInDigits = bargeInDigits
    }

    /// Loads and converts the content for a pipeline running at `sampleRate`. Blocking file I/O for files.
    public func makeSource(sampleRate: Int) throws(PlaybackError) -> PlaybackSource {
        switch content {
        case .file(let path):
            return try PlaybackSource(wavFile: path, sampleRate: sampleRate, repeatCount: repeatCount, bargeInDigits: bargeInDigits)
        case .wav(let bytes):
            let wav: WAVFile
            do { wav = try WAVFile(parsing: bytes) } catch { throw .file(error) }
            return try PlaybackSource(wav: wav, sampleRate: sampleRate, repeatCount: repeatCount, bargeInDigits: bargeInDigits)
        case .tones(let description):
            return try PlaybackSource(toneSequence: description, sampleRate: sampleRate, repeatCount: repeatCount,
                                      bargeInDigits: bargeInDigits)
        case .digits(let digits, let milliseconds):
            return try PlaybackSource(dtmfDigits: digits, sampleRate: sampleRate, onMilliseconds: milliseconds,
                                      repeatCount: repeatCount, bargeInDigits: bargeInDigits)
        case .telephoneEvent(_, let milliseconds):
            // Silence carries the events' pacing (one update per frame); a little extra for the end packets.
            return try PlaybackSource(toneSequence: "0/\(milliseconds + 60)", sampleRate: sampleRate)
        case .prompt(let prompt):
            guard prompt.sampleRate == sampleRate else { throw .unsupportedSampleRate(prompt.sampleRate) }
            return PlaybackSource(prompt: prompt, repeatCount: repeatCount, bargeInDigits: bargeInDigits)
        }
    }
}

extension PlaybackSource: PipelineSource {}
extension RecordingLegTap: PipelineTap {}

/// Why a terminating-path call failed.
public enum MediaTerminatingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The session or leg is unknown, or the engine is not running.
    case session(MediaSessionError)
    /// The leg has no negotiated audio format yet (`setAudioFormat` first).
    case noAudioFormat
    /// A pipeline could not be built for the formats (unsupported codec or packetisation).
    case pipeline(AudioPipelineError)
    /// The prompt could not be loaded (missing or corrupt file, bad tone or digit string).
    case playback(PlaybackError)
    /// The recording could not be started.
    case recording(RecordingError)
    /// No recording runs for the session.
    case notRecording

    public var description: String {
        switch self {
        case .session(let e): "\(e)"
        case .noAudioFormat: "the leg has no negotiated audio format"
        case .pipeline(let e): "cannot transcode: \(e)"
        case .playback(let e): "cannot play: \(e)"
        case .recording(let e): "cannot record: \(e)"
        case .notRecording: "the call is not being recorded"
        }
    }
}

extension MediaEngine {
    /// Sets what `leg`'s endpoint negotiated (codec, payload types, ptime). Once both legs of a link
    /// have formats, media between them is relayed when they match and transcoded when they do not;
    /// calling again after a re-INVITE switches between the two mid-call.
    public func setAudioFormat(_ format: AudioEndpointFormat?, for leg: MediaLegHandle) async throws(MediaTerminatingError) {
        let affected = terminating.withLock { state -> [MediaLegHandle] in
            state.formats[leg] = format
            return [leg] + (state.links[leg].map { [$0] } ?? [])
        }
        for l in affected { try await refreshOutput(of: l) }
    }

    /// Plays `request` into `leg` (its endpoint hears it instead of the other side) until it ends or
    /// `stopPlayback`; a `playbackEnded` event follows. Returns the length of one pass in milliseconds
    /// when known. A missing or corrupt file fails here and leaves the call as it was.
    @discardableResult
    public func play(_ request: PlaybackRequest, into leg: MediaLegHandle) async throws(MediaTerminatingError) -> Int? {
        var request = request
        let previous = try terminating.withLock { (state) throws(MediaTerminatingError) -> PlaybackRequest? in
            guard let format = state.formats[leg] else { throw .noAudioFormat }
            if case .telephoneEvent(let digit, let milliseconds) = request.content, format.telephoneEventPayloadType == nil {
                request.content = .digits(digit.description, milliseconds: milliseconds)
            }
            state.sources.removeValue(forKey: leg)?.stop()
            defer { state.playbacks[leg] = request }
            return state.playbacks[leg]
        }
        do {
            try await refreshOutput(of: leg)
        } catch {
            terminating.withLock { $0.playbacks[leg] = previous }
            throw error
        }
        return terminating.withLock { $0.sources[leg]?.durationMilliseconds }
    }

    /// Stops what plays into `leg`; relaying resumes where nothing else needs the pipeline.
    public func stopPlayback(into leg: MediaLegHandle) async throws(MediaTerminatingError) {
        let had = terminating.withLock { state -> Bool in
            state.sources.removeValue(forKey: leg)?.stop()
            return state.playbacks.removeValue(forKey: leg) != nil
        }
        if had { try await refreshOutput(of: leg) }
    }

    /// Forgets a playback that ended by itself (after its `playbackEnded` event) and relays again
    /// where nothing else needs the pipeline.
    public func playbackDidEnd(into leg: MediaLegHandle) async throws(MediaTerminatingError) {
        try await stopPlayback(into: leg)
    }

    /// Starts recording a session: every leg's audio, one channel per leg in creation order (stereo),
    /// or mixed (mono). Recorded legs are decoded, so relayed legs pass through a same-codec pipeline
    /// while the recording runs.
    public func startRecording(
        _ session: MediaSessionHandle, writer: RecordingWriter, path: String, options: RecordingOptions = RecordingOptions()
    ) async throws(MediaTerminatingError) -> RecordingChannel {
        let statistics: SessionStatistics
        do { statistics = try await query(session) } catch { throw .session(error) }
        let channel: RecordingChannel
        do { channel = try writer.start(path: path, options: options) } catch { throw .recording(error) }
        let legs = statistics.legs.map(\.leg)
        let affected = terminating.withLock { state -> [MediaLegHandle] in
            state.recordings[session]?.stop()
            state.recordings[session] = channel
            var affected: [MediaLegHandle] = []
            for (index, leg) in legs.enumerated() {
                state.taps[leg] = channel.tap(leg: min(index, 1))
                if let other = state.links[leg] { affected.append(other) }
            }
            return affected
        }
        for l in affected { try await refreshOutput(of: l) }
        return channel
    }

    /// Pauses (true) or resumes (false) a session's recording; paused time is left out of the file.
    public func pauseRecording(_ session: MediaSessionHandle, _ paused: Bool) throws(MediaTerminatingError) {
        guard let channel = terminating.withLock({ $0.recordings[session] }) else { throw .notRecording }
        if paused { channel.pause() } else { channel.resume() }
    }

    /// Stops a session's recording (the file is finalised by the writer) and relays again.
    public func stopRecording(_ session: MediaSessionHandle) async throws(MediaTerminatingError) {
        let affected = terminating.withLock { state -> [MediaLegHandle]? in
            guard let channel = state.recordings.removeValue(forKey: session) else { return nil }
            channel.stop()
            var affected: [MediaLegHandle] = []
            for leg in state.taps.keys where leg.session == session {
                state.taps[leg] = nil
                if let other = state.links[leg] { affected.append(other) }
            }
            return affected
        }
        guard let affected else { throw .notRecording }
        for l in affected { try await refreshOutput(of: l) }
    }

    /// The recording running for a session, if any.
    public func recording(of session: MediaSessionHandle) -> RecordingChannel? {
        terminating.withLock { $0.recordings[session] }
    }

    /// Rebuilds `leg`'s pipeline when what it should be changed, and hands it to the worker.
    func refreshOutput(of leg: MediaLegHandle) async throws(MediaTerminatingError) {
        let (desired, current) = terminating.withLock { ($0.desiredShape(for: leg), $0.shapes[leg]) }
        guard desired != current else { return }
        var output = LegOutput()
        if let shape = desired {
            let pipeline: AudioPipeline
            do {
                pipeline = try AudioPipeline(
                    input: shape.input, output: shape.output, ssrc: UInt32.random(in: 1...UInt32.max),
                    sequenceNumber: UInt16.random(in: 0...UInt16.max), timestamp: UInt32.random(in: 0...UInt32.max))
            } catch {
                throw .pipeline(error)
            }
            if let request = shape.playback {
                // The source renders at the rate the pipeline hands it: the decode rate, or the
                // encoder's when nothing is decoded.
                let rate = shape.input == nil ? pipeline.encodeSampleRate : pipeline.decodeSampleRate
                let source: PlaybackSource
                do { source = try request.makeSource(sampleRate: rate) } catch { throw .playback(error) }
                pipeline.source = source
                output.playback = source
                if case .telephoneEvent(let digit, let milliseconds) = request.content {
                    pipeline.injectTelephoneEvent(digit.rawValue, milliseconds: milliseconds)
                }
            }
            if shape.detectsInBandDTMF {
                let detector: InBandDTMFTap
                do { detector = try InBandDTMFTap(sampleRate: pipeline.decodeSampleRate, next: shape.tap) } catch {
                    throw .pipeline(.tone(error))
                }
                pipeline.tap = detector
                output.detector = detector
            } else {
                pipeline.tap = shape.tap
            }
            output.pipeline = pipeline
        }
        let worker: MediaWorker
        do { worker = try self.worker(for: leg.session) } catch { throw .session(error) }
        let result = await withCheckedContinuation { c in Self.submit(.setOutput(leg, output, c), to: worker) }
        do { try result.get() } catch { throw .session(error) }
        terminating.withLock { state in
            state.shapes[leg] = desired
            state.sources[leg] = output.playback
        }
    }
}

/// Scans a pipeline's decoded audio for in-band DTMF (Q.24 limits, `DTMFDetector`) and hands the
/// digits to the worker, which reports them; passes every frame on to the recording tap, if any.
/// Worker thread only after construction; no allocation per frame.
final class InBandDTMFTap: PipelineTap {
    private let detector: DTMFDetector
    private let resampler: Resampler?
    private let scratch: UnsafeMutableBufferPointer<Int16>
    let next: RecordingLegTap?
    private var digits: (DTMFDigit?, DTMFDigit?, DTMFDigit?, DTMFDigit?) = (nil, nil, nil, nil)
    private var count = 0
    private let detectorRate: Int
    private var lastEnded: (digit: DTMFDigit, end: Int)?

    /// A tap for frames at `sampleRate`; rates other than 8 and 16 kHz are resampled to 8 kHz first.
    init(sampleRate: Int, next: RecordingLegTap?) throws(ToneError) {
        let native = sampleRate == 8000 || sampleRate == 16000
        detectorRate = native ? sampleRate : 8000
        detector = try DTMFDetector(sampleRate: detectorRate)
        resampler = native ? nil : try? Resampler(inputRate: sampleRate, outputRate: 8000)
        scratch = .allocate(capacity: 2048)
        self.next = next
    }

    deinit { scratch.deallocate() }

    func decoded(_ pcm: UnsafeBufferPointer<Int16>, sampleRate: Int) {
        next?.decoded(pcm, sampleRate: sampleRate)
        if let resampler {
            guard resampler.outputCapacity(forInputCount: pcm.count) <= scratch.count else { return }
            let n = resampler.process(pcm, into: scratch)
            detector.process(UnsafeBufferPointer(rebasing: scratch[0..<n]))
        } else {
            detector.process(pcm)
        }
        while let event = detector.nextEvent() {
            if event.kind == .ended {
                lastEnded = (event.digit, event.startSample + event.durationSamples)
                continue
            }
            // A press can break up where packets were concealed: the same digit starting again within
            // 150 ms of its end is taken as the same press (Q.24 pauses between presses are longer in practice).
            if let last = lastEnded, last.digit == event.digit, event.startSample - last.end < detectorRate * 3 / 20 { continue }
            guard count < 4 else { continue }
            switch count {
            case 0: digits.0 = event.digit
            case 1: digits.1 = event.digit
            case 2: digits.2 = event.digit
            default: digits.3 = event.digit
            }
            count += 1
        }
    }

    /// The digits recognised since the last call, oldest first; the worker calls it each tick.
    func takeDigit() -> DTMFDigit? {
        guard count > 0 else { return nil }
        let first = digits.0
        digits = (digits.1, digits.2, digits.3, nil)
        count -= 1
        return first
    }
}

extension MediaEngine {
    /// Scans what `leg`'s endpoint says for in-band DTMF tones and reports each key as a `dtmf` event
    /// on that leg (for endpoints without RFC 4733). The leg's audio is decoded while this is on.
    public func detectInBandDTMF(_ enabled: Bool, on leg: MediaLegHandle) async throws(MediaTerminatingError) {
        let other = terminating.withLock { state -> MediaLegHandle? in
            if enabled { state.inBandDetection.insert(leg) } else { state.inBandDetection.remove(leg) }
            return state.links[leg]
        }
        if let other { try await refreshOutput(of: other) }
    }
}
