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

    func transfer(callID: String, party: String, target: String) async -> CallActionOutcome {
        guard let party = CallParty(rawValue: party) else { return .invalidField(field: "party", message: "must be caller or callee") }
        let calls = calls
        let outcome = try? await eventLoop.submit { calls.transfer(callID: callID, party: party, to: target) }.get()
        return Self.outcome(outcome)
    }

    func attendedTransfer(callID: String, party: String?, replacingCallID: String) async -> CallActionOutcome {
        let calls = calls, party = party.flatMap(CallParty.init(rawValue:))
        let outcome = try? await eventLoop.submit {
            calls.attendedTransfer(callID: callID, party: party, replacingCallID: replacingCallID)
        }.get()
        return Self.outcome(outcome)
    }

    func clickToCall(tenantID: String, tenantDomain: String, caller: String, callee: String) async -> CallActionOutcome {
        let calls = calls
        let outcome = try? await eventLoop.submit {
            calls.clickToCall(tenantDomain: tenantDomain, caller: caller, callee: callee)
        }.get()
        switch outcome {
        case .started(let snapshot)?: return .accepted(Self.info(snapshot))
        case .unknownCaller?: return .invalidField(field: "caller", message: "no such enabled extension in the tenant")
        case .callerUnavailable?: return .conflict("the caller has no registered phone")
        case .callLimit?: return .conflict("simultaneous call limit of the tenant reached")
        case nil: return .unavailable("the SIP service did not answer")
        }
    }

    static func outcome(_ o: CallTransferRequestOutcome?) -> CallActionOutcome {
        switch o {
        case .started(let snapshot)?: return .accepted(info(snapshot))
        case .noSuchCall?: return .notFound
        case .notAnswered?: return .conflict("the call is not answered")
        case .unknownTarget?: return .invalidField(field: "target", message: "no such enabled extension in the call's tenant")
        case .transferInProgress?: return .conflict("another transfer of the call is in progress")
        case .notShared?: return .conflict("the two calls do not share an answered party")
        case nil: return .unavailable("the SIP service did not answer")
        }
    }

    static func info(_ s: ActiveCallSnapshot) -> ActiveCallInfo {
        ActiveCallInfo(id: s.id, tenantID: s.tenantID, caller: s.caller, callee: s.callee,
                       state: s.state == .answered ? .answered : .ringing, startedAt: s.startedAt,
                       answeredAt: s.answeredAt, target: s.target)
    }

    /// The event the API publishes for a B2BUA call event (topic `calls`; webhooks see `call.<kind>`).
    static func event(_ e: CallEvent) -> APIEvent {
        var extra = e.details
        if let r = e.record {
            extra["end_reason"] = r.endReason.rawValue
            extra["hung_up_by"] = r.hungUpBy.rawValue
            extra["answered"] = String(r.answeredAt != nil)
            extra["duration_seconds"] = String(r.durationSeconds)
            if let status = r.sipStatus { extra["sip_status"] = String(status) }
            if let to = r.transferredTo { extra["transferred_to"] = to }
        }
        return .call(e.kind.rawValue, callID: e.callID, tenantID: e.tenantID, caller: e.caller, callee: e.callee,
                     occurredAt: e.occurredAt, extra: extra)
    }
}
