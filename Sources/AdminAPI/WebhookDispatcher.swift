import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import Store
import TandemBase

/// Delivers the webhook outbox (the `webhook_outbox` table): POSTs each event's JSON body to its webhook's URL,
/// signed, and deletes it on a 2xx answer; on any other answer or a network error it is retried with
/// exponential backoff and jitter, up to `maximumAttempts`, then kept as `dead`.
///
/// Guarantees: nothing is lost while the receiver is down or Tandem restarts (events enter the outbox in the
/// transaction that records them, and leave it only after a 2xx); deliveries with the same ordering key (a call
/// id) to the same webhook go out one at a time in the order they were recorded (others may pass); every attempt
/// of one event carries the same `X-Tandem-Event-Id`, so a receiver that deduplicates on it sees each event
/// exactly once (a crash between the receiver's 2xx and the delete repeats the delivery, with that same id).
///
/// Headers: `X-Tandem-Event-Id`, `X-Tandem-Event` (its type), `X-Tandem-Timestamp` (Unix seconds),
/// `X-Tandem-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
public final class WebhookDispatcher: Sendable {
    public struct Configuration: Sendable {
        /// Attempts before a delivery is given up (kept as `dead`). Default: about a day with the backoff below.
        public var maximumAttempts = 15
        /// Wait after the first failure; doubled after each further one, up to `maximumBackoff`.
        public var initialBackoff: TimeInterval = 5
        public var maximumBackoff: TimeInterval = 3600
        /// Each wait is scaled by a random factor in 1 ± `jitter`.
        public var jitter = 0.2
        public var requestTimeout: TimeInterval = 10
        /// Deliveries in flight at once (each to a different webhook or ordering key).
        public var concurrency = 8
        /// The outbox is re-read at least this often even without a new event.
        public var idlePoll: TimeInterval = 30

        public init() {}
    }

    let store: TandemStore
    let configuration: Configuration
    let now: @Sendable () -> Date
    let logger: Logger
    private let wakeup = Wakeup()
    private let delivered: Prometheus.Counter
    private let failed: Prometheus.Counter
    private let dead: Prometheus.Counter

    public init(store: TandemStore, metrics: PrometheusCollectorRegistry, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "tandem.webhooks"), now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.configuration = configuration
        self.now = now
        self.logger = logger
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            metrics.makeCounter(descriptor: .init(namespace: "tandem", subsystem: "webhook", metricName: name, unitName: "total",
                                                  helpText: help))
        }
        delivered = counter("delivered", "Webhook events the receiver accepted (2xx).")
        failed = counter("failed_attempts", "Webhook delivery attempts that failed (non-2xx or network error).")
        dead = counter("dead", "Webhook events given up after the last attempt.")
    }

    /// Something entered the outbox: look now rather than at the next poll.
    public func notify() { wakeup.signal() }

    /// Delivers until the task is cancelled. The HTTP session lives only as long as this call.
    public func run() async {
        // AsyncHTTPClient on NIO's shared loops: cancellation-safe (a stop during a delivery cancels the request;
        // URLSession on Linux could deadlock cancelling its task), no redirects (a 3xx is a failed attempt).
        let timeout = TimeAmount.milliseconds(Int64(configuration.requestTimeout * 1000))
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: HTTPClient.Configuration.Timeout(connect: timeout, read: timeout))
        clientConfiguration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.concurrency))
        let session = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        while !Task.isCancelled {
            let due: [WebhookDelivery]
            do {
                due = try store.dueWebhookDeliveries(now: now(), limit: configuration.concurrency)
            } catch {
                logger.error("cannot read the webhook outbox", metadata: ["error": "\(error)"])
                await wakeup.wait(seconds: 1)
                continue
            }
            if !due.isEmpty {
                await withTaskGroup(of: Void.self) { group in
                    for d in due { group.addTask { await self.deliver(d, session: session) } }
                }
                continue
            }
            var wait = configuration.idlePoll
            if let next = try? store.nextWebhookAttempt() { wait = min(wait, max(0.005, next.timeIntervalSince(now()))) }
            await wakeup.wait(seconds: wait)
        }
        try? await session.shutdown()
    }

    /// The signature header value of `body` sent at `timestamp`.
    public static func signature(secret: String, timestamp: Int64, body: Data) -> String {
        "sha256=" + Digest.sha256.hmac(key: Array(secret.utf8), data: Array("\(timestamp).".utf8) + Array(body)).hexString
    }

    /// The wait after `attempts` failed attempts (1 = the first failure), before jitter.
    func backoff(afterAttempts attempts: Int) -> TimeInterval {
        let exponent = Double(min(max(attempts - 1, 0), 30))
        return min(configuration.maximumBackoff, configuration.initialBackoff * pow(2, exponent))
    }

    private func deliver(_ d: WebhookDelivery, session: HTTPClient) async {
        guard let seq = d.seq else { return }
        guard let hook = try? store.webhook(id: d.webhookID) else { return }  // deleted: its outbox went with it
        if !hook.isEnabled {
            // Disabled: keep the events, look again later without counting an attempt.
            try? store.postponeWebhookDelivery(seq: seq, until: now().addingTimeInterval(configuration.idlePoll))
            return
        }
        let timestamp = Int64(now().timeIntervalSince1970)
        var status: Int?
        var problem = ""
        if URL(string: hook.url) != nil {
            var request = HTTPClientRequest(url: hook.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Tandem/\(TandemVersion.current)")
            request.headers.add(name: "X-Tandem-Event-Id", value: d.eventID)
            request.headers.add(name: "X-Tandem-Event", value: d.eventType)
            request.headers.add(name: "X-Tandem-Timestamp", value: String(timestamp))
            request.headers.add(name: "X-Tandem-Signature", value: Self.signature(secret: hook.secret, timestamp: timestamp, body: d.body))
            request.body = .bytes(ByteBuffer(bytes: Array(d.body)))
            do {
                let response = try await session.execute(request, timeout: .milliseconds(Int64(configuration.requestTimeout * 1000)))
                // The answer's body is not used; read (a bounded amount of) it so the connection can be reused.
                _ = try? await response.body.collect(upTo: 64 * 1024)
                let code = Int(response.status.code)
                status = code
                if (200..<300).contains(code) {
                    do { try store.webhookDelivered(seq: seq) } catch {
                        logger.error("cannot remove a delivered webhook event", metadata: ["event": "\(d.eventID)", "error": "\(error)"])
                    }
                    delivered.increment()
                    return
                }
                problem = "HTTP \(code)"
            } catch {
                problem = "\(error)"
            }
        } else {
            problem = "invalid URL"
        }
        failed.increment()
        let attempts = d.attempts + 1
        let isDead = attempts >= configuration.maximumAttempts
        let factor = 1 + configuration.jitter * Double.random(in: -1...1)
        let next = now().addingTimeInterval(backoff(afterAttempts: attempts) * factor)
        if isDead {
            dead.increment()
            logger.warning("webhook event given up", metadata: ["event": "\(d.eventID)", "webhook": "\(hook.id)", "error": "\(problem)"])
        }
        do {
            try store.webhookAttemptFailed(seq: seq, status: status, error: problem, nextAttemptAt: next, dead: isDead)
        } catch {
            logger.error("cannot record a webhook attempt", metadata: ["event": "\(d.eventID)", "error": "\(error)"])
        }
    }
}

/// A one-slot wake-up signal: `signal` before `wait` is remembered; `wait` returns on a signal or the timeout.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    func signal() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    func wait(seconds: TimeInterval) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000))) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { s -> Bool in
                    if s.pending { s.pending = false; return true }
                    if Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
