import Foundation
import NIOCore
import SDP
import SIPStack

/// Which parties of a call an operator's hold or unhold is about.
public enum CallHoldParty: String, Sendable, CaseIterable {
    case caller, callee, both
}

/// How an operator's hold or unhold ended.
public enum CallHoldOutcome: Sendable, Equatable {
    /// Done: every party named answered its re-INVITE.
    case done
    /// No such active call.
    case notFound
    /// The call is not answered yet (or is being transferred): nothing to hold.
    case notAnswered
    /// A party named is already held (hold) or is not held (unhold).
    case conflict(String)
    /// Another re-INVITE of the call is in progress (a phone's own, or another hold); try again.
    case busy
    /// The party's phone refused the re-INVITE with this final status; the call stays as it was for that party.
    case rejected(party: String, status: Int)
    /// The party's phone did not answer the re-INVITE in time.
    case timedOut(party: String)
    /// The call ended (or its dialog vanished) during the re-INVITE.
    case ended
}

/// The admin API's hold state of one call (loop-confined, like the call).
struct CallHoldState {
    /// Parties Tandem holds now: `.caller` and/or `.callee`.
    var held: Set<CallHoldParty> = []
    /// The hold or unhold waiting for re-INVITE answers.
    var pending: PendingHold?

    struct PendingHold {
        let hold: Bool
        /// Parties still waiting for their answer.
        var waiting: Set<CallHoldParty>
        /// Parties whose phone accepted.
        var accepted: [CallHoldParty] = []
        var failure: CallHoldOutcome?
        let requested: CallHoldParty
        let completion: @Sendable (CallHoldOutcome) -> Void
    }
}

extension CallMediaService {
    public func startHold(_ leg: CallMediaLeg) async throws {}
    public func stopHold(_ leg: CallMediaLeg) async throws {}
}

/// Hold and unhold on an operator's request (the admin API's `POST /calls/{id}/hold` and `/unhold`).
///
/// Holding a party sends it a re-INVITE whose SDP offers the same media address with `a=sendonly` (RFC 6337 §5.3,
/// RFC 3264 §8.4); once it answers (normally `a=recvonly`), its media is no longer relayed to the other leg and the
/// engine plays hold music into its leg. Unhold re-INVITEs with `a=sendrecv`, stops the music and the legs relay
/// again. `call.held` / `call.resumed` events name the parties (`caller`, `callee` or `both`). A phone that refuses
/// the re-INVITE leaves that party as it was; its status is reported. Loop-confined like the rest of the B2BUA.
extension B2BUA {
    /// How long a phone may take to answer a hold re-INVITE before the operator hears `timedOut` (milliseconds).
    static let holdAnswerTimeoutMilliseconds: Int64 = 35_000

    /// Holds (`hold` true) or resumes `party` of call `id`; `completion` runs on the loop once every party named
    /// answered (or one failed). Call on the loop.
    public func setHold(callID id: String, party: CallHoldParty, hold: Bool,
                        completion: @escaping @Sendable (CallHoldOutcome) -> Void) {
        guard let call = calls[id], call.phase != .ended else { return completion(.notFound) }
        guard call.phase == .answered, call.acceptedCaller, let winner = call.winner, call.plan != nil,
              call.callerLeg != nil, call.calleeLeg != nil else { return completion(.notAnswered) }
        guard call.hold.pending == nil, call.reinviteFrom == nil else { return completion(.busy) }
        let parties: Set<CallHoldParty> = party == .both ? [.caller, .callee] : [party]
        if hold, let already = parties.sorted(by: { $0.rawValue < $1.rawValue }).first(where: { call.hold.held.contains($0) }) {
            return completion(.conflict("the \(already.rawValue) is already on hold"))
        }
        if !hold, let free = parties.sorted(by: { $0.rawValue < $1.rawValue }).first(where: { !call.hold.held.contains($0) }) {
            return completion(.conflict("the \(free.rawValue) is not on hold"))
        }
        // Both sessions must be able to start a re-INVITE now, or nothing is sent at all.
        for p in parties {
            let session = p == .caller ? call.caller : call.branches[winner].session
            guard case .connected = session.state else { return completion(.busy) }
        }
        call.hold.pending = CallHoldState.PendingHold(hold: hold, waiting: parties, requested: party, completion: completion)
        for p in parties.sorted(by: { $0.rawValue < $1.rawValue }) {
            let side: CallSide = p == .caller ? .caller : .branch(winner)
            guard let offer = holdOffer(call, side, direction: hold ? .sendonly : .sendrecv) else {
                holdPartyDone(call, p, failure: .busy)
                continue
            }
            let actions = feed(call, side, .reinvite(offer: offer))
            if actions.contains(where: { if case .commandRefused = $0 { true } else { false } }) {
                holdPartyDone(call, p, failure: .busy)
            }
        }
        guard call.hold.pending != nil else { return }
        endpoint.eventLoop.scheduleTask(in: .milliseconds(Self.holdAnswerTimeoutMilliseconds)) { [weak self, weak call] in
            guard let self, let call, let pending = call.hold.pending else { return }
            for p in pending.waiting.sorted(by: { $0.rawValue < $1.rawValue }) {
                self.holdPartyDone(call, p, failure: .timedOut(party: p.rawValue))
            }
        }
    }

