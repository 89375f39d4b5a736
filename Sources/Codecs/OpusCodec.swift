import COpus

/// How an Opus encoder is set up. Build one from defaults, then `adapted(to:)` the remote side's fmtp.
public struct OpusEncoderConfiguration: Hashable, Sendable {
    /// The libopus application mode.
    public enum Application: Hashable, Sendable {
        /// Speech: favours intelligibility (SILK at low rates). The PBX default.
        case voip
        /// Music or mixed content: favours fidelity.
        case audio
        /// Lowest delay: CELT only, no speech modes.
        case restrictedLowDelay
    }

    /// The PCM input rate in Hz: 8000, 12000, 16000, 24000 or 48000.
    public var sampleRate: Int
    /// Interleaved input channels: 1 or 2.
    public var channels: Int
    /// The libopus application mode.
    public var application: Application
    /// Target bitrate in bit/s (500–512000), or nil to let libopus choose from rate and channels.
    public var bitrate: Int?
    /// Encoder complexity 0–10. The default 5 trades a little quality for half the CPU of 10 on a media server.
    public var complexity: Int
    /// Whether to embed low-bitrate redundancy of the previous frame (in-band FEC, RFC 6716 §2.1.7).
    public var isInbandFECEnabled: Bool
    /// Whether to stop sending during silence (DTX); the encoder then emits packets of 1–2 bytes.
    public var isDTXEnabled: Bool
    /// Whether to use constant bitrate (fmtp `cbr=1`) instead of VBR.
    public var isConstantBitrate: Bool
    /// Expected packet loss in percent (0–100); with FEC on, higher values spend more bits on redundancy.
    public var packetLossPercentage: Int
    /// The highest audio rate the receiver renders, in Hz; caps the coded bandwidth (fmtp `maxplaybackrate`).
    public var maxPlaybackRate: Int
    /// Frame duration in ms: 10, 20, 40 or 60.
    public var frameMilliseconds: Int

    /// Creates a configuration; the defaults suit 20 ms mono VoIP at 48 kHz.
    public init(sampleRate: Int = 48000, channels: Int = 1, application: Application = .voip, bitrate: Int? = nil,
                complexity: Int = 5, isInbandFECEnabled: Bool = false, isDTXEnabled: Bool = false,
                isConstantBitrate: Bool = false, packetLossPercentage: Int = 0, maxPlaybackRate: Int = 48000,
                frameMilliseconds: Int = 20) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.application = application
        self.bitrate = bitrate
        self.complexity = complexity
        self.isInbandFECEnabled = isInbandFECEnabled
        self.isDTXEnabled = isDTXEnabled
        self.isConstantBitrate = isConstantBitrate
        self.packetLossPercentage = packetLossPercentage
        self.maxPlaybackRate = maxPlaybackRate
        self.frameMilliseconds = frameMilliseconds
    }

    /// Samples per channel in one frame.
    public var frameSamples: Int { sampleRate * frameMilliseconds / 1000 }

    /// This configuration limited to what the remote receiver declared in its fmtp (RFC 7587 §6.1): its
    /// `maxplaybackrate` and `maxaveragebitrate` cap ours, `stereo` absent or 0 forces mono, `cbr`, `useinbandfec`
    /// and `usedtx` switch those features on, and a supported `ptime` sets the frame duration.
    public func adapted(to remote: OpusFormatParameters) -> OpusEncoderConfiguration {
        var result = self
        if let rate = remote.maxPlaybackRate { result.maxPlaybackRate = min(result.maxPlaybackRate, rate) }
        if let cap = remote.maxAverageBitrate { result.bitrate = min(result.bitrate ?? cap, cap) }
        if remote.stereo != true { result.channels = 1 }
        if remote.constantBitrate == true { result.isConstantBitrate = true }
        if remote.useInbandFEC == true { result.isInbandFECEnabled = true }
        if remote.useDTX == true { result.isDTXEnabled = true }
        if let ptime = remote.ptime, [10, 20, 40, 60].contains(ptime) { result.frameMilliseconds = ptime }
        return result
    }
}

/// The sampling rates libopus can encode from and decode to.
let opusSampleRates: Set<Int> = [8000, 12000, 16000, 24000, 48000]

/// Maps a libopus return code to a `CodecError`.
func opusError(_ code: Int32) -> CodecError {
    switch code {
    case OPUS_INVALID_PACKET: .invalidPayload
    case OPUS_BAD_ARG: .unsupportedConfiguration
    default: .libraryFailure(code: code)
    }
}

/// An Opus encoder (libopus). One per outgoing stream; owned by one worker.
public final class OpusEncoder: AudioEncoder {
    private let state: OpaquePointer
    /// The configuration the encoder was created with (runtime setters update it).
    public private(set) var configuration: OpusEncoderConfiguration
    /// opus/48000/2 (RFC 7587 §7), whatever the input rate.
    public var descriptor: CodecDescriptor { .opus }
    /// The PCM input rate.
    public var sampleRate: Int { configuration.sampleRate }
    /// Interleaved input channels.
    public var channels: Int { configuration.channels }
    /// Samples per channel in one frame.
    public var frameSamples: Int { configuration.frameSamples }
    /// 1275 bytes per 20 ms Opus frame at most (RFC 6716 §3.2.1), times the frames in one packet.
    public var maxPayloadSize: Int { 1275 * max(1, configuration.frameMilliseconds / 20) + 3 }

