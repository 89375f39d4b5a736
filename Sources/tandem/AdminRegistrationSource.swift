import AdminAPI
import Foundation
import NIOCore
import PBX
import TandemBase

/// The registrar's location service as the admin API's registration source. The registrar is confined to the
/// SIP endpoint's event loop, so each read hops onto it and copies the live bindings out.
struct RegistrarRegistrationSource: RegistrationSource {
    let registrar: Registrar
    let eventLoop: any EventLoop
    let clock = MonotonicClock()

    func registrations() async -> [RegistrationSnapshot] {
        let registrar = registrar, clock = clock
        let bindings = (try? await eventLoop.submit { () -> [ContactBinding] in
            let now = clock.now()
            return registrar.location.allBindings.filter { now < $0.expiresAt }
        }.get()) ?? []
        let now = clock.now(), wall = Date()
        return bindings.map { Self.snapshot($0, now: now, wall: wall) }
    }

    /// A binding with its monotonic instants turned into wall-clock times.
    static func snapshot(_ b: ContactBinding, now: Instant, wall: Date) -> RegistrationSnapshot {
        func date(_ i: Instant) -> Date { wall.addingTimeInterval(Double(i.milliseconds(since: now)) / 1000) }
        let host = b.source.remote.ipAddress ?? "?"
        let address = host.contains(":") ? "[\(host)]" : host
        return RegistrationSnapshot(tenantID: b.aor.tenantID, number: b.aor.user, aor: b.aor.description,
                                    contact: b.contact.uri.description, transport: b.source.kind.rawValue,
                                    source: "\(address):\(b.source.remote.port ?? 0)", registeredAt: date(b.registeredAt),
                                    expiresAt: date(b.expiresAt), userAgent: b.userAgent)
    }

    /// The event the API publishes for a registrar event.
    static func event(_ e: RegistrationEvent) -> APIEvent {
        let kind: String = switch e.kind {
        case .registered: "registered"
        case .refreshed: "refreshed"
        case .unregistered: "unregistered"
        case .expired: "expired"
        case .flowClosed: "flow_closed"
        }
        return .registration(kind, snapshot(e.binding, now: MonotonicClock().now(), wall: Date()))
    }
}
