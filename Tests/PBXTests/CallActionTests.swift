import Foundation
@testable import PBX
import SIPCore
import SIPStack
import Store
import Testing
import TandemBase

/// Pieces of the admin API's call actions that need no network: what a transfer remembers for the CDR across
/// transfers of the same call, the click-to-call offer to the caller's phone, and the CDR's transfer columns.
@Suite struct CallActionTests {
    @Test func laterTransfersInheritWhoWasConnectedWhere() {
        let first = CallTransfer(referrer: .caller, referrerCallID: "a", subscription: nil, targetNumber: "300")
        first.phase = .completed
        first.connected("300", into: .caller)
        #expect(first.lastConnectedTarget == "300" && first.callerSlotNumber == "300" && first.calleeSlotNumber == nil)
        // A second transfer (callee side) that fails keeps the first one's facts.
        let second = CallTransfer(referrer: .branch(1), referrerCallID: "b", subscription: nil, targetNumber: "400")
        second.inherit(from: first)
        second.phase = .failed
        #expect(second.transferredCall && second.lastConnectedTarget == "300" && second.callerSlotNumber == "300")
        // A third that completes into the callee slot adds to them.
        let third = CallTransfer(referrer: .branch(1), referrerCallID: "b", subscription: nil, targetNumber: "500")
        third.inherit(from: second)
        third.connected("500", into: .branch(2))
        #expect(third.lastConnectedTarget == "500" && third.callerSlotNumber == "300" && third.calleeSlotNumber == "500")
        #expect(!third.requestedByAPI && !third.ringingReported)
    }

    @Test func clickToCallOfferIsG711OnTheCallerLeg() throws {
        let leg = CallMediaLeg(session: "s", index: 0, address: "192.0.2.10", rtpPort: 31_000, rtcpPort: 31_001)
        let body = B2BUA.clickToCallOffer(leg: leg)
        #expect(body.isSessionDescription)
        let offer = try CallAudioDescription(parsing: try #require(String(bytes: body.bytes, encoding: .utf8)))
        #expect(offer.codecs.map(\.name) == ["PCMU", "PCMA"])
        #expect(offer.telephoneEvents.map(\.payloadType) == [101])
        #expect(offer.remote.rtp == CallEndpointAddress(host: "192.0.2.10", port: 31_000))
        #expect(offer.remote.direction == .sendrecv)
        let v6 = B2BUA.clickToCallOffer(leg: CallMediaLeg(session: "s", index: 0, address: "2001:db8::1", rtpPort: 31_002, rtcpPort: 31_003))
        let text = String(decoding: v6.bytes, as: UTF8.self)
        #expect(text.contains("c=IN IP6 2001:db8::1") && text.contains("m=audio 31002 RTP/AVP 0 8 101"))
    }

    @Test func transferColumnsAreStoredAndOldRecordsReadWithoutThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-cdr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TandemStore(directory: directory)
        #expect(try store.appliedMigrations().contains("v8-transfer-cdr"))
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        var transferred = CallDetailRecord(id: "t", tenantID: "t1", caller: "100", callee: "200", targets: [], startedAt: t0,
                                           answeredAt: t0, endedAt: t0.addingTimeInterval(5), endReason: .transferred,
                                           sipStatus: nil, hungUpBy: .callee, callerCodec: "PCMA/8000", calleeCodec: "PCMA/8000",
                                           transcoded: false)
        transferred.transferredTo = "300"
        transferred.finalCaller = "300"
        transferred.finalCallee = "200"
        try store.insertCallRecord(transferred)
        try store.insertCallRecord(CallDetailRecord(id: "n", tenantID: "t1", caller: "100", callee: "200", targets: [],
                                                    startedAt: t0.addingTimeInterval(60), answeredAt: nil,
                                                    endedAt: t0.addingTimeInterval(61), endReason: .busy, sipStatus: 486,
                                                    hungUpBy: .callee, callerCodec: nil, calleeCodec: nil, transcoded: false))
        let listed = try store.callRecords(tenantID: "t1")
        #expect(listed.map(\.id) == ["n", "t"])
        #expect(listed[1].transferredTo == "300" && listed[1].finalCaller == "300" && listed[1].finalCallee == "200")
        #expect(listed[0].transferredTo == nil && listed[0].finalCaller == nil)
    }
}