    /// Creates and configures an encoder. Allocates its C state once.
    public init(configuration: OpusEncoderConfiguration = OpusEncoderConfiguration()) throws(CodecError) {
        guard opusSampleRates.contains(configuration.sampleRate), (1...2).contains(configuration.channels),
              [10, 20, 40, 60].contains(configuration.frameMilliseconds),
              (0...10).contains(configuration.complexity), (0...100).contains(configuration.packetLossPercentage),
              (8000...48000).contains(configuration.maxPlaybackRate) else {
            throw .unsupportedConfiguration
        }
        let application: Int32 = switch configuration.application {
        case .voip: OPUS_APPLICATION_VOIP
        case .audio: OPUS_APPLICATION_AUDIO
        case .restrictedLowDelay: OPUS_APPLICATION_RESTRICTED_LOWDELAY
        }
        var error: Int32 = OPUS_OK
        guard let state = opus_encoder_create(Int32(configuration.sampleRate), Int32(configuration.channels),
                                              application, &error), error == OPUS_OK else {
            throw opusError(error)
        }
        self.state = state
        self.configuration = configuration
        let bandwidth: Int32 = switch configuration.maxPlaybackRate {
        case ..<12000: OPUS_BANDWIDTH_NARROWBAND
        case ..<16000: OPUS_BANDWIDTH_MEDIUMBAND
        case ..<24000: OPUS_BANDWIDTH_WIDEBAND
        case ..<48000: OPUS_BANDWIDTH_SUPERWIDEBAND
        default: OPUS_BANDWIDTH_FULLBAND
        }
        let settings: [(Int32, Int32)] = [
            (OPUS_SET_BITRATE_REQUEST, configuration.bitrate.map { Int32(clamping: $0) } ?? OPUS_AUTO),
            (OPUS_SET_COMPLEXITY_REQUEST, Int32(configuration.complexity)),
            (OPUS_SET_INBAND_FEC_REQUEST, configuration.isInbandFECEnabled ? 1 : 0),
            (OPUS_SET_DTX_REQUEST, configuration.isDTXEnabled ? 1 : 0),
            (OPUS_SET_VBR_REQUEST, configuration.isConstantBitrate ? 0 : 1),
            (OPUS_SET_PACKET_LOSS_PERC_REQUEST, Int32(configuration.packetLossPercentage)),
            (OPUS_SET_MAX_BANDWIDTH_REQUEST, bandwidth),
        ]
        for (request, value) in settings {
            let result = tdm_opus_encoder_set(state, request, value)
            guard result == OPUS_OK else {
                opus_encoder_destroy(state)
                throw opusError(result)
            }
        }
    }

    deinit { opus_encoder_destroy(state) }

    /// Encodes exactly `frameSamples * channels` interleaved samples; returns the payload length. With DTX on,
    /// a result of 2 bytes or fewer means "nothing to send". Does not allocate.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        let expected = frameSamples * channels
        guard pcm.count == expected else { throw .wrongFrameSize(expected: expected, got: pcm.count) }
        guard let source = pcm.baseAddress, let destination = output.baseAddress, output.count > 0 else {
            throw .outputTooSmall(needed: maxPayloadSize, available: output.count)
        }
        let result = opus_encode(state, source, Int32(frameSamples), destination.assumingMemoryBound(to: UInt8.self),
                                 Int32(clamping: output.count))
        if result == OPUS_BUFFER_TOO_SMALL { throw .outputTooSmall(needed: maxPayloadSize, available: output.count) }
        guard result >= 0 else { throw opusError(result) }
        return Int(result)
    }

    /// Changes the target bitrate (e.g. from RTCP feedback); nil means libopus's automatic choice.
    public func setBitrate(_ bitrate: Int?) throws(CodecError) {
        try set(OPUS_SET_BITRATE_REQUEST, bitrate.map { Int32(clamping: $0) } ?? OPUS_AUTO)
        configuration.bitrate = bitrate
    }

    /// Changes the expected loss percentage (e.g. from RTCP receiver reports), which steers FEC.
    public func setPacketLossPercentage(_ percentage: Int) throws(CodecError) {
        guard (0...100).contains(percentage) else { throw .unsupportedConfiguration }
        try set(OPUS_SET_PACKET_LOSS_PERC_REQUEST, Int32(percentage))
        configuration.packetLossPercentage = percentage
    }

    /// The encoder's algorithmic delay in samples per channel at the input rate (what a decoder's output lags by).
    public var lookahead: Int {
        var value: Int32 = 0
        _ = tdm_opus_encoder_get(state, OPUS_GET_LOOKAHEAD_REQUEST, &value)
        return Int(value)
    }

    /// Resets the encoder's internal state, as at the start of a new stream.
    public func reset() { _ = tdm_opus_encoder_reset(state) }

    private func set(_ request: Int32, _ value: Int32) throws(CodecError) {
        let result = tdm_opus_encoder_set(state, request, value)
        guard result == OPUS_OK else { throw opusError(result) }
    }
}

