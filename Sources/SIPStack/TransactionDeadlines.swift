import TandemBase

/// The transaction layer's timer schedule: a binary min-heap of (deadline, transaction) with lazy deletion, and
/// each transaction's current deadline. Finding the earliest deadline is O(1) and a change is O(log n), where the
/// layer used to scan every live transaction (including those lingering in Timer J/K) after every message.
///
/// An entry is current while `scheduled[key]` still equals its deadline; entries superseded by a reschedule or
/// left by a removed transaction stay in the heap until they reach the top, where they are dropped.
struct TransactionDeadlines: Sendable {
    private struct Entry: Sendable {
        var deadline: Instant
        var key: TransactionKey
    }

    private var heap: [Entry] = []
    private var scheduled: [TransactionKey: Instant] = [:]

    /// Entries in the heap, current or stale (for tests).
    var heapCount: Int { heap.count }

    /// The earliest current deadline (the top is kept current by every mutation).
    var earliest: Instant? { heap.first?.deadline }

    /// Records `deadline` (nil: none) as `key`'s next deadline.
    mutating func set(_ deadline: Instant?, for key: TransactionKey) {
        guard scheduled[key] != deadline else { return }
        scheduled[key] = deadline
        if let deadline { push(Entry(deadline: deadline, key: key)) }
        dropStaleTop()
    }

    /// Removes and returns the key of the earliest current entry due at `now`, forgetting its deadline; nil when
    /// nothing is due.
    mutating func popDue(now: Instant) -> TransactionKey? {
        dropStaleTop()
        guard let top = heap.first, top.deadline <= now else { return nil }
        popTop()
        scheduled[top.key] = nil
        dropStaleTop()
        return top.key
    }

    private mutating func dropStaleTop() {
        while let top = heap.first, scheduled[top.key] != top.deadline { popTop() }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, heap[l].deadline < heap[smallest].deadline { smallest = l }
            if r < heap.count, heap[r].deadline < heap[smallest].deadline { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
