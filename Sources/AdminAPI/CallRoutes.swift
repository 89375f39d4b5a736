import Foundation
import Hummingbird
import NIOCore
import Store

/// A call not yet ended, as the API shows it.
public struct ActiveCallInfo: Sendable, Equatable {
    public enum State: String, Sendable, Encodable { case ringing, answered }
    public var id: String
    public var tenantID: String
    public var caller: String
    /// The dialled number.
    public var callee: String
    public var state: State
    public var startedAt: Date
    public var answeredAt: Date?
    /// The extension being rung (or that answered): the dialled one, or where forwarding or a transfer led.
    public var target: String

    public init(id: String, tenantID: String, caller: String, callee: String, state: State, startedAt: Date,
                answeredAt: Date?, target: String) {
        self.id = id
        self.tenantID = tenantID
        self.caller = caller
        self.callee = callee
        self.state = state
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.target = target
    }

    /// Whether extension `number` takes part in the call (as caller, dialled number or current target).
    func involves(_ number: String) -> Bool { caller == number || callee == number || target == number }
}

/// Where the API reads active calls from and hangs them up (the executable adapts the PBX's B2BUA), so that
/// AdminAPI does not depend on the SIP stack.
public protocol CallControlSource: Sendable {
    /// Every call not yet ended, oldest first.
    func activeCalls() async -> [ActiveCallInfo]
    /// Ends call `id` (BYE or CANCEL to every party; the CDR says `admin`). False when no such call is active.
    func hangUp(callID: String) async -> Bool
    /// Holds (`hold` true) or resumes `party` of call `id` with re-INVITEs (default: `.unsupported`; CallHoldRoutes.swift).
    func setHold(callID: String, party: HoldParty, hold: Bool) async -> CallHoldResult
    /// Blind transfer (CallActionRoutes.swift; default: unavailable).
    func transfer(callID: String, party: String, target: String) async -> CallActionOutcome
    /// Attended transfer (CallActionRoutes.swift; default: unavailable).
    func attendedTransfer(callID: String, party: String?, replacingCallID: String) async -> CallActionOutcome
    /// Click-to-call (CallActionRoutes.swift; default: unavailable).
    func clickToCall(tenantID: String, tenantDomain: String, caller: String, callee: String) async -> CallActionOutcome
}

/// What became of a call action of the admin API (transfer, click-to-call); CallActionRoutes.swift maps it to HTTP.
public enum CallActionOutcome: Sendable, Equatable {
    /// Started: the call as it is now.
    case accepted(ActiveCallInfo)
    /// No such active call (or not one of the tenant's).
    case notFound
    /// The call is not in a state that allows it (not answered, a transfer running, no shared party, …).
    case conflict(String)
    /// The transfer target (field `target`) or a party (field named) is not an extension of the tenant.
    case invalidField(field: String, message: String)
    /// This server cannot do it (no SIP service).
    case unavailable(String)
}

/// Call actions (CallActionRoutes.swift); sources that cannot act answer `unavailable`.
extension CallControlSource {
    /// Blind transfer: the other party of `party` ("caller" or "callee") of call `callID` is connected to extension
    /// `target`; `party` is hung up when the target answers.
    public func transfer(callID: String, party: String, target: String) async -> CallActionOutcome {
        .unavailable("call transfer is not available on this server")
    }

    /// Attended transfer: calls `callID` and `replacingCallID` share a party (`party` of `callID`, or either
    /// when nil); the other two parties are joined and the shared one is hung up on both calls.
    public func attendedTransfer(callID: String, party: String?, replacingCallID: String) async -> CallActionOutcome {
        .unavailable("call transfer is not available on this server")
    }

    /// Click-to-call: rings extension `caller` of `tenantID` (whose SIP domain is `tenantDomain`); when it answers, calls `callee` from it.
    public func clickToCall(tenantID: String, tenantDomain: String, caller: String, callee: String) async -> CallActionOutcome {
        .unavailable("click-to-call is not available on this server")
    }
}

/// No calls (a server without SIP, and tests that do not need any).
public struct NoCalls: CallControlSource {
    public init() {}
    public func activeCalls() async -> [ActiveCallInfo] { [] }
    public func hangUp(callID: String) async -> Bool { false }
}

extension APIEvent {
    /// A call event on topic `calls` (`started`, `ringing`, `answered`, `transferred`, `ended`; webhooks see
    /// `call.<type>`), about the caller's extension; `data` has `call_id`, `caller`, `callee` and any `extra`.
    public static func call(_ type: String, callID: String, tenantID: String, caller: String, callee: String,
                            occurredAt: Date, extra: [String: String] = [:]) -> APIEvent {
        var data = extra
        data["call_id"] = callID
        data["caller"] = caller
        data["callee"] = callee
        return APIEvent(topic: "calls", type: type, tenantID: tenantID, extension: caller, occurredAt: occurredAt, data: data)
    }
}

struct ActiveCallDTO: Encodable {
    var call: ActiveCallInfo

    enum CodingKeys: String, CodingKey {
        case id, tenantID = "tenant_id", caller, callee, state, startedAt = "started_at", answeredAt = "answered_at", target
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(call.id, forKey: .id)
        try c.encode(call.tenantID, forKey: .tenantID)
        try c.encode(call.caller, forKey: .caller)
        try c.encode(call.callee, forKey: .callee)
        try c.encode(call.state, forKey: .state)
        try c.encode(call.startedAt, forKey: .startedAt)
        try c.encode(call.answeredAt, forKey: .answeredAt)
        try c.encode(call.target, forKey: .target)
    }
}

extension AdminAPIService {
    /// The active calls the caller may see: the system administrator every tenant's (or the one it names), an
    /// administrator or API key its tenant's, an extension user only the calls it takes part in.
    func visibleActiveCalls(_ caller: Caller, requestedTenant: String?) async throws -> [ActiveCallInfo] {
        var all = await calls.activeCalls()
        if caller.role == .extensionUser {
            let me = try visibleExtension(caller, id: caller.subjectID)
            all = all.filter { $0.tenantID == me.tenantID && $0.involves(me.number) }
        } else if !(caller.isSystemAdmin && requestedTenant == nil) {
            let tenantID = try tenantScope(caller, requested: requestedTenant)
            all = all.filter { $0.tenantID == tenantID }
        }
        return all
    }

    /// Active call `id` when the caller may see it; 404 otherwise (also for other tenants' calls).
    func visibleActiveCall(_ caller: Caller, id: String) async throws -> ActiveCallInfo {
        guard let call = try await visibleActiveCalls(caller, requestedTenant: nil).first(where: { $0.id == id })
        else { throw Problem.notFound("call") }
        return call
    }
}

extension AdminAPIRoutes {
    static func registerActiveCalls(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("calls") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let all = try await s.visibleActiveCalls(caller, requestedTenant: request.uri.queryParameters.get("tenant_id"))
            let p = page.page(all, key: { String(format: "%016.3f", $0.startedAt.timeIntervalSince1970) + "/" + $0.id })
            return try APIJSON.response(Page(items: p.items.map { ActiveCallDTO(call: $0) }, nextCursor: p.nextCursor))
        }
        g.get("calls/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
            return try APIJSON.response(ActiveCallDTO(call: call))
        }
        g.delete("calls/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let call = try await s.visibleActiveCall(caller, id: try context.parameters.require("id"))
            // The call ended between the lookup and the hang-up: it is no longer active.
            guard await s.calls.hangUp(callID: call.id) else { throw Problem.notFound("call") }
            return APIJSON.noContent()
        }
    }
}
