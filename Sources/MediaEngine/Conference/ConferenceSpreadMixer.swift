#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mixing half of a conference room spread over several workers (runs on the room's own worker).
///
/// Each shard (one per worker of the room, the room's own worker included) decodes its participants, runs talk
/// detection and picks its N loudest talkers, and pushes their frames into its `toMixer` ring once per 20 ms
/// frame. Once per frame of the room's worker, `mix()` takes one frame from every shard, selects the room's N
/// talkers among all candidates (selected talkers keep their place while their shard still offers them; free
/// places go to the loudest; a candidate `replacementMarginDB` louder than the quietest selected talker replaces
/// it, one swap per frame — the same rules as an unspread room), sums them, and pushes the sum and the selected
/// contributions into every shard's `fromMixer` ring; the shards encode and send (sum for listeners,
/// sum-minus-self for their own talkers).
///
/// Alignment: shards and the mixer run on their own workers' 10 ms timers, in different phases. The mixer mixes,
/// for each shard, the oldest frame that shard has published and not yet mixed: the frame of the room's own
/// worker is mixed in the tick it is decoded; another shard's frame waits at most one frame (20 ms) for the
/// mixer, and the mix reaches that shard's participants when the mixer wakes its worker (its eventfd), so the
/// added delay for participants on helper workers is at most one frame (20 ms). A shard with no frame ready
/// contributes nothing to that mix (counted); its next frame then waits one more mix, so after a late frame
/// the lag settles at up to two frames (40 ms), which absorbs scheduling jitter from then on. A shard more
/// than `maximumBacklog` frames behind (a stalled worker) has its oldest frames dropped and counted, so the lag
/// never grows beyond that. Measured (perf/RESULTS.md, "Large conference rooms spread over media workers"):
/// delay p50 42–54 ms end to end with the jitter buffer, within the 60 ms goal.
///
/// Worker thread only; allocates in `init`, never in `mix()`.
final class ConferenceSpreadMixer {
    let layout: ConferenceSpreadLayout
    /// One ring per shard, shard → mixer, and mixer → shard.
    let toMixer: [ConferenceFrameRing]
    let fromMixer: [ConferenceFrameRing]
    /// Frames a shard may have waiting before its oldest are dropped.
    let maximumBacklog = 2
    private let marginQ8: Int64

    // Selection (global participant indices).
    private let selected: UnsafeMutablePointer<Int32>
    private var selectedCount = 0
    // This frame's candidates: index, energy, where the frame is.
    private let candidateIDs: UnsafeMutablePointer<Int32>
    private let candidateEnergies: UnsafeMutablePointer<Int64>
    private let candidateFrames: UnsafeMutablePointer<UnsafePointer<Int32>?>
    private let candidateTaken: UnsafeMutablePointer<Bool>
    private var candidateCount = 0
    private let sum: UnsafeMutablePointer<Int32>
    private var sequence = 0

    // Counters (read on the room's worker).
    private(set) var frames = 0
    private(set) var missingShardFrames = 0
    private(set) var droppedShardFrames = 0
    private(set) var droppedMixes = 0

    init(layout: ConferenceSpreadLayout, shards: Int, replacementMarginDB: Double, ringCapacity: Int = 8) {
        self.layout = layout
        toMixer = (0..<shards).map { _ in ConferenceFrameRing(slotBytes: layout.slotBytes, capacity: ringCapacity) }
        fromMixer = (0..<shards).map { _ in ConferenceFrameRing(slotBytes: layout.slotBytes, capacity: ringCapacity) }
        marginQ8 = Int64((256 * pow(10, max(0, replacementMarginDB) / 10)).rounded())
        let n = layout.maximumTalkers
        selected = .allocate(capacity: n)
        selected.initialize(repeating: -1, count: n)
        let c = n * shards
        candidateIDs = .allocate(capacity: c)
        candidateIDs.initialize(repeating: -1, count: c)
        candidateEnergies = .allocate(capacity: c)
        candidateEnergies.initialize(repeating: 0, count: c)
        candidateFrames = .allocate(capacity: c)
        candidateFrames.initialize(repeating: nil, count: c)
        candidateTaken = .allocate(capacity: c)
        candidateTaken.initialize(repeating: false, count: c)
        sum = .allocate(capacity: layout.frameSamples)
        sum.initialize(repeating: 0, count: layout.frameSamples)
    }

