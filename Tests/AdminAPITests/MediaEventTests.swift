import Foundation
import Testing
@testable import AdminAPI

@Suite struct MediaEventTests {
    private func session(_ id: String, mos: [Double], packetsIn: UInt64 = 500) -> MediaSessionInfo {
        MediaSessionInfo(id: id, callID: id, tenantID: "t1", streams: mos.enumerated().map { i, m in
            MediaStreamInfo(index: i, localAddress: "127.0.0.1", localRTPPort: 30000 + 2 * i, localRTCPPort: 30001 + 2 * i,
                            remoteAddress: "127.0.0.1:4000", codec: "PCMU/8000", packetsIn: packetsIn, bytesIn: 0,
                            packetsOut: 0, bytesOut: 0, packetsDropped: 0, packetsLost: 0, lossFraction: 0.1,
                            jitterMilliseconds: 30, roundTripMilliseconds: nil, meanOpinionScore: m)
        })
    }

    @Test func aLegCrossingTheThresholdAlarmsOnceAndRecoversWithHysteresis() {
        var monitor = MediaQualityMonitor(threshold: 3.1, hysteresis: 0.3)
        let now = Date()
        #expect(monitor.events(for: [session("c1", mos: [4.3, 4.3])], at: now).isEmpty)
        let alarm = monitor.events(for: [session("c1", mos: [4.3, 2.5])], at: now)
        #expect(alarm.count == 1)
        #expect(alarm.first?.topic == "media" && alarm.first?.type == "quality_alarm")
        #expect(alarm.first?.data["call_id"] == "c1" && alarm.first?.data["leg"] == "1" && alarm.first?.data["mos"] == "2.50")
        #expect(alarm.first?.extension == nil)  // not shown to extension users
        // Still bad, or back just above the threshold (inside the hysteresis): nothing new.
        #expect(monitor.events(for: [session("c1", mos: [4.3, 2.4])], at: now).isEmpty)
        #expect(monitor.events(for: [session("c1", mos: [4.3, 3.2])], at: now).isEmpty)
        let recovered = monitor.events(for: [session("c1", mos: [4.3, 3.5])], at: now)
        #expect(recovered.map(\.type) == ["quality_recovered"])
    }

    @Test func legsWithoutMediaAndEndedSessionsAreNotReported() {
        var monitor = MediaQualityMonitor(threshold: 3.1)
        let now = Date()
        #expect(monitor.events(for: [session("c2", mos: [1.0], packetsIn: 0)], at: now).isEmpty)
        #expect(monitor.events(for: [session("c2", mos: [2.0])], at: now).count == 1)
        // The session ends; a new session with the same id later starts clean and alarms again.
        #expect(monitor.events(for: [], at: now).isEmpty)
        #expect(monitor.events(for: [session("c2", mos: [2.0])], at: now).count == 1)
    }

    @Test func mediaEventsAreAWebsocketTopicAndWebhookNames() {
        #expect(EventSocket.topics.contains("media"))
        let e = APIEvent.media("stream_timeout", callID: "c3", tenantID: "t1", occurredAt: Date())
        #expect(WebhookPayload.name(of: e) == "media.stream_timeout")
        #expect(WebhookPayload.names.contains("media.stream_timeout"))
        #expect(WebhookPayload.names.contains("media.quality_alarm"))
        #expect(WebhookPayload.event(e)?.orderingKey == "c3")
    }
}
