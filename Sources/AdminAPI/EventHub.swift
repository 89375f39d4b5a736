import Foundation
import NIOConcurrencyHelpers
import TandemBase

/// One live event for the event websocket, already scoped: `tenantID` and (for extension events) `extension`
/// decide who may see it.
public struct APIEvent: Sendable, Encodable, Equatable {
    /// `extensions` for registration events (the only topic until calls land).
    public var topic: String
    /// `registered`, `refreshed`, `unregistered`, `expired`, `flow_closed`.
    public var type: String
    public var tenantID: String
    /// The extension number the event is about.
    public var `extension`: String?
    public var occurredAt: Date
    /// Details (contact, transport, source address).
    public var data: [String: String]

    public init(topic: String, type: String, tenantID: String, extension: String?, occurredAt: Date, data: [String: String]) {
        self.topic = topic
        self.type = type
        self.tenantID = tenantID
        self.extension = `extension`
        self.occurredAt = occurredAt
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case topic, type, data
        case tenantID = "tenant_id"
        case `extension` = "extension"
        case occurredAt = "occurred_at"
    }

    /// A registration event from a snapshot of the binding it is about.
    public static func registration(_ kind: String, _ r: RegistrationSnapshot) -> APIEvent {
        var data = ["contact": r.contact, "transport": r.transport, "source": r.source, "aor": r.aor]
        if let ua = r.userAgent { data["user_agent"] = ua }
        return APIEvent(topic: "extensions", type: kind, tenantID: r.tenantID, extension: r.number, occurredAt: Date(), data: data)
    }
}

/// Fans events out to every websocket subscriber whose filter accepts them. Any thread; `publish` takes one lock
/// and yields to each matching subscriber's bounded buffer (the newest 1024 are kept for a slow reader).
public final class EventHub: Sendable {
    struct Subscriber {
        var accepts: @Sendable (APIEvent) -> Bool
        var continuation: AsyncStream<APIEvent>.Continuation
    }

    private let subscribers = NIOLockedValueBox<[UInt64: Subscriber]>([:])
    private let nextID = NIOLockedValueBox<UInt64>(0)
    /// Sees every published event (the webhook outbox). A slot, not a closure in a lock box: see `CallbackSlot`.
    private let tap = CallbackSlot<APIEvent>()

    public init() {}

    /// Number of live subscriptions.
    public var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    /// Delivers `event` to every subscriber that accepts it.
    public func publish(_ event: APIEvent) {
        _ = try? tap.call(event)
        let targets = subscribers.withLockedValue { table in table.values.filter { $0.accepts(event) }.map(\.continuation) }
        for c in targets { c.yield(event) }
    }

    func setWebhookTap(_ body: @escaping @Sendable (APIEvent) -> Void) { tap.set(body) }

    /// A new subscription; the stream ends when `cancel` is called.
    func subscribe(accepts: @escaping @Sendable (APIEvent) -> Bool) -> (id: UInt64, stream: AsyncStream<APIEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: APIEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let id = nextID.withLockedValue { $0 += 1; return $0 }
        subscribers.withLockedValue { $0[id] = Subscriber(accepts: accepts, continuation: continuation) }
        continuation.onTermination = { [weak self] _ in self?.cancel(id) }
        return (id, stream)
    }

    func cancel(_ id: UInt64) {
        let removed = subscribers.withLockedValue { $0.removeValue(forKey: id) }
        removed?.continuation.finish()
    }
}

/// A contact binding as the API shows it.
public struct RegistrationSnapshot: Sendable, Equatable {
    public var tenantID: String
    /// The extension number (the address of record's user part).
    public var number: String
    /// `sip:number@domain`.
    public var aor: String
    public var contact: String
    /// `udp`, `tcp`, `tls`, `ws`, `wss`.
    public var transport: String
    /// The address the REGISTER came from, `host:port`.
    public var source: String
    public var registeredAt: Date
    public var expiresAt: Date
    public var userAgent: String?

    public init(tenantID: String, number: String, aor: String, contact: String, transport: String, source: String,
                registeredAt: Date, expiresAt: Date, userAgent: String?) {
        self.tenantID = tenantID
        self.number = number
        self.aor = aor
        self.contact = contact
        self.transport = transport
        self.source = source
        self.registeredAt = registeredAt
        self.expiresAt = expiresAt
        self.userAgent = userAgent
    }
}

/// Where the API reads current registrations from (the executable adapts the PBX registrar), so that AdminAPI
/// does not depend on the SIP stack.
public protocol RegistrationSource: Sendable {
    /// Every live binding.
    func registrations() async -> [RegistrationSnapshot]
}

/// No registrations (a server without SIP, and tests that do not need any).
public struct NoRegistrations: RegistrationSource {
    public init() {}
    public func registrations() async -> [RegistrationSnapshot] { [] }
}