    deinit {
        selected.deallocate()
        candidateIDs.deallocate()
        candidateEnergies.deallocate()
        candidateFrames.deallocate()
        candidateTaken.deallocate()
        sum.deallocate()
    }

    /// The selected talkers of the last mix (global indices).
    var selectedTalkers: [Int] { (0..<selectedCount).map { Int(selected[$0]) } }

    /// Mixes one frame: one frame from every shard in, one mix to every shard out. Never allocates.
    func mix() {
        let fs = layout.frameSamples
        let n = layout.maximumTalkers
        // Collect candidates.
        candidateCount = 0
        consumedMask = 0
        for (shard, ring) in toMixer.enumerated() {
            while ring.count > maximumBacklog {
                ring.release()
                droppedShardFrames += 1
            }
            guard let slot = ring.consumerSlot() else {
                missingShardFrames += 1
                continue
            }
            consumedMask |= 1 << UInt64(shard)
            let count = min(n, max(0, layout.count(slot)))
            let ids = layout.ids(slot)
            let energies = layout.energies(slot)
            for k in 0..<count {
                candidateIDs[candidateCount] = ids[k]
                candidateEnergies[candidateCount] = energies[k]
                candidateFrames[candidateCount] = UnsafePointer(layout.frame(slot, k))
                candidateTaken[candidateCount] = false
                candidateCount += 1
            }
        }
        select()
        // Sum.
        sum.update(repeating: 0, count: fs)
        for s in 0..<selectedCount {
            guard let c = candidate(selected[s]), let frame = candidateFrames[c] else { continue }
            for i in 0..<fs { sum[i] &+= frame[i] }
        }
        // Publish to every shard.
        sequence &+= 1
        for ring in fromMixer {
            guard let out = ring.producerSlot() else {
                droppedMixes += 1
                continue
            }
            layout.setSequence(out, sequence)
            layout.sum(out).update(from: sum, count: fs)
            let ids = layout.ids(out)
            let energies = layout.energies(out)
            var written = 0
            for s in 0..<selectedCount {
                guard let c = candidate(selected[s]), let frame = candidateFrames[c] else { continue }
                ids[written] = selected[s]
                energies[written] = candidateEnergies[c]
                layout.frame(out, written).update(from: frame, count: fs)
                written += 1
            }
            layout.setCount(out, written)
            ring.publish()
        }
        // Give the shards' slots back only now: the candidates' frames were read in place.
        releaseConsumed()
        frames += 1
    }

    /// Releases the one slot per shard that `mix()` read.
    private var consumedMask: UInt64 = 0
    private func releaseConsumed() {
        for (i, ring) in toMixer.enumerated() where consumedMask & (1 << UInt64(i)) != 0 { ring.release() }
        consumedMask = 0
    }

    private func candidate(_ id: Int32) -> Int? {
        for c in 0..<candidateCount where candidateIDs[c] == id { return c }
        return nil
    }

    /// Keeps selected talkers still offered, fills free places with the loudest, one replacement per frame.
    private func select() {
        let n = layout.maximumTalkers
        var kept = 0
        for s in 0..<selectedCount {
            if let c = candidate(selected[s]) {
                candidateTaken[c] = true
                selected[kept] = selected[s]
                kept += 1
            }
        }
        selectedCount = kept
        while selectedCount < n, let c = loudestFree() {
            candidateTaken[c] = true
            selected[selectedCount] = candidateIDs[c]
            selectedCount += 1
        }
        guard selectedCount == n, let c = loudestFree() else { return }
        var weakest = -1
        var weakestEnergy = Int64.max
        for s in 0..<selectedCount {
            guard let w = candidate(selected[s]) else { continue }
            if candidateEnergies[w] < weakestEnergy {
                weakestEnergy = candidateEnergies[w]
                weakest = s
            }
        }
        guard weakest >= 0, candidateEnergies[c] / 256 > (weakestEnergy / 256) * marginQ8 / 256 else { return }
        candidateTaken[c] = true
        selected[weakest] = candidateIDs[c]
    }

    private func loudestFree() -> Int? {
        var best: Int?
        var bestEnergy: Int64 = -1
        for c in 0..<candidateCount where !candidateTaken[c] && candidateEnergies[c] > bestEnergy {
            bestEnergy = candidateEnergies[c]
            best = c
        }
        return best
    }
}
