import Foundation
import NIOConcurrencyHelpers

/// Counts failed logins per key (client address, user name) in a sliding window. Any thread (one lock; a
/// dictionary of small arrays, pruned as they are touched and when it grows).
final class LoginRateLimiter: Sendable {
    struct Configuration: Sendable {
        /// Failures allowed per key within `window` before further attempts are refused.
        var maximumFailures = 5
        var window: TimeInterval = 60
    }

    private let configuration: Configuration
    private let failures = NIOLockedValueBox<[String: [Date]]>([:])

    init(configuration: Configuration) { self.configuration = configuration }

    /// Seconds until `key` may try again, or nil when it may now.
    func retryAfter(_ keys: [String], now: Date) -> Int? {
        failures.withLockedValue { table in
            var wait: TimeInterval?
            for key in keys {
                let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < configuration.window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= configuration.maximumFailures, let oldest = recent.first {
                    let w = configuration.window - now.timeIntervalSince(oldest)
                    wait = max(wait ?? 0, w)
                }
            }
            return wait.map { max(1, Int($0.rounded(.up))) }
        }
    }

    func recordFailure(_ keys: [String], now: Date) {
        failures.withLockedValue { table in
            for key in keys { table[key, default: []].append(now) }
            if table.count > 100_000 {
                table = table.filter { $0.value.contains { now.timeIntervalSince($0) < configuration.window } }
            }
        }
    }
}
