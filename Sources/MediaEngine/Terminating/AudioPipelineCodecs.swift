import Codecs

/// The decoder of one pipeline, as an enum of the concrete final classes: one switch per frame instead of an
/// existential call, and each case's calls are statically dispatched. Owned by the pipeline's worker.
enum PipelineDecoder {
    case g711(G711Decoder)
    case g722(G722Decoder)
    case opus(OpusDecoder)
    case l16(L16Decoder)

    /// A decoder for `format` producing `rate` Hz (`rate` matters only for Opus, which can decode to any of its rates).
    init(format: AudioEndpointFormat, rate: Int) throws(AudioPipelineError) {
        let frame = format.codec.samplesPerFrame(milliseconds: format.ptimeMilliseconds)
        let name = try PipelineCodecName(format)
        do throws(CodecError) {
            switch name {
            case .pcmu: self = .g711(G711Decoder(law: .uLaw, frameSamples: frame))
            case .pcma: self = .g711(G711Decoder(law: .aLaw, frameSamples: frame))
            case .g722: self = .g722(try G722Decoder(frameSamples: frame))
            case .opus: self = .opus(try OpusDecoder(sampleRate: rate, channels: 1))
            case .l16:
                self = .l16(try L16Decoder(sampleRate: format.codec.sampleRate, channels: 1, frameSamples: frame))
            }
        } catch {
            throw .codec(error)
        }
    }

    /// The PCM rate this decoder produces, in Hz.
    var sampleRate: Int {
        switch self {
        case .g711(let d): d.sampleRate
        case .g722(let d): d.sampleRate
        case .opus(let d): d.sampleRate
        case .l16(let d): d.sampleRate
        }
    }

    /// Whether the codec's own concealment beats generic pitch repetition (Opus: its PLC knows the codec state).
    var hasOwnConcealment: Bool {
        if case .opus = self { return true }
        return false
    }

    /// Decodes one payload; returns samples written. Does not allocate.
    @inline(__always)
    func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        switch self {
        case .g711(let d): try d.decode(payload, into: output)
        case .g722(let d): try d.decode(payload, into: output)
        case .opus(let d): try d.decode(payload, into: output)
        case .l16(let d): try d.decode(payload, into: output)
        }
    }

    /// One frame of the codec's concealment. Does not allocate.
    @inline(__always)
    func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        switch self {
        case .g711(let d): d.conceal(into: output)
        case .g722(let d): d.conceal(into: output)
        case .opus(let d): d.conceal(into: output)
        case .l16(let d): d.conceal(into: output)
        }
    }

    /// Forgets the stream's history (after a jitter-buffer reset: new SSRC or a jump).
    func reset() {
        switch self {
        case .g711: break
        case .g722(let d): d.reset()
        case .opus(let d): d.reset()
        case .l16: break
        }
    }
}

/// The encoder of one pipeline, as an enum of the concrete final classes (see `PipelineDecoder`).
enum PipelineEncoder {
    case g711(G711Encoder)
    case g722(G722Encoder)
    case opus(OpusEncoder)
    case l16(L16Encoder)

    /// An encoder for `format`; Opus is set up by `AudioPipeline.opusConfiguration`.
    init(format: AudioEndpointFormat, opus: OpusEncoderConfiguration) throws(AudioPipelineError) {
        let frame = format.codec.samplesPerFrame(milliseconds: format.ptimeMilliseconds)
        let name = try PipelineCodecName(format)
        do throws(CodecError) {
            switch name {
            case .pcmu: self = .g711(G711Encoder(law: .uLaw, frameSamples: frame))
            case .pcma: self = .g711(G711Encoder(law: .aLaw, frameSamples: frame))
            case .g722: self = .g722(try G722Encoder(frameSamples: frame))
            case .opus: self = .opus(try OpusEncoder(configuration: opus))
            case .l16:
                self = .l16(try L16Encoder(sampleRate: format.codec.sampleRate, channels: 1, frameSamples: frame))
            }
        } catch {
            throw .codec(error)
        }
    }

    /// The PCM rate this encoder takes, in Hz.
    var sampleRate: Int {
        switch self {
        case .g711(let e): e.sampleRate
        case .g722(let e): e.sampleRate
        case .opus(let e): e.sampleRate
        case .l16(let e): e.sampleRate
        }
    }

    /// Samples in one frame this encoder takes.
    var frameSamples: Int {
        switch self {
        case .g711(let e): e.frameSamples
        case .g722(let e): e.frameSamples
        case .opus(let e): e.frameSamples
        case .l16(let e): e.frameSamples
        }
    }

    /// The largest payload one frame encodes to, in bytes.
    var maxPayloadSize: Int {
        switch self {
        case .g711(let e): e.maxPayloadSize
        case .g722(let e): e.maxPayloadSize
        case .opus(let e): e.maxPayloadSize
        case .l16(let e): e.maxPayloadSize
        }
    }

    /// True for Opus with DTX on: a payload of 2 bytes or fewer then means "send nothing".
    var suppressesTinyFrames: Bool {
        if case .opus(let e) = self { return e.configuration.isDTXEnabled }
        return false
    }

    /// Encodes one frame; returns the payload length. Does not allocate.
    @inline(__always)
    func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        switch self {
        case .g711(let e): try e.encode(pcm, into: output)
        case .g722(let e): try e.encode(pcm, into: output)
        case .opus(let e): try e.encode(pcm, into: output)
        case .l16(let e): try e.encode(pcm, into: output)
        }
    }
}

/// The codecs a pipeline can decode and encode, recognised from the rtpmap name (case-insensitive).
enum PipelineCodecName {
    case pcmu, pcma, g722, opus, l16

    init(_ format: AudioEndpointFormat) throws(AudioPipelineError) {
        switch format.codec.name.lowercased() {
        case "pcmu": self = .pcmu
        case "pcma": self = .pcma
        case "g722": self = .g722
        case "opus": self = .opus
        case "l16":
            // The pipeline's PCM is mono throughout.
            guard format.codec.channels == 1 else { throw .unsupportedCodec("L16/\(format.codec.sampleRate)/2") }
            self = .l16
        default: throw .unsupportedCodec(format.codec.name)
        }
    }
}
