import RTP
import Testing

@Suite struct EModelTests {
    @Test func pcmuWithNoImpairmentsIsAbout4point4() {
        let mos = EModel.meanOpinionScore(codec: .g711(), oneWayDelayMilliseconds: 20, packetLossPercent: 0)
        #expect(mos > 4.35 && mos < 4.45)
        #expect(abs(EModel.meanOpinionScore(rFactor: 93.2) - 4.409) < 0.001)
    }

    @Test func lossLowersMOS() {
        let clean = EModel.meanOpinionScore(codec: .g711(), oneWayDelayMilliseconds: 20, packetLossPercent: 0)
        let lossy = EModel.meanOpinionScore(codec: .g711(), oneWayDelayMilliseconds: 20, packetLossPercent: 5)
        let lossyNoPLC = EModel.meanOpinionScore(codec: .g711(withPLC: false), oneWayDelayMilliseconds: 20, packetLossPercent: 5)
        #expect(lossy < clean - 0.3)
        #expect(lossyNoPLC < lossy, "concealment makes loss hurt less")
        // Ie,eff = 95 · 5 / (5 + 25.1)
        #expect(abs(EModel.effectiveEquipmentImpairment(codec: .g711(), packetLossPercent: 5) - 475 / 30.1) < 1e-9)
    }

    @Test func longDelayLowersMOS() {
        let near = EModel.meanOpinionScore(codec: .g711(), oneWayDelayMilliseconds: 50, packetLossPercent: 0)
        let far = EModel.meanOpinionScore(codec: .g711(), oneWayDelayMilliseconds: 400, packetLossPercent: 0)
        #expect(far < near - 0.5)
        // Id(400) = 0.024·400 + 0.11·(400 − 177.3)
        #expect(abs(EModel.delayImpairment(oneWayDelayMilliseconds: 400) - (9.6 + 0.11 * 222.7)) < 1e-9)
        #expect(EModel.delayImpairment(oneWayDelayMilliseconds: 100) == 2.4)
    }

    @Test func jitterCountsAsExtraDelay() {
        let r0 = EModel.rFactor(codec: .g711(), oneWayDelayMilliseconds: 150, jitterMilliseconds: 0, packetLossPercent: 1)
        let r1 = EModel.rFactor(codec: .g711(), oneWayDelayMilliseconds: 150, jitterMilliseconds: 30, packetLossPercent: 1)
        let same = EModel.rFactor(codec: .g711(), oneWayDelayMilliseconds: 210, jitterMilliseconds: 0, packetLossPercent: 1)
        #expect(r1 < r0 && abs(r1 - same) < 1e-9)
    }

    @Test func mosIsClamped() {
        #expect(EModel.meanOpinionScore(rFactor: -20) == 1)
        #expect(EModel.meanOpinionScore(rFactor: 120) == 4.5)
        let terrible = EModel.meanOpinionScore(codec: .opus, oneWayDelayMilliseconds: 2000, packetLossPercent: 80)
        #expect(terrible == 1)
    }
}
