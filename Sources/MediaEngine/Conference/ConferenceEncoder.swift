import Codecs
import RTP

/// What makes two listeners' streams byte-identical: the same codec, payload type, rates, ptime, Opus settings
/// and output gain. Listeners with the same key share one encoder and one payload per frame.
struct ConferenceEncodeKey: Hashable {
    var codecName: String
    var payloadType: UInt8
    var clockRate: Int
    var sampleRate: Int
    var ptimeMilliseconds: Int
    var opus: OpusEncoderConfiguration?
    var outputGainQ12: Int32
}

/// One encoder with its resampler from the room rate and its payload buffer. Used as a group's shared encoder
/// and as a talker's (or a participant with private playback's) own encoder. Allocated at join; `encode` never
/// allocates.
final class ConferenceEncoderUnit {
    private let encoder: PipelineEncoder
    private let resampler: Resampler?
    private let roomFrameSamples: Int
    private let encoderFrameSamples: Int
    private let pcm: UnsafeMutablePointer<Int16>
    private let pcmCapacity: Int
    /// The last encoded payload.
    let payload: UnsafeMutableRawPointer
    let payloadCapacity: Int
    private(set) var payloadLength = 0
    /// True for Opus with DTX: a payload of 2 bytes or fewer means "send nothing".
    let suppressesTinyFrames: Bool

    init(format: AudioEndpointFormat, opus: OpusEncoderConfiguration?, roomRate: Int, roomFrameSamples: Int)
        throws(ConferenceError) {
        do throws(AudioPipelineError) {
            encoder = try PipelineEncoder(format: format, opus: opus ?? OpusEncoderConfiguration())
        } catch {
            throw .unsupportedFormat(error)
        }
        self.roomFrameSamples = roomFrameSamples
        encoderFrameSamples = encoder.frameSamples
        if encoder.sampleRate != roomRate {
            do throws(ResamplerError) {
                resampler = try Resampler(inputRate: roomRate, outputRate: encoder.sampleRate, chunkSize: roomFrameSamples, quality: .voice)
            } catch {
                throw .unsupportedFormat(.resampler(error))
            }
        } else {
            resampler = nil
        }
        pcmCapacity = max(encoderFrameSamples, resampler?.outputCapacity(forInputCount: roomFrameSamples) ?? 0) + 16
        pcm = .allocate(capacity: pcmCapacity)
        pcm.initialize(repeating: 0, count: pcmCapacity)
        payloadCapacity = encoder.maxPayloadSize
        payload = .allocate(byteCount: payloadCapacity, alignment: 16)
        payload.initializeMemory(as: UInt8.self, repeating: 0, count: payloadCapacity)
        suppressesTinyFrames = encoder.suppressesTinyFrames
    }

    deinit {
        pcm.deallocate()
        payload.deallocate()
    }

    /// Resamples one room frame to the encoder's rate and encodes it into `payload`; false when the encoder
    /// rejected it (the frame is then not sent).
    func encode(_ frame: UnsafePointer<Int16>) -> Bool {
        let input: UnsafePointer<Int16>
        if let resampler {
            let produced = resampler.process(UnsafeBufferPointer(start: frame, count: roomFrameSamples),
                                             into: UnsafeMutableBufferPointer(start: pcm, count: pcmCapacity))
            if produced < encoderFrameSamples { (pcm + produced).update(repeating: 0, count: encoderFrameSamples - produced) }
            input = UnsafePointer(pcm)
        } else {
            input = frame
        }
        do throws(CodecError) {
            payloadLength = try encoder.encode(UnsafeBufferPointer(start: input, count: encoderFrameSamples),
                                               into: UnsafeMutableRawBufferPointer(start: payload, count: payloadCapacity))
            return true
        } catch {
            payloadLength = 0
            return false
        }
    }
}

/// Listeners that share one encoding (same `ConferenceEncodeKey`): the shared encoder, a pool of own encoders for
/// the group's selected talkers, and a silent payload for deaf members.
final class ConferenceEncodeGroup {
    let key: ConferenceEncodeKey
    let format: AudioEndpointFormat
    let opus: OpusEncoderConfiguration?
    let shared: ConferenceEncoderUnit
    /// Own encoders for talkers, at most `maximumTalkers`, grown at join as members arrive.
    var talkerPool: [ConferenceEncoderUnit] = []
    /// Which pool entries are lent out this frame.
    var talkerPoolInUse: [Bool] = []
    /// Members in the room.
    var memberCount = 0
    /// Set once per frame when the shared payload has been encoded (or failed) for this frame.
    var encodedFrame = -1
    var encodedOK = false
    /// One frame of digital silence encoded by a fresh encoder: what deaf members are sent.
    let silence: UnsafeMutableRawPointer
    let silenceLength: Int

    init(key: ConferenceEncodeKey, format: AudioEndpointFormat, opus: OpusEncoderConfiguration?, roomRate: Int,
         roomFrameSamples: Int) throws(ConferenceError) {
        self.key = key
        self.format = format
        self.opus = opus
        shared = try ConferenceEncoderUnit(format: format, opus: opus, roomRate: roomRate, roomFrameSamples: roomFrameSamples)
        let fresh = try ConferenceEncoderUnit(format: format, opus: opus, roomRate: roomRate, roomFrameSamples: roomFrameSamples)
        let zeros = [Int16](repeating: 0, count: roomFrameSamples)
        let ok = zeros.withUnsafeBufferPointer { fresh.encode($0.baseAddress!) }
        silenceLength = ok ? fresh.payloadLength : 0
        silence = .allocate(byteCount: max(1, silenceLength), alignment: 16)
        if silenceLength > 0 { silence.copyMemory(from: fresh.payload, byteCount: silenceLength) }
    }

    deinit { silence.deallocate() }

    /// Lends a talker encoder from the pool; nil when every one is in use.
    func borrowTalkerEncoder() -> ConferenceEncoderUnit? {
        for i in 0..<talkerPool.count where !talkerPoolInUse[i] {
            talkerPoolInUse[i] = true
            return talkerPool[i]
        }
        return nil
    }

    /// Gives a talker encoder back.
    func returnTalkerEncoder(_ unit: ConferenceEncoderUnit) {
        for i in 0..<talkerPool.count where talkerPool[i] === unit {
            talkerPoolInUse[i] = false
            return
        }
    }
}
