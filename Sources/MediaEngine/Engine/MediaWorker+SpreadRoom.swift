import CBatchIO
import TandemBase

/// What a worker holds of a conference room spread over several workers: its shard's place, the two rings to and
/// from the mixer, and, on the room's own worker, the mixer and the other workers' wake-up eventfds.
/// Built on the control side; used only on the worker once handed over.
final class WorkerSpreadLink: @unchecked Sendable {
    let shard: Int
    let layout: ConferenceSpreadLayout
    let toMixer: ConferenceFrameRing
    let fromMixer: ConferenceFrameRing
    /// The mixer, on the room's own worker only.
    let mixer: ConferenceSpreadMixer?
    /// The other workers of the room, woken after each mix so that they send it at once.
    let helperWakeFDs: [Int32]
    /// Where a frame goes when the ring to the mixer is full (the frame is dropped, the decoders keep going).
    let scratch: UnsafeMutableRawPointer

    init(shard: Int, layout: ConferenceSpreadLayout, mixer: ConferenceSpreadMixer, isHome: Bool, helperWakeFDs: [Int32]) {
        self.shard = shard
        self.layout = layout
        toMixer = mixer.toMixer[shard]
        fromMixer = mixer.fromMixer[shard]
        self.mixer = isHome ? mixer : nil
        self.helperWakeFDs = helperWakeFDs
        scratch = .allocate(byteCount: layout.slotBytes, alignment: 64)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: layout.slotBytes)
    }

    deinit { scratch.deallocate() }
}

extension MediaWorker {
    /// Every tick, for a shard of a spread room: send the mixes that arrived, decode this shard's frames for the
    /// mixer; on the room's own worker, mix (one mix per frame of this worker), send this shard's share at once
    /// and wake the other workers. Never allocates.
    func produceSpreadRoom(_ room: WorkerRoom, _ link: WorkerSpreadLink, now: UInt64) {
        var sink = RoomAudioSink(worker: self, room: room, now: now)
        sendSpreadMixes(room, link, sink: &sink)
        let frames = room.room.spreadCollect(now: Instant(nanoseconds: now), ring: link.toMixer, layout: link.layout,
                                             scratch: link.scratch)
        guard let mixer = link.mixer, frames > 0 else { return }
        for _ in 0..<frames { mixer.mix() }
        sendSpreadMixes(room, link, sink: &sink)
        for fd in link.helperWakeFDs { _ = tdm_eventfd_signal(fd) }
    }

    /// Sends every mix waiting in the shard's ring from the mixer.
    @inline(__always)
    func sendSpreadMixes(_ room: WorkerRoom, _ link: WorkerSpreadLink, sink: inout RoomAudioSink) {
        while let slot = link.fromMixer.consumerSlot() {
            room.room.spreadSend(mix: slot, layout: link.layout, sink: &sink)
            link.fromMixer.release()
        }
    }

    /// On a wake-up: mixes published for the spread rooms this worker helps with, sent without waiting for the
    /// next tick. Never allocates.
    func drainSpreadRooms() {
        guard spreadRoomCount > 0 else { return }
        let now = tdm_monotonic_ns()
        for room in roomList {
            guard let link = room.spread, link.mixer == nil else { continue }
            var sink = RoomAudioSink(worker: self, room: room, now: now)
            sendSpreadMixes(room, link, sink: &sink)
        }
        flushSends()
    }

    /// Spread rooms on this worker for which it is not the room's own worker.
    var spreadRoomCount: Int {
        var n = 0
        for room in roomList where room.spread != nil && room.spread?.mixer == nil { n += 1 }
        return n
    }
}
