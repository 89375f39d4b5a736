import Synchronization

/// A bounded, lock-free multi-producer single-consumer ring buffer (Vyukov's bounded queue).
///
/// Any number of threads may call `push`; exactly one thread may call `pop`. Each slot carries a
/// sequence number that tells producers and the consumer whose turn the slot is, so neither side
/// takes a lock and neither allocates after `init`. Capacity is rounded up to a power of two.
public final class MPSCQueue<Element>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Element>
    /// Per-slot turn counters: `position` when free for the producer claiming `position`,
    /// `position + 1` once filled, `position + capacity` once the consumer has emptied it.
    private let sequences: UnsafeMutablePointer<Atomic<Int>>
    private let mask: Int
    /// Next position producers claim (by compare-and-exchange).
    private let tail = Atomic<Int>(0)
    /// Next position the consumer reads. Written only by the consumer; atomic so that
    /// `approximateCount` may read it from any thread.
    private let head = Atomic<Int>(0)

    /// Creates a queue that holds at least `capacity` elements. Allocates once.
    public init(capacity: Int) {
        precondition(capacity > 0, "MPSCQueue capacity must be positive")
        var size = 2
        while size < capacity { size <<= 1 }
        storage = UnsafeMutablePointer<Element>.allocate(capacity: size)
        sequences = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: size)
        for i in 0..<size { (sequences + i).initialize(to: Atomic<Int>(i)) }
        mask = size - 1
    }

    deinit {
        var h = head.load(ordering: .relaxed)
        // Only filled slots hold an initialised element.
        while sequences[h & mask].load(ordering: .acquiring) == h &+ 1 {
            (storage + (h & mask)).deinitialize(count: 1)
            h &+= 1
        }
        sequences.deinitialize(count: mask + 1)
        sequences.deallocate()
        storage.deallocate()
    }

    /// The number of slots.
    public var capacity: Int { mask + 1 }

    /// Appends `element`; returns false (and keeps nothing) when the queue is full. Any thread;
    /// lock-free, does not allocate.
    @discardableResult
    public func push(_ element: consuming Element) -> Bool {
        var position = tail.load(ordering: .relaxed)
        while true {
            let slot = position & mask
            let sequence = sequences[slot].load(ordering: .acquiring)
            let difference = sequence &- position
            if difference == 0 {
                // The slot is free for this position: claim the position, then fill the slot.
                let (exchanged, original) = tail.compareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged {
                    (storage + slot).initialize(to: element)
                    sequences[slot].store(position &+ 1, ordering: .releasing)
                    return true
                }
                position = original
            } else if difference < 0 {
                // The consumer has not emptied this slot since the previous lap: full.
                return false
            } else {
                // Another producer claimed this position first; retry at the current tail.
                position = tail.load(ordering: .relaxed)
            }
        }
    }

    /// Removes the oldest element, or returns nil when empty (or when the oldest slot is claimed
    /// but not yet filled). Consumer only; wait-free, does not allocate.
    public func pop() -> Element? {
        let position = head.load(ordering: .relaxed)
        let slot = position & mask
        let sequence = sequences[slot].load(ordering: .acquiring)
        guard sequence == position &+ 1 else { return nil }
        let element = (storage + slot).move()
        // Hand the slot to the producer one lap ahead.
        sequences[slot].store(position &+ mask &+ 1, ordering: .releasing)
        head.store(position &+ 1, ordering: .relaxed)
        return element
    }

    /// A snapshot of the number of queued (claimed) elements; exact only when no thread is running.
    public var approximateCount: Int {
        max(0, tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring))
    }
}
