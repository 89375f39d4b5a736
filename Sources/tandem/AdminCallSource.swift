import AdminAPI
import Foundation
import NIOCore
import PBX

/// The B2BUA's calls as the admin API's call source. The B2BUA is confined to the SIP endpoint's event loop, so
/// each read and each hang-up hops onto it.
struct B2BUACallSource: CallControlSource {
    let calls: B2BUA
    let eventLoop: any EventLoop
    /// The engine behind the calls, for `GET /media/sessions` (AdminCallSource+Hold.swift); nil: none listed.
    var media: EngineCallMedia? = nil

    func activeCalls() async -> [ActiveCallInfo] {
        let calls = calls
        let snapshots = (try? await eventLoop.submit { calls.activeCallSnapshots() }.get()) ?? []
        return snapshots.map {
            ActiveCallInfo(id: $0.id, tenantID: $0.tenantID, caller: $0.caller, callee: $0.callee,
                           state: $0.state == .answered ? .answered : .ringing, startedAt: $0.startedAt,
                           answeredAt: $0.answeredAt, target: $0.target)
        }
    }

    func hangUp(callID: String) async -> Bool {
        let calls = calls
        return (try? await eventLoop.submit { calls.hangUp(callID: callID) }.get()) ?? false
    }

    /// The event the API publishes for a B2BUA call event (topic `calls`; webhooks see `call.<kind>`).
    static func event(_ e: CallEvent) -> APIEvent {
        var extra: [String: String] = e.detail
        if let r = e.record {
            extra["end_reason"] = r.endReason.rawValue
            extra["hung_up_by"] = r.hungUpBy.rawValue
            extra["answered"] = String(r.answeredAt != nil)
            extra["duration_seconds"] = String(r.durationSeconds)
            if let status = r.sipStatus { extra["sip_status"] = String(status) }
        }
        return .call(e.kind.rawValue, callID: e.callID, tenantID: e.tenantID, caller: e.caller, callee: e.callee,
                     occurredAt: e.occurredAt, extra: extra)
    }
}