    /// Which parties of call `id` Tandem holds now (call on the loop); empty for an unknown call.
    public func heldParties(callID id: String) -> Set<CallHoldParty> {
        calls[id]?.hold.held ?? []
    }

    /// The side's current stream offered again with `direction`.
    private func holdOffer(_ call: Call, _ side: CallSide, direction: SDPDirection) -> SessionBody? {
        guard let plan = call.plan, let leg = side == .caller ? call.callerLeg : call.calleeLeg else { return nil }
        let format = side == .caller ? plan.caller : plan.callee
        let sdp = CallSDP.description(format: format, leg: leg, direction: direction,
                                      origin: call.nextOrigin(for: side, address: leg.address))
        return SessionBody(bytes: Array(sdp.serialized.utf8))
    }

    private func holdParty(_ call: Call, _ side: CallSide) -> CallHoldParty? {
        guard let pending = call.hold.pending else { return nil }
        let party: CallHoldParty
        switch side {
        case .caller: party = .caller
        case .branch(let i):
            guard call.winner == i else { return nil }
            party = .callee
        }
        return pending.waiting.contains(party) ? party : nil
    }

    /// From `answerReceived`: a party answered Tandem's hold or unhold re-INVITE. (The B2BUA's own handling then
    /// points the leg at the answer and takes its direction.)
    func holdAnswerReceived(_ call: Call, _ side: CallSide, _ body: SessionBody) {
        guard let party = holdParty(call, side) else { return }
        holdPartyDone(call, party, failure: nil)
    }

    /// From `perform`: the party refused Tandem's re-INVITE. True when it was a hold re-INVITE (nothing else to do).
    func holdOfferRejected(_ call: Call, _ side: CallSide, code: Int) -> Bool {
        guard let party = holdParty(call, side) else { return false }
        // 491: the session retries by itself after the glare back-off; the hold stays pending.
        if code == 491 { return true }
        holdPartyDone(call, party, failure: .rejected(party: party.rawValue, status: code))
        return true
    }

    /// From `finish`: the call ended while a hold waited.
    func holdCallEnded(_ call: Call) {
        guard let pending = call.hold.pending else { return }
        call.hold.pending = nil
        pending.completion(.ended)
    }

    private func holdPartyDone(_ call: Call, _ party: CallHoldParty, failure: CallHoldOutcome?) {
        guard var pending = call.hold.pending, pending.waiting.remove(party) != nil else { return }
        if let failure {
            if pending.failure == nil { pending.failure = failure }
        } else {
            pending.accepted.append(party)
        }
        call.hold.pending = pending
        guard pending.waiting.isEmpty else { return }
        call.hold.pending = nil
        // The parties whose phones accepted change state (media and event), even when another one refused.
        if !pending.accepted.isEmpty {
            let legs = pending.accepted.compactMap { $0 == .caller ? call.callerLeg : call.calleeLeg }
            let media = media, hold = pending.hold
            for p in pending.accepted {
                if hold { call.hold.held.insert(p) } else { call.hold.held.remove(p) }
            }
            call.enqueueMedia {
                for leg in legs {
                    if hold { try? await media.startHold(leg) } else { try? await media.stopHold(leg) }
                }
            }
            let who: String = pending.accepted.count == 2 ? CallHoldParty.both.rawValue : pending.accepted[0].rawValue
            var event = CallEvent(kind: hold ? .held : .resumed, callID: call.id, caller: call.callerNumber,
                                  callee: call.calleeNumber, tenantID: call.tenant.id)
            event.details["party"] = who
            continuation.yield(event)
        }
        pending.completion(pending.failure ?? .done)
    }
}

extension B2BUA {
    /// The direction a relayed offer carries to `side`: a party Tandem holds keeps getting `a=sendonly` (Tandem
    /// sends it music) whatever the other phone offers, so its phone stays on hold until the API resumes it.
    func holdAdjusted(_ call: Call, _ side: CallSide, _ direction: SDPDirection) -> SDPDirection {
        call.hold.held.contains(side == .caller ? .caller : .callee) ? .sendonly : direction
    }
}
