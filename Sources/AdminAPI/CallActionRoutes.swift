import Foundation
import Hummingbird
import Store

/// Call actions of the admin API: `POST /calls/{id}/transfer` (blind with `target`, attended with
/// `replaces_call_id`) and `POST /calls` (click-to-call). Visibility is that of the active-call routes: a tenant's
/// administrators and API keys act on every call of the tenant, an extension user only on calls it takes part in
/// and click-to-call only as its own caller; anything else is 404 (403 for an extension user naming another caller).
extension AdminAPIRoutes {
    static func registerCallActions(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.post("calls/:id/transfer") { request, context -> Response in
            let caller = try context.requireCaller()
            let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
            var body = try await JSONBody.read(request, context: context)
            let party = body.string("party", maxLength: 16).value
            let target = body.string("target", maxLength: 64).value
            let replaces = body.string("replaces_call_id", maxLength: 128).value
            if let party, CallActionParty(rawValue: party) == nil { body.addError("party", "must be caller or callee") }
            switch (target, replaces) {
            case (nil, nil):
                body.addError("target", "target (blind transfer) or replaces_call_id (attended transfer) is required")
            case (.some, .some):
                body.addError("replaces_call_id", "must not be given with target")
            case (let t?, nil):
                if party == nil { body.addError("party", "is required") }
                if !TandemStore.isValidExtensionNumber(t) { body.addError("target", "must be an extension number") }
            case (nil, .some):
                break
            }
            try body.finish()
            let outcome: CallActionOutcome
            if let target {
                guard try s.store.extensionRecord(tenantID: call.tenantID, number: target) != nil else {
                    throw Problem.invalid("target", "no such extension in the call's tenant")
                }
                outcome = await s.calls.transfer(callID: call.id, party: party ?? "", target: target)
            } else {
                let other = try await s.visibleActiveCall(caller, id: replaces ?? "")
                outcome = await s.calls.attendedTransfer(callID: call.id, party: party, replacingCallID: other.id)
            }
            return try callActionResponse(outcome, what: "call", success: .accepted)
        }
        g.post("calls") { request, context -> Response in
            let caller = try context.requireCaller()
            var body = try await JSONBody.read(request, context: context)
            let from = body.requiredString("caller", maxLength: 64)
            let to = body.requiredString("callee", maxLength: 64)
            let requestedTenant = body.string("tenant_id", maxLength: 128).value
            if !from.isEmpty, !TandemStore.isValidExtensionNumber(from) { body.addError("caller", "must be an extension number") }
            if !to.isEmpty, !TandemStore.isValidExtensionNumber(to) { body.addError("callee", "must be a number") }
            try body.finish()
            let tenantID: String
            if caller.role == .extensionUser {
                let me = try s.visibleExtension(caller, id: caller.subjectID)
                guard me.number == from else { throw Problem.forbidden("an extension user can only call out as itself") }
                tenantID = me.tenantID
            } else {
                tenantID = try s.tenantScope(caller, requested: requestedTenant)
            }
            guard let tenant = try s.store.tenant(id: tenantID) else { throw Problem.notFound("tenant") }
            guard try s.store.extensionRecord(tenantID: tenantID, number: from) != nil else {
                throw Problem.invalid("caller", "no such extension in the tenant")
            }
            let outcome = await s.calls.clickToCall(tenantID: tenantID, tenantDomain: tenant.domain, caller: from, callee: to)
            return try callActionResponse(outcome, what: "call", success: .created)
        }
    }

    static func callActionResponse(_ outcome: CallActionOutcome, what: String, success: HTTPResponse.Status) throws -> Response {
        switch outcome {
        case .accepted(let call): return try APIJSON.response(ActiveCallDTO(call: call), status: success)
        case .notFound: throw Problem.notFound(what)
        case .conflict(let detail): throw Problem.conflict(detail)
        case .invalidField(let field, let message): throw Problem.invalid(field, message)
        case .unavailable(let detail):
            throw Problem(status: .serviceUnavailable, type: "unavailable", title: "Service unavailable", detail: detail)
        }
    }
}

/// The `party` of a transfer request.
enum CallActionParty: String { case caller, callee }
