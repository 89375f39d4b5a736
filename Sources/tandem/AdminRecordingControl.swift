import AdminAPI
import Foundation
import NIOCore
import PBX
import Store

/// The B2BUA's calls as the admin API sees them, with recording: reads, hang-ups, hold, transfers, click-to-call and media sessions go to `B2BUACallSource`,
/// starting and stopping a call's recording hop onto the SIP loop and wait for the engine and the store.
struct B2BUARecordingCallSource: CallControlSource, RecordingControl, MediaSessionSource {
    let base: B2BUACallSource
    let recorder: CallRecorder

    var recordingsDirectory: String { recorder.directory }

    func activeCalls() async -> [ActiveCallInfo] { await base.activeCalls() }
    func hangUp(callID: String) async -> Bool { await base.hangUp(callID: callID) }
    func setHold(callID: String, party: HoldParty, hold: Bool) async -> CallHoldResult {
        await base.setHold(callID: callID, party: party, hold: hold)
    }
    func mediaSessions() async -> [MediaSessionInfo] { await base.mediaSessions() }
    func transfer(callID: String, party: String, target: String) async -> CallActionOutcome {
        await base.transfer(callID: callID, party: party, target: target)
    }
    func attendedTransfer(callID: String, party: String?, replacingCallID: String) async -> CallActionOutcome {
        await base.attendedTransfer(callID: callID, party: party, replacingCallID: replacingCallID)
    }
    func clickToCall(tenantID: String, tenantDomain: String, caller: String, callee: String) async -> CallActionOutcome {
        await base.clickToCall(tenantID: tenantID, tenantDomain: tenantDomain, caller: caller, callee: callee)
    }

    func startRecording(callID: String) async throws(RecordingControlError) -> CallRecording {
        let calls = base.calls
        do { return try await base.eventLoop.flatSubmit { calls.startRecording(callID: callID, tenantID: nil) }.get() } catch {
            throw Self.map(error)
        }
    }

    func stopRecording(callID: String) async throws(RecordingControlError) -> CallRecording {
        let calls = base.calls
        do { return try await base.eventLoop.flatSubmit { calls.stopRecording(callID: callID, tenantID: nil) }.get() } catch {
            throw Self.map(error)
        }
    }

    static func map(_ error: any Error) -> RecordingControlError {
        switch error as? CallRecordingError {
        case .noSuchCall?: .noSuchCall
        case .notAnswered?: .notAnswered
        case .alreadyRecording?: .alreadyRecording
        case .notRecording?: .notRecording
        case .unavailable?: .unavailable
        case .failed(let why)?: .failed(why)
        case nil: .failed(String(describing: error))
        }
    }

    /// The event the API publishes for a recording starting or finishing.
    static func event(_ n: CallRecordingNotice) -> APIEvent {
        .recording(n.kind.rawValue, n.recording, occurredAt: n.recording.endedAt ?? n.recording.startedAt)
    }
}
