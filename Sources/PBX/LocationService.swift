import SIPCore
import SIPStack
import TandemBase

/// The location service: every address of record's contact bindings. Pure and single-threaded (the registrar's
/// thread); time comes in as `now`, so expiry is tested without sleeping.
///
/// Expiry is lazy and swept: lookups never return a lapsed binding, and `removeExpired(now:)` (called by a
/// timer) deletes lapsed ones and reports them. The sweep is O(bindings) but runs only when the earliest
/// deadline has passed.
public struct LocationService: Sendable {
    private var table: [AddressOfRecord: [ContactBinding]] = [:]
    /// The earliest `expiresAt` of any binding (a lower bound after removals).
    private var earliestExpiry: Instant?

    public init() {}

    /// Number of addresses of record with at least one binding (lapsed ones included until swept).
    public var addressCount: Int { table.count }

    /// Number of bindings (lapsed ones included until swept).
    public var bindingCount: Int { table.values.reduce(0) { $0 + $1.count } }

    /// The live bindings of `aor`, highest q first (no q counts as 1.0, RFC 3261 §20.10), then most recent.
    public func bindings(for aor: AddressOfRecord, now: Instant) -> [ContactBinding] {
        (table[aor] ?? []).filter { now < $0.expiresAt }.sorted { a, b in
            let qa = a.q ?? 1, qb = b.q ?? 1
            return qa != qb ? qa > qb : a.registeredAt > b.registeredAt
        }
    }

    /// Every binding (lapsed ones included until swept), for diagnostics.
    public var allBindings: [ContactBinding] { table.values.flatMap { $0 } }

    /// All bindings of `aor` stored now, lapsed or not, in storage order.
    func stored(_ aor: AddressOfRecord) -> [ContactBinding] { table[aor] ?? [] }

    /// Replaces all bindings of `aor`.
    mutating func replace(_ aor: AddressOfRecord, with bindings: [ContactBinding]) {
        if bindings.isEmpty {
            table.removeValue(forKey: aor)
        } else {
            table[aor] = bindings
            for b in bindings where earliestExpiry.map({ b.expiresAt < $0 }) ?? true { earliestExpiry = b.expiresAt }
        }
    }

    /// Removes and returns every binding lapsed at `now`.
    public mutating func removeExpired(now: Instant) -> [ContactBinding] {
        guard let earliest = earliestExpiry, earliest <= now else { return [] }
        var removed: [ContactBinding] = []
        var next: Instant?
        for (aor, bindings) in table {
            var kept: [ContactBinding] = []
            for b in bindings {
                if b.expiresAt <= now {
                    removed.append(b)
                } else {
                    kept.append(b)
                    if next.map({ b.expiresAt < $0 }) ?? true { next = b.expiresAt }
                }
            }
            if kept.count != bindings.count {
                if kept.isEmpty { table.removeValue(forKey: aor) } else { table[aor] = kept }
            }
        }
        earliestExpiry = next
        return removed
    }

    /// Removes and returns the bindings that can be reached only over the stream connection `id`.
    public mutating func removeFlow(_ id: SIPTransportConnectionID) -> [ContactBinding] {
        var removed: [ContactBinding] = []
        for (aor, bindings) in table {
            let kept = bindings.filter { !($0.source.connectionID == id && $0.requiresFlow) }
            if kept.count != bindings.count {
                removed += bindings.filter { $0.source.connectionID == id && $0.requiresFlow }
                if kept.isEmpty { table.removeValue(forKey: aor) } else { table[aor] = kept }
            }
        }
        return removed
    }
}
