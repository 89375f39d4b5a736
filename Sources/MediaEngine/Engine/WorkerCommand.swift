import CBatchIO
import SRTP

/// A leg update with addresses parsed and SRTP contexts built on the control side, so the worker
/// only swaps values in.
struct PreparedLegUpdate: @unchecked Sendable {
    // tdm_addr is a plain C value; @unchecked because the importer does not mark it Sendable.
    var remoteRTP: tdm_addr?
    var remoteRTCP: tdm_addr?
    var inboundSRTP: SRTPContext??
    var outboundSRTP: SRTPContext??
    var direction: MediaDirection?
    var strictSource: Bool?
    var clockRate: Int?
    var blockMedia: Bool?
    var blockDTMF: Bool?
    /// Bit n set: payload type n is telephone-event.
    var telephoneEventMask: UInt128?
    var rewritesOutboundStream: Bool?
    var rtcpMux: Bool?
    var learnsSource: Bool?
}

/// A control command for one worker, applied between packet batches. Each carries the
/// continuation its result resumes.
enum WorkerCommand: Sendable {
    case createSession(UInt64, CheckedContinuation<Void, Never>)
    case addLeg(session: MediaSessionHandle, LegOptions, CheckedContinuation<Result<LegInfo, MediaSessionError>, Never>)
    case updateLeg(MediaLegHandle, PreparedLegUpdate, CheckedContinuation<Result<Void, MediaSessionError>, Never>)
    case link(MediaLegHandle, MediaLegHandle, CheckedContinuation<Result<Void, MediaSessionError>, Never>)
    case deleteSession(MediaSessionHandle, CheckedContinuation<Result<Void, MediaSessionError>, Never>)
    case query(MediaSessionHandle, CheckedContinuation<Result<SessionStatistics, MediaSessionError>, Never>)
    case setOutput(MediaLegHandle, LegOutput, CheckedContinuation<Result<Void, MediaSessionError>, Never>)
    case conference(ConferenceCommand)
    case stop

    /// Answers a command that will never be applied.
    func fail(_ error: MediaSessionError) {
        switch self {
        case .createSession(_, let c): c.resume()
        case .addLeg(_, _, let c): c.resume(returning: .failure(error))
        case .updateLeg(_, _, let c): c.resume(returning: .failure(error))
        case .link(_, _, let c): c.resume(returning: .failure(error))
        case .deleteSession(_, let c): c.resume(returning: .failure(error))
        case .query(_, let c): c.resume(returning: .failure(error))
        case .setOutput(_, _, let c): c.resume(returning: .failure(error))
        case .conference(let c): c.fail(.session(error))
        case .stop: break
        }
    }
}

/// What produces the packets sent to a leg's endpoint when they are not relayed: a transcoding (or
/// encode-only) pipeline, with the playback feeding it, if any. Built on the control side.
struct LegOutput: @unchecked Sendable {
    // The pipeline and playback are handed over to the worker thread and only used there afterwards.
    var pipeline: AudioPipeline?
    var playback: PlaybackSource?
    var detector: InBandDTMFTap?
}
