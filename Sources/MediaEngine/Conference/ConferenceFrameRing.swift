import Synchronization

/// A single-producer/single-consumer ring of fixed-size byte slots, allocated once: how the workers of a spread
/// conference room hand 20 ms frames to each other without locks or allocation.
///
/// The producer fills `producerSlot()` and then calls `publish()`; the consumer reads `consumerSlot()` and then
/// calls `release()`. Exactly one thread produces and exactly one consumes (they may be the same thread). The
/// release/acquire pair on the indices orders the slot's bytes with its publication.
final class ConferenceFrameRing: @unchecked Sendable {
    /// Bytes per slot.
    let slotBytes: Int
    /// Slots in the ring.
    let capacity: Int
    private let storage: UnsafeMutableRawPointer
    /// Next slot the producer fills (only the producer writes it).
    private let tail = Atomic<Int>(0)
    /// Next slot the consumer reads (only the consumer writes it).
    private let head = Atomic<Int>(0)

    init(slotBytes: Int, capacity: Int) {
        self.slotBytes = (max(16, slotBytes) + 63) & ~63
        self.capacity = max(1, capacity)
        storage = .allocate(byteCount: self.slotBytes * self.capacity, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: self.slotBytes * self.capacity)
    }

    deinit { storage.deallocate() }

    /// Slots published and not yet released (either side; exact on the consumer side).
    var count: Int { tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring) }

    /// Producer: the slot to fill next, or nil when the ring is full.
    @inline(__always)
    func producerSlot() -> UnsafeMutableRawPointer? {
        let t = tail.load(ordering: .relaxed)
        guard t &- head.load(ordering: .acquiring) < capacity else { return nil }
        return storage + (t % capacity) * slotBytes
    }

    /// Producer: makes the slot filled since `producerSlot()` visible to the consumer.
    @inline(__always)
    func publish() {
        tail.store(tail.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Consumer: the oldest published slot, or nil when the ring is empty.
    @inline(__always)
    func consumerSlot() -> UnsafeRawPointer? {
        let h = head.load(ordering: .relaxed)
        guard tail.load(ordering: .acquiring) &- h > 0 else { return nil }
        return UnsafeRawPointer(storage + (h % capacity) * slotBytes)
    }

    /// Consumer: gives the oldest slot back to the producer.
    @inline(__always)
    func release() {
        head.store(head.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }
}

/// Where things are in one slot of a spread room's rings. Both directions use the same layout:
/// - shard → mixer (candidates): `count` talkers, their global participant indices, smoothed energies and
///   frames (room rate, input gain applied, int32);
/// - mixer → shard (mix): `count` selected talkers, their indices and contributions, and the int32 `sum` of
///   those contributions (what everyone hears; a talker hears `sum` minus its own contribution).
struct ConferenceSpreadLayout: Sendable {
    let frameSamples: Int
    let maximumTalkers: Int
    let idsOffset = 16
    let energiesOffset: Int
    let sumOffset: Int
    let framesOffset: Int
    let slotBytes: Int

    init(frameSamples: Int, maximumTalkers: Int) {
        self.frameSamples = frameSamples
        self.maximumTalkers = maximumTalkers
        energiesOffset = (idsOffset + 4 * maximumTalkers + 7) & ~7
        sumOffset = (energiesOffset + 8 * maximumTalkers + 15) & ~15
        framesOffset = sumOffset + 4 * frameSamples
        slotBytes = framesOffset + 4 * frameSamples * maximumTalkers
    }

    @inline(__always) func count(_ slot: UnsafeRawPointer) -> Int { slot.load(as: Int.self) }
    @inline(__always) func setCount(_ slot: UnsafeMutableRawPointer, _ n: Int) { slot.storeBytes(of: n, as: Int.self) }
    /// A sequence number the producer stamps on each slot (frames of one shard, or mixes).
    @inline(__always) func sequence(_ slot: UnsafeRawPointer) -> Int { slot.load(fromByteOffset: 8, as: Int.self) }
    @inline(__always) func setSequence(_ slot: UnsafeMutableRawPointer, _ n: Int) {
        slot.storeBytes(of: n, toByteOffset: 8, as: Int.self)
    }
    @inline(__always) func ids(_ slot: UnsafeRawPointer) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(mutating: slot + idsOffset).assumingMemoryBound(to: Int32.self)
    }
    @inline(__always) func energies(_ slot: UnsafeRawPointer) -> UnsafeMutablePointer<Int64> {
        UnsafeMutableRawPointer(mutating: slot + energiesOffset).assumingMemoryBound(to: Int64.self)
    }
    @inline(__always) func sum(_ slot: UnsafeRawPointer) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(mutating: slot + sumOffset).assumingMemoryBound(to: Int32.self)
    }
    @inline(__always) func frame(_ slot: UnsafeRawPointer, _ k: Int) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(mutating: slot + framesOffset + 4 * frameSamples * k).assumingMemoryBound(to: Int32.self)
    }
}
