import Foundation

extension APIEvent {
    /// A media event on topic `media` (webhooks see `media.<type>`): `stream_timeout` when a call was hung up
    /// because its media stopped, `quality_alarm` / `quality_recovered` when a leg's MOS estimate crosses the
    /// alarm threshold. `data` has `call_id` and the details; no extension, so extension users do not see them.
    public static func media(_ type: String, callID: String, tenantID: String, occurredAt: Date,
                             extra: [String: String] = [:]) -> APIEvent {
        var data = extra
        data["call_id"] = callID
        return APIEvent(topic: "media", type: type, tenantID: tenantID, extension: nil, occurredAt: occurredAt, data: data)
    }
}

/// Watches the MOS estimates of the active media sessions' legs and reports each crossing of the alarm
/// threshold once: `quality_alarm` when a leg that carries media falls below `threshold`, `quality_recovered`
/// when it climbs back above `threshold + hysteresis`. Sessions that are gone are forgotten. Not thread-safe:
/// one task feeds it (`run`).
public struct MediaQualityMonitor: Sendable {
    public var threshold: Double
    public var hysteresis: Double
    /// Legs (session id, stream index) currently in alarm.
    private var alarmed: Set<String> = []

    public init(threshold: Double, hysteresis: Double = 0.3) {
        self.threshold = threshold
        self.hysteresis = hysteresis
    }

    /// The events a new snapshot of every active session causes.
    public mutating func events(for sessions: [MediaSessionInfo], at now: Date) -> [APIEvent] {
        var out: [APIEvent] = []
        var present: Set<String> = []
        for session in sessions {
            for stream in session.streams {
                let key = session.id + "#" + String(stream.index)
                present.insert(key)
                // A leg that has not carried media yet has nothing to judge.
                guard stream.packetsIn > 0 else { continue }
                let mos = stream.meanOpinionScore
                let details = ["leg": String(stream.index), "mos": String(format: "%.2f", mos),
                               "threshold": String(format: "%.2f", threshold),
                               "loss_fraction": String(format: "%.4f", stream.lossFraction),
                               "jitter_ms": String(format: "%.1f", stream.jitterMilliseconds)]
                if mos < threshold, !alarmed.contains(key) {
                    alarmed.insert(key)
                    out.append(.media("quality_alarm", callID: session.callID, tenantID: session.tenantID, occurredAt: now,
                                      extra: details))
                } else if mos >= threshold + hysteresis, alarmed.contains(key) {
                    alarmed.remove(key)
                    out.append(.media("quality_recovered", callID: session.callID, tenantID: session.tenantID,
                                      occurredAt: now, extra: details))
                }
            }
        }
        alarmed.formIntersection(present)
        return out
    }

    /// Samples `source` every `interval` and publishes the events on `hub` until the task is cancelled.
    public static func run(source: any MediaSessionSource, hub: EventHub, threshold: Double, interval: Duration) async {
        var monitor = MediaQualityMonitor(threshold: threshold)
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            for event in monitor.events(for: await source.mediaSessions(), at: Date()) { hub.publish(event) }
        }
    }
}
