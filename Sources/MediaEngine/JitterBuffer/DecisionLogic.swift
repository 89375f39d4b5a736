/// What the packet buffer looks like at the playout point when a frame is pulled.
public enum PlayoutHead: Sendable, Equatable {
    /// The packet due now is buffered; `isComfortNoise` for an RFC 3389 packet, `hasFollowing` if the next one
    /// is buffered too and contiguous (so two can be time-compressed).
    case due(isComfortNoise: Bool, hasFollowing: Bool)
    /// The packet due now is missing but a later one is buffered.
    case missing
    /// Nothing at or after the playout point is buffered.
    case empty
    /// The next buffered packet starts a new talkspurt after a timestamp gap (DTX); `isDue` once it has waited
    /// long enough to be played at the target delay.
    case talkspurt(isDue: Bool)
}

/// What the jitter buffer does with the head of the packet buffer for one pulled frame.
public enum PlayoutAction: Sendable, Equatable {
    /// Decode and play the due packet.
    case normal
    /// Decode the due packet and the next one and compress them into one frame.
    case accelerate
    /// Synthesise a frame from history without consuming the due packet (adds one frame of delay).
    case stretch
    /// Conceal without moving the playout point (the due packet may still come).
    case concealInPlace
    /// Conceal and give up on the due packet (it is lost or too late).
    case concealAndSkip
    /// Skip the missing packets up to the next buffered one and play it (after a frame was concealed in place).
    case skipToNext
    /// Re-anchor the playout point on the talkspurt's first packet and play it.
    case startTalkspurt
    /// Play comfort noise; `consumesPacket` when the due packet is a CN packet to decode for its level.
    case comfortNoise(consumesPacket: Bool)

    /// The operation reported to the caller for this action.
    public var operation: PlayoutOperation {
        switch self {
        case .normal, .skipToNext, .startTalkspurt: .normal
        case .accelerate: .accelerate
        case .stretch: .stretch
        case .concealInPlace, .concealAndSkip: .conceal
        case .comfortNoise: .comfortNoise
        }
    }
}

/// Chooses the action for each pulled frame from the buffer head, the current playout delay and the target
/// (like NetEq's DecisionLogic). Pure state machine: inputs in, action out; no clock, no allocation.
///
/// Thresholds, with F the frame duration and T the target: accelerate above T + F (every other frame, or every
/// frame above T + 4F), stretch below T − F/2 (never twice in a row). The band is wider than the F that one
/// operation moves the delay by, so the delay settles instead of oscillating.
public struct DecisionLogic: Sendable {
    /// Frame duration in microseconds.
    public let frameMicroseconds: Int64
    /// Concealed frames on an empty buffer after which the gap is played as silence (comfort noise).
    public let maximumExpandFrames: Int

    /// The previous action, if any frame was pulled since the last reset.
    public private(set) var previous: PlayoutAction?
    /// Frames concealed in place since the playout point last moved.
    public private(set) var inPlaceConceals = 0
    /// Consecutive frames pulled with an empty buffer.
    public private(set) var consecutiveEmpty = 0
    /// The stream is in a silence period announced by a CN packet.
    public private(set) var isInComfortNoise = false

    /// Logic for frames of `frameMs`.
    public init(frameMs: Int, maximumExpandFrames: Int) {
        frameMicroseconds = Int64(frameMs) * 1000
        self.maximumExpandFrames = maximumExpandFrames
    }

    /// Forgets history (stream reset).
    public mutating func reset() {
        previous = nil
        inPlaceConceals = 0
        consecutiveEmpty = 0
        isInComfortNoise = false
    }

    /// The action for one frame given the head, the playout delay of the frame due now and the target (µs).
    public mutating func decide(head: PlayoutHead, playoutDelay delay: Int64, target: Int64) -> PlayoutAction {
        let f = frameMicroseconds
        let action: PlayoutAction
        switch head {
        case .talkspurt(let isDue):
            action = isDue ? .startTalkspurt : .comfortNoise(consumesPacket: false)
        case .due(let isCN, let hasFollowing):
            if isCN {
                action = .comfortNoise(consumesPacket: true)
            } else if hasFollowing && (delay > target + 4 * f || (delay > target + f && previous != .accelerate)) {
                action = .accelerate
            } else if delay < target - f / 2 && previous != nil && previous != .stretch && !isInComfortNoise {
                action = .stretch
            } else {
                action = .normal
            }
        case .missing:
            if isInComfortNoise {
                action = .comfortNoise(consumesPacket: false)
            } else if inPlaceConceals > 0 {
                action = .skipToNext
            } else if delay < target - f / 2 {
                action = .concealInPlace
            } else {
                action = .concealAndSkip
            }
        case .empty:
            action = isInComfortNoise || consecutiveEmpty >= maximumExpandFrames ? .comfortNoise(consumesPacket: false) : .concealInPlace
        }
        record(action, head: head)
        return action
    }

    private mutating func record(_ action: PlayoutAction, head: PlayoutHead) {
        if case .empty = head { consecutiveEmpty += 1 } else { consecutiveEmpty = 0 }
        switch action {
        case .concealInPlace: inPlaceConceals += 1
        case .comfortNoise(let consumes):
            // Without a CN packet the playout point stays put, like an in-place concealment.
            if consumes {
                isInComfortNoise = true
                inPlaceConceals = 0
            } else {
                inPlaceConceals += 1
            }
        case .normal, .accelerate, .startTalkspurt, .skipToNext:
            isInComfortNoise = false
            inPlaceConceals = 0
        case .concealAndSkip:
            inPlaceConceals = 0
        case .stretch:
            break
        }
        previous = action
    }
}
