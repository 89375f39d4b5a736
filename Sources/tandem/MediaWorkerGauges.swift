import MediaEngine
import Prometheus

/// Per-worker media load as Prometheus gauges (`tandem_media_worker_*{worker="N"}`), shared by
/// `tandem serve` and `tandem media`; `refresh()` copies the engine's current figures, once per scrape.
struct MediaWorkerGauges: Sendable {
    private struct Worker: Sendable {
        let busy, legs, sessions, packetsIn, packetsOut, dropped: Gauge
    }
    private let engine: MediaEngine
    private let workers: [Worker]

    init(registry: PrometheusCollectorRegistry, engine: MediaEngine) {
        self.engine = engine
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
            registry.makeGauge(descriptor: .init(namespace: "tandem", subsystem: "media_worker", metricName: name, helpText: help),
                               labels: labels)
        }
        workers = engine.workerLoads().map { load in
            let labels = [("worker", String(load.index))]
            return Worker(
                busy: gauge("busy_ratio", "Share of the last load window the worker spent processing.", labels),
                legs: gauge("legs", "Legs (port pairs) open on the worker.", labels),
                sessions: gauge("sessions", "Media sessions on the worker.", labels),
                packetsIn: gauge("packets_received", "Datagrams received since start.", labels),
                packetsOut: gauge("packets_sent", "Datagrams sent since start.", labels),
                dropped: gauge("packets_dropped", "Datagrams dropped since start (any reason).", labels))
        }
    }

    /// Copies the workers' current load into the gauges.
    func refresh() {
        for load in engine.workerLoads() where load.index < workers.count {
            let g = workers[load.index]
            g.busy.set(load.busyFraction)
            g.legs.set(Int64(load.legs))
            g.sessions.set(Int64(load.sessions))
            g.packetsIn.set(Int64(clamping: load.packetsIn))
            g.packetsOut.set(Int64(clamping: load.packetsOut))
            g.dropped.set(Int64(clamping: load.packetsDropped))
        }
    }
}
