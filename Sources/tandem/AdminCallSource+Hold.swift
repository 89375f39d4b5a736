import AdminAPI
import Foundation
import MediaEngine
import NIOCore
import PBX

/// Hold and unhold through the API, and the calls' media sessions with their statistics.
extension B2BUACallSource: MediaSessionSource {
    func setHold(callID: String, party: HoldParty, hold: Bool) async -> CallHoldResult {
        let calls = calls
        let promise = eventLoop.makePromise(of: CallHoldResult.self)
        let p: CallHoldParty = switch party {
        case .caller: .caller
        case .callee: .callee
        case .both: .both
        }
        eventLoop.execute {
            calls.setHold(callID: callID, party: p, hold: hold) { outcome in
                // The completion runs on the loop: the held set read here is the one the outcome left.
                let held = calls.heldParties(callID: callID).map(\.rawValue).sorted()
                promise.succeed(Self.result(outcome, held: held))
            }
        }
        return (try? await promise.futureResult.get()) ?? .ended
    }

    static func result(_ outcome: CallHoldOutcome, held: [String]) -> CallHoldResult {
        switch outcome {
        case .done: .done(held: held)
        case .notFound: .notFound
        case .notAnswered: .notAnswered
        case .conflict(let d): .conflict(d)
        case .busy: .busy
        case .rejected(let party, let status): .rejected(party: party, status: status)
        case .timedOut(let party): .timedOut(party: party)
        case .ended: .ended
        }
    }

    func mediaSessions() async -> [MediaSessionInfo] {
        guard let media else { return [] }
        let calls = calls
        let snapshots = (try? await eventLoop.submit { () -> [(ActiveCallSnapshot, [String])] in
            calls.activeCallSnapshots().map { ($0, calls.heldParties(callID: $0.id).map(\.rawValue).sorted()) }
        }.get()) ?? []
        var out: [MediaSessionInfo] = []
        for (call, held) in snapshots {
            guard let handle = media.engine.session(id: call.id),
                  let stats = try? await media.engine.query(handle) else { continue }
            let details = media.legDetails.withLock { $0[call.id] }
            let streams = stats.legs.enumerated().map { i, leg -> MediaStreamInfo in
                let local = details.flatMap { i < $0.legs.count ? $0.legs[i] : nil }
                let expected = Double(leg.expectedPackets)
                let lost = Int64(leg.cumulativeLost)
                return MediaStreamInfo(
                    index: i, localAddress: local?.address ?? "", localRTPPort: local?.rtpPort ?? 0,
                    localRTCPPort: local?.rtcpPort ?? 0, remoteAddress: leg.peer?.description, codec: details?.codecs[i],
                    packetsIn: leg.packetsIn, bytesIn: leg.bytesIn, packetsOut: leg.packetsOut, bytesOut: leg.bytesOut,
                    packetsDropped: leg.dropped.total, packetsLost: lost,
                    lossFraction: expected > 0 ? min(1, max(0, Double(lost) / expected)) : 0,
                    jitterMilliseconds: leg.jitterMilliseconds, roundTripMilliseconds: leg.roundTripMilliseconds,
                    meanOpinionScore: leg.meanOpinionScore)
            }
            out.append(MediaSessionInfo(id: call.id, callID: call.id, tenantID: call.tenantID, held: held, streams: streams))
        }
        return out
    }
}

extension EngineCallMedia {
    /// What a held party hears: the configured WAV, or a soft two-note chime every 4 s, until stopped.
    var holdMusic: PlaybackRequest {
        if let path = holdMusicPath { return PlaybackRequest(.file(path), repeatCount: 0) }
        return PlaybackRequest(.tones("523*0.12/180,659*0.12/220,0/3600"), repeatCount: 0)
    }

    func startHold(_ leg: CallMediaLeg) async throws {
        let handle = try handle(leg)
        try await engine.updateLeg(handle, LegUpdate(blockMedia: true))
        do {
            try await engine.play(holdMusic, into: handle)
        } catch {
            // A missing music file (or a leg without a known codec) holds in silence rather than failing the hold.
            if holdMusicPath != nil {
                _ = try? await engine.play(PlaybackRequest(.tones("523*0.12/180,659*0.12/220,0/3600"), repeatCount: 0), into: handle)
            }
        }
    }

    func stopHold(_ leg: CallMediaLeg) async throws {
        let handle = try handle(leg)
        try? await engine.stopPlayback(into: handle)
        try await engine.updateLeg(handle, LegUpdate(blockMedia: false))
    }
}
