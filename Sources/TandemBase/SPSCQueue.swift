import Synchronization

/// A bounded, lock-free single-producer single-consumer ring buffer.
///
/// Exactly one thread may call `push` and exactly one (possibly other) thread may call `pop`.
/// Neither allocates after `init`; both are wait-free. Capacity is rounded up to a power of two.
public final class SPSCQueue<Element>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Element>
    private let mask: Int
    /// Next slot the consumer reads. Written only by the consumer.
    private let head = Atomic<Int>(0)
    /// Next slot the producer writes. Written only by the producer.
    private let tail = Atomic<Int>(0)

    /// Creates a queue that holds at least `capacity` elements.
    public init(capacity: Int) {
        precondition(capacity > 0, "SPSCQueue capacity must be positive")
        var size = 1
        while size < capacity { size <<= 1 }
        storage = UnsafeMutablePointer<Element>.allocate(capacity: size)
        mask = size - 1
    }

    deinit {
        var h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .relaxed)
        while h != t {
            (storage + (h & mask)).deinitialize(count: 1)
            h &+= 1
        }
        storage.deallocate()
    }

    /// The number of slots.
    public var capacity: Int { mask + 1 }

    /// Appends `element`; returns false (and drops nothing) when the queue is full. Producer only.
    @discardableResult
    public func push(_ element: consuming Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        if t &- h > mask { return false }
        (storage + (t & mask)).initialize(to: element)
        tail.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Removes the oldest element, or returns nil when empty. Consumer only.
    public func pop() -> Element? {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        if h == t { return nil }
        let element = (storage + (h & mask)).move()
        head.store(h &+ 1, ordering: .releasing)
        return element
    }

    /// A snapshot of the number of queued elements; exact only when neither side is running.
    public var approximateCount: Int {
        tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring)
    }
}
