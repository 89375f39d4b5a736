import Foundation
import Hummingbird
import NIOCore
import Store

/// Which parties of a call a hold or unhold names.
public enum HoldParty: String, Sendable, CaseIterable {
    case caller, callee, both
}

/// How a hold or unhold through `CallControlSource` ended.
public enum CallHoldResult: Sendable, Equatable {
    /// Done; `held` lists the parties on hold now (`caller`, `callee`).
    case done(held: [String])
    /// No such active call.
    case notFound
    /// Not answered yet: nothing to hold.
    case notAnswered
    /// Already held (hold) or not held (unhold); the detail says which party.
    case conflict(String)
    /// Another re-INVITE of the call is in progress.
    case busy
    /// The party's phone refused the re-INVITE with this SIP status.
    case rejected(party: String, status: Int)
    /// The party's phone did not answer the re-INVITE.
    case timedOut(party: String)
    /// The call ended during the re-INVITE.
    case ended
    /// This server cannot hold calls (no SIP service behind the API).
    case unsupported
}

extension CallControlSource {
    public func setHold(callID: String, party: HoldParty, hold: Bool) async -> CallHoldResult { .unsupported }
}

struct CallHoldDTO: Encodable {
    var callID: String
    var held: [String]

    enum CodingKeys: String, CodingKey {
        case callID = "call_id", held
    }
}

extension CallHoldResult {
    /// The API's answer: 200 with the held parties, or the problem.
    func response(callID: String) throws -> Response {
        switch self {
        case .done(let held):
            return try APIJSON.response(CallHoldDTO(callID: callID, held: held))
        case .notFound:
            throw Problem.notFound("call")
        case .notAnswered:
            throw Problem.conflict("the call is not answered")
        case .conflict(let detail):
            throw Problem.conflict(detail)
        case .busy:
            throw Problem.conflict("another re-INVITE of the call is in progress; try again")
        case .ended:
            throw Problem.conflict("the call ended during the re-INVITE")
        case .rejected(let party, let status):
            throw Problem(status: .badGateway, type: "reinvite-rejected", title: "The phone refused the re-INVITE",
                          detail: "the \(party)'s phone answered the re-INVITE with \(status)")
        case .timedOut(let party):
            throw Problem(status: .gatewayTimeout, type: "reinvite-timeout", title: "The phone did not answer the re-INVITE",
                          detail: "the \(party)'s phone did not answer the re-INVITE in time")
        case .unsupported:
            throw Problem(status: .serviceUnavailable, type: "unavailable", title: "Service unavailable",
                          detail: "this server does not hold calls")
        }
    }
}

extension AdminAPIRoutes {
    /// `POST /calls/{id}/hold` and `/unhold`, body optional `{"party":"caller"|"callee"|"both"}` (default both).
    static func registerCallHold(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        for hold in [true, false] {
            g.post(hold ? "calls/:id/hold" : "calls/:id/unhold") { request, context -> Response in
                let caller = try context.requireCaller()
                let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
                let party = try await readHoldParty(request, context: context)
                return try await s.calls.setHold(callID: call.id, party: party, hold: hold).response(callID: call.id)
            }
        }
    }

    /// The optional body's `party`; an empty body means both.
    static func readHoldParty(_ request: Request, context: APIRequestContext) async throws -> HoldParty {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return .both }
        var body = try JSONBody(bytes: Data(buffer: buffer))
        let raw = body.string("party", maxLength: 16)
        var party = HoldParty.both
        if case .value(let name) = raw {
            if let p = HoldParty(rawValue: name) { party = p } else { body.addError("party", "must be caller, callee or both") }
        }
        try body.finish()
        return party
    }
}
