/// Codec parameters for the E-model: equipment impairment and packet-loss robustness.
public struct EModelCodec: Hashable, Sendable {
    /// Equipment impairment factor Ie (ITU-T G.113 Appendix I).
    public var equipmentImpairment: Double
    /// Packet-loss robustness factor Bpl (ITU-T G.113 Appendix I).
    public var packetLossRobustness: Double

    /// Creates codec parameters.
    public init(equipmentImpairment: Double, packetLossRobustness: Double) {
        self.equipmentImpairment = equipmentImpairment
        self.packetLossRobustness = packetLossRobustness
    }

    /// G.711 (PCMU or PCMA): Ie 0; Bpl 25.1 with packet loss concealment, 4.3 without (G.113).
    public static func g711(withPLC: Bool = true) -> EModelCodec {
        EModelCodec(equipmentImpairment: 0, packetLossRobustness: withPLC ? 25.1 : 4.3)
    }

    /// G.722. Simplification: scored on the narrowband scale with G.711's values (Ie 0), not the
    /// wideband E-model of G.107.1.
    public static func g722(withPLC: Bool = true) -> EModelCodec {
        EModelCodec(equipmentImpairment: 0, packetLossRobustness: withPLC ? 25.1 : 4.3)
    }

    /// Opus. Assumption (G.113 lists no Opus values): a low Ie of 5 and Bpl 20, reflecting its
    /// built-in concealment; revisit when measured values are available.
    public static let opus = EModelCodec(equipmentImpairment: 5, packetLossRobustness: 20)
}

/// A simplified ITU-T G.107 E-model for call quality scoring.
///
/// Simplifications, chosen deliberately:
/// - R = 93.2 − Id − Ie,eff: the default R0 − Is (93.2) with advantage factor A = 0.
/// - Id uses the common G.107 approximation Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), d in ms.
/// - Jitter is folded into delay: d = one-way delay + 2 × jitter, the delay a jitter buffer sized
///   at twice the jitter adds. Loss is taken as random (BurstR = 1).
/// - Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl), Ppl in percent (G.107 §3.5 with BurstR = 1).
/// Pure functions; no allocation.
public enum EModel {
    /// Delay impairment Id for an effective one-way delay in milliseconds.
    public static func delayImpairment(oneWayDelayMilliseconds d: Double) -> Double {
        let d = max(d, 0)
        return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0)
    }

    /// Effective equipment impairment Ie,eff for `codec` at `packetLossPercent` (0...100).
    public static func effectiveEquipmentImpairment(codec: EModelCodec, packetLossPercent: Double) -> Double {
        let ppl = min(max(packetLossPercent, 0), 100)
        let ie = codec.equipmentImpairment
        return ie + (95 - ie) * ppl / (ppl + codec.packetLossRobustness)
    }

    /// The transmission rating R for the given conditions.
    public static func rFactor(
        codec: EModelCodec, oneWayDelayMilliseconds: Double, jitterMilliseconds: Double = 0,
        packetLossPercent: Double
    ) -> Double {
        let effectiveDelay = oneWayDelayMilliseconds + 2 * max(jitterMilliseconds, 0)
        return 93.2 - delayImpairment(oneWayDelayMilliseconds: effectiveDelay)
            - effectiveEquipmentImpairment(codec: codec, packetLossPercent: packetLossPercent)
    }

    /// MOS-CQE from R (G.107 Annex B), clamped to 1...4.5.
    public static func meanOpinionScore(rFactor r: Double) -> Double {
        guard r > 0 else { return 1 }
        guard r < 100 else { return 4.5 }
        let mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
        return min(max(mos, 1), 4.5)
    }

    /// MOS for the given conditions; see the type's documentation for the simplifications.
    public static func meanOpinionScore(
        codec: EModelCodec, oneWayDelayMilliseconds: Double, jitterMilliseconds: Double = 0,
        packetLossPercent: Double
    ) -> Double {
        meanOpinionScore(rFactor: rFactor(
            codec: codec, oneWayDelayMilliseconds: oneWayDelayMilliseconds,
            jitterMilliseconds: jitterMilliseconds, packetLossPercent: packetLossPercent))
    }
}
