import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Prometheus

/// Builds the HTTP application: health, Prometheus metrics, and (later) the REST API and event feed.
public enum AdminHTTPServer {
    /// What the HTTP layer needs from the process around it.
    public struct Dependencies: Sendable {
        /// Registry whose metrics `GET /metrics` renders.
        public var metrics: PrometheusCollectorRegistry
        /// Produces the current health report; called per request.
        public var health: @Sendable () -> HealthReport
        /// Called once the listener is bound, with the actual host and port (useful with port 0).
        public var onListening: @Sendable (String, Int) async -> Void
        /// Called before `/metrics` renders, to refresh gauges that mirror other state.
        public var beforeMetrics: @Sendable () -> Void
        /// The REST API under `/api/v1` and its event websocket; nil serves only /health and /metrics
        /// (`tandem media`).
        public var api: AdminAPIService?

        public init(metrics: PrometheusCollectorRegistry, health: @escaping @Sendable () -> HealthReport,
                    onListening: @escaping @Sendable (String, Int) async -> Void,
                    beforeMetrics: @escaping @Sendable () -> Void = {}, api: AdminAPIService? = nil) {
            self.metrics = metrics
            self.health = health
            self.onListening = onListening
            self.beforeMetrics = beforeMetrics
            self.api = api
        }
    }

    /// The routes, separate from the listener so tests can drive them without sockets.
    /// Metrics come first (every request counted and timed, labelled by route template), then problem details
    /// (every error becomes an RFC 9457 response).
    public static func makeRouter(_ deps: Dependencies) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.get("/health") { _, _ in deps.health() }
        router.get("/metrics") { _, _ -> Response in
            deps.beforeMetrics()
            let body = deps.metrics.emitToBuffer()
            var headers = HTTPFields()
            // Prometheus text exposition format 0.0.4.
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        if let api = deps.api { AdminAPIRoutes.register(on: router, service: api) }
        return router
    }

    /// The router that decides WebSocket upgrades (only `GET /api/v1/events`).
    public static func makeWebSocketRouter(_ deps: Dependencies) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        if let api = deps.api { EventSocket.register(on: router, service: api) }
        return router
    }

    /// An application listening on `host:port` (port 0 picks a free one).
    public static func makeApplication(host: String, port: Int, dependencies deps: Dependencies,
                                       logger: Logger) -> some ApplicationProtocol {
        Application(
            router: makeRouter(deps),
            server: .http1WebSocketUpgrade(webSocketRouter: makeWebSocketRouter(deps)),
            configuration: .init(address: .hostname(host, port: port), serverName: "tandem"),
            onServerRunning: { channel in
                let bound = channel.localAddress
                await deps.onListening(bound?.ipAddress ?? host, bound?.port ?? port)
            },
            logger: logger
        )
    }
}
