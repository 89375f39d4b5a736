/// The call-progress tones a PBX plays to a caller.
public enum CallProgressTone: String, CaseIterable, Sendable {
    /// Dial tone: continuous, the line is ready for digits.
    case dial
    /// Ringback (audible ringing): the called party is being alerted.
    case ringback
    /// Busy: the called party is busy.
    case busy
    /// Congestion (reorder, network busy, "equipment engaged"): no route or no resources.
    case congestion
    /// Call waiting: a second call is arriving during a call.
    case callWaiting
}

/// A national tone plan: which frequencies and cadences each call-progress tone uses.
///
/// Values are the commonly cited national ones, as collected in ITU-T E.180 Supplement 2
/// ("Various tones used in national networks"):
/// - `.us`: ANSI T1.401 / Telcordia GR-506 precise tone plan (dial 350+440, ringback 440+480
///   2 s on 4 s off, busy 480+620 0.5/0.5, reorder 480+620 0.25/0.25, call waiting 440 Hz 0.3 s
///   every 10 s).
/// - `.uk`: BT SIN 350 (dial 350+440, ringback 400+450 0.4/0.2/0.4/2.0, busy 400 0.375/0.375,
///   equipment engaged 400 0.4/0.35/0.225/0.525, call waiting 400 Hz 0.1 s every 4.1 s).
/// - `.europe`: CEPT recommendation T/CS 20-15 / ETSI TR 101 041 (425 Hz: dial continuous,
///   ringback 1/4, busy 0.5/0.5, congestion 0.25/0.25, call waiting 0.175/0.175/0.175/3.5).
/// - `.china`: YD/T tone plan (450 Hz: dial continuous, ringback 1/4, busy 0.35/0.35,
///   congestion 0.7/0.7, call waiting 0.4 s every 4.4 s).
public enum TonePlan: String, CaseIterable, Sendable {
    /// United States and Canada (NANP).
    case us
    /// United Kingdom.
    case uk
    /// CEPT countries using the 425 Hz plan (most of continental Europe).
    case europe
    /// Mainland China.
    case china

    /// The cadence of `tone` in this plan, in the `ToneSequence` grammar.
    public func description(of tone: CallProgressTone) -> String {
        switch (self, tone) {
        case (.us, .dial): "350+440"
        case (.us, .ringback): "440+480/2000,0/4000"
        case (.us, .busy): "480+620/500,0/500"
        case (.us, .congestion): "480+620/250,0/250"
        case (.us, .callWaiting): "440/300,0/9700"
        case (.uk, .dial): "350+440"
        case (.uk, .ringback): "400+450/400,0/200,400+450/400,0/2000"
        case (.uk, .busy): "400/375,0/375"
        case (.uk, .congestion): "400/400,0/350,400/225,0/525"
        case (.uk, .callWaiting): "400/100,0/4000"
        case (.europe, .dial): "425"
        case (.europe, .ringback): "425/1000,0/4000"
        case (.europe, .busy): "425/500,0/500"
        case (.europe, .congestion): "425/250,0/250"
        case (.europe, .callWaiting): "425/175,0/175,425/175,0/3500"
        case (.china, .dial): "450"
        case (.china, .ringback): "450/1000,0/4000"
        case (.china, .busy): "450/350,0/350"
        case (.china, .congestion): "450/700,0/700"
        case (.china, .callWaiting): "450/400,0/4000"
        }
    }

    /// The cadence of `tone` in this plan.
    public func sequence(for tone: CallProgressTone) -> ToneSequence {
        // The table above is fixed and covered by tests, so parsing cannot fail; the fallback
        // (silence) only keeps this non-throwing without a force-unwrap.
        (try? ToneSequence(parsing: description(of: tone))) ?? ToneSequence([.silence(milliseconds: 1000)])
    }
}
