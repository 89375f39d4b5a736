/// A frame encoder. Concrete encoders are final classes used directly on the media path (no existential per frame);
/// the protocol exists so generic pipeline code can be specialised over them.
public protocol AudioEncoder: AnyObject {
    /// The codec's SDP and RTP description.
    var descriptor: CodecDescriptor { get }
    /// The sampling rate of the PCM this encoder takes, in Hz.
    var sampleRate: Int { get }
    /// Interleaved channels in the PCM this encoder takes.
    var channels: Int { get }
    /// Samples per channel in one frame this encoder takes.
    var frameSamples: Int { get }
    /// An upper bound on the bytes one frame encodes to, for sizing the caller's buffer.
    var maxPayloadSize: Int { get }
    /// Encodes one frame of interleaved PCM (`frameSamples * channels` values) into `output`; returns the payload
    /// length in bytes. The caller owns both buffers. Does not allocate.
    func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int
}

/// A frame decoder with packet loss concealment. Concrete decoders are final classes used directly on the media path.
public protocol AudioDecoder: AnyObject {
    /// The codec's SDP and RTP description.
    var descriptor: CodecDescriptor { get }
    /// The sampling rate of the PCM this decoder produces, in Hz.
    var sampleRate: Int { get }
    /// Interleaved channels in the PCM this decoder produces.
    var channels: Int { get }
    /// Samples per channel that one call to `conceal(into:)` produces.
    var frameSamples: Int { get }
    /// Decodes one RTP payload into interleaved PCM; returns the samples per channel written.
    /// The caller owns both buffers. Does not allocate.
    func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int
    /// Synthesises one frame (`frameSamples` per channel, fewer if `output` is short) for a lost packet;
    /// returns the samples per channel written. Consecutive calls fade towards silence. Does not allocate.
    func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int
}