/// An Opus decoder (libopus) with in-band FEC recovery and libopus's own concealment. One per incoming stream.
public final class OpusDecoder: AudioDecoder {
    private let state: OpaquePointer
    /// The PCM output rate: 8000, 12000, 16000, 24000 or 48000 Hz.
    public let sampleRate: Int
    /// Interleaved output channels: 1 or 2 (Opus decodes any stream to either).
    public let channels: Int
    /// Samples per channel one `conceal(into:)` produces: the last packet's duration (20 ms before any packet).
    public private(set) var frameSamples: Int
    /// opus/48000/2 (RFC 7587 §7).
    public var descriptor: CodecDescriptor { .opus }

    /// Creates a decoder producing `sampleRate` Hz with `channels` channels. Allocates its C state once.
    public init(sampleRate: Int = 48000, channels: Int = 1) throws(CodecError) {
        guard opusSampleRates.contains(sampleRate), (1...2).contains(channels) else { throw .unsupportedConfiguration }
        var error: Int32 = OPUS_OK
        guard let state = opus_decoder_create(Int32(sampleRate), Int32(channels), &error), error == OPUS_OK else {
            throw opusError(error)
        }
        self.state = state
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameSamples = sampleRate / 50
    }

    deinit { opus_decoder_destroy(state) }

    /// Samples per channel a packet decodes to at `sampleRate`, or nil if its TOC is invalid (RFC 6716 §3.1).
    public static func samplesPerChannel(in payload: UnsafeRawBufferPointer, sampleRate: Int) -> Int? {
        guard let base = payload.baseAddress, payload.count > 0 else { return nil }
        let result = opus_packet_get_nb_samples(base.assumingMemoryBound(to: UInt8.self), Int32(clamping: payload.count),
                                                Int32(sampleRate))
        return result > 0 ? Int(result) : nil
    }

    /// Decodes one packet into `output` (room for up to 120 ms is always enough); returns samples per channel.
    /// Throws `invalidPayload` on an empty or corrupt packet. Does not allocate.
    public func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        guard let source = payload.baseAddress, payload.count > 0 else { throw .invalidPayload }
        let count = try run(source, payload.count, into: output, maxSamples: output.count / channels, fec: false)
        frameSamples = count
        return count
    }

    /// Recovers the frame lost just before `nextPayload` from the FEC data inside `nextPayload`
    /// (`opus_decode` with `decode_fec = 1`); `samples` is the lost frame's duration per channel. When the next
    /// packet carries no FEC, libopus conceals instead. Decode `nextPayload` normally afterwards. Does not allocate.
    public func decodeFEC(_ nextPayload: UnsafeRawBufferPointer, samples: Int,
                          into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        guard let source = nextPayload.baseAddress, nextPayload.count > 0 else { throw .invalidPayload }
        guard samples > 0, output.count >= samples * channels else {
            throw .outputTooSmall(needed: samples * channels, available: output.count)
        }
        return try run(source, nextPayload.count, into: output, maxSamples: samples, fec: true)
    }

    /// Conceals one lost frame of `frameSamples` (fewer if `output` is short) with libopus's PLC. Does not allocate.
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        // libopus needs a multiple of 2.5 ms for concealment (RFC 6716 §4.4).
        let quantum = sampleRate / 400
        let samples = min(frameSamples, output.count / channels) / quantum * quantum
        guard samples > 0, let destination = output.baseAddress else { return 0 }
        let result = opus_decode(state, nil, 0, destination, Int32(samples), 0)
        return result > 0 ? Int(result) : 0
    }

    /// Resets the decoder, as at the start of a new stream.
    public func reset() { _ = tdm_opus_decoder_reset(state) }

    private func run(_ source: UnsafeRawPointer, _ length: Int, into output: UnsafeMutableBufferPointer<Int16>,
                     maxSamples: Int, fec: Bool) throws(CodecError) -> Int {
        guard let destination = output.baseAddress, maxSamples > 0 else {
            throw .outputTooSmall(needed: sampleRate / 50 * channels, available: output.count)
        }
        let result = opus_decode(state, source.assumingMemoryBound(to: UInt8.self), Int32(clamping: length), destination,
                                 Int32(clamping: maxSamples), fec ? 1 : 0)
        if result == OPUS_BUFFER_TOO_SMALL {
            throw .outputTooSmall(needed: sampleRate * 120 / 1000 * channels, available: output.count)
        }
        guard result >= 0 else { throw opusError(result) }
        return Int(result)
    }
}
