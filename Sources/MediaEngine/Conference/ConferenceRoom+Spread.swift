import RTP
import TandemBase

/// A `ConferenceRoom` used as one shard of a room spread over several workers (see `ConferenceSpreadMixer`).
///
/// The shard holds the participants whose legs live on its worker: their jitter buffers, decoders, resamplers,
/// talk detection, and their encoders and RTP timelines. Instead of `produce`, its worker calls
/// - `spreadCollect` every tick: for each 20 ms frame due, pull and decode every participant, update talk state
///   (events as usual), pick this shard's N loudest talkers with the usual sticky rules, and write their frames
///   (room rate, input gain applied) into the ring to the mixer;
/// - `spreadSend` for every mix the mixer published: the room-wide sum and the selected talkers' contributions
///   become this shard's `sum` and contribution slots, and the usual output step runs (shared encode per group,
///   sum-minus-self for this shard's selected talkers, silence for deaf participants).
/// Room-wide playback and recording are not available in a spread room (the mix exists only on the mixer's
/// worker); private prompts to one participant work as usual.
extension ConferenceRoom {
    /// Advances the shard's frame clock to `now`; for every frame due, collects one candidate frame into `ring`
    /// (or into `scratch` when the ring is full: the frame is then lost, counted as a resync). Returns the frames
    /// collected. Never allocates.
    func spreadCollect(now: Instant, ring: ConferenceFrameRing, layout: ConferenceSpreadLayout,
                       scratch: UnsafeMutableRawPointer) -> Int {
        if nextFrame == nil { nextFrame = now.nanoseconds }
        var produced = 0
        while let due = nextFrame, due <= now.nanoseconds {
            var at = due
            if now.nanoseconds - due > 5 * frameNanoseconds {
                stats.clockResyncs += 1
                at = now.nanoseconds
            }
            nextFrame = at + frameNanoseconds
            if let slot = ring.producerSlot() {
                collectFrame(now: Instant(nanoseconds: at), into: slot, layout: layout)
                ring.publish()
            } else {
                collectFrame(now: Instant(nanoseconds: at), into: scratch, layout: layout)
                stats.clockResyncs += 1
            }
            produced += 1
        }
        return produced
    }

    private func collectFrame(now: Instant, into slot: UnsafeMutableRawPointer, layout: ConferenceSpreadLayout) {
        frameIndex += 1
        for index in active {
            guard let p = slots[index] else { continue }
            p.pull(now: now, decodes: !p.options.isMuted)
        }
        updateTalkState()
        select()
        let fs = frameSamples
        let ids = layout.ids(slot)
        let energies = layout.energies(slot)
        var count = 0
        for s in 0..<selectedCount where count < layout.maximumTalkers {
            guard let p = slots[selected[s]] else { continue }
            p.preparedFrameCounter = frameIndex
            p.prepareRoomFrame()
            ids[count] = Int32(truncatingIfNeeded: p.index * spreadShardCount + spreadShard)
            energies[count] = p.smoothedEnergy
            let out = layout.frame(slot, count)
            let gain = p.inputGainQ12
            if gain == 4096 {
                for i in 0..<fs { out[i] = Int32(truncatingIfNeeded: p.roomFrame[i]) }
            } else {
                for i in 0..<fs { out[i] = (Int32(truncatingIfNeeded: p.roomFrame[i]) &* gain) &>> 12 }
            }
            count += 1
        }
        layout.setCount(slot, count)
        layout.setSequence(slot, frameIndex)
    }

    /// Sends one mix from the mixer to this shard's participants. Never allocates.
    func spreadSend<S: ConferenceOutputSink>(mix slot: UnsafeRawPointer, layout: ConferenceSpreadLayout, sink: inout S) {
        let started = MonotonicClock().now().nanoseconds
        outputFrame += 1
        let fs = frameSamples
        sum.update(from: layout.sum(slot), count: fs)
        for index in active {
            guard let p = slots[index] else { continue }
            p.contributionSlot = -1
            p.contributionIsRoomFrame = false
        }
        let count = min(layout.maximumTalkers, configuration.maximumTalkers, max(0, layout.count(slot)))
        let ids = layout.ids(slot)
        for k in 0..<count {
            let id = Int(ids[k])
            guard id >= 0, id % spreadShardCount == spreadShard else { continue }
            let local = id / spreadShardCount
            guard local < slots.count, let p = slots[local], !p.options.isMuted else { continue }
            (contributions + k * fs).update(from: layout.frame(slot, k), count: fs)
            p.contributionSlot = k
        }
        var encoders = 0
        for index in active {
            guard let p = slots[index], let group = groups[p.groupIndex] else { continue }
            send(p, group: group, encoders: &encoders, sink: &sink)
            p.timestamp = p.timestamp.advanced(by: p.timestampIncrement)
        }
        stats.talkers = count
        stats.encodersInUse = encoders
        stats.frames += 1
        let elapsed = MonotonicClock().now().nanoseconds &- started
        stats.lastTickNanoseconds = elapsed
        stats.maximumTickNanoseconds = max(stats.maximumTickNanoseconds, elapsed)
    }
}
