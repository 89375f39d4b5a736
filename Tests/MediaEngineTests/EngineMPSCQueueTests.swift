import Foundation
import Synchronization
import TandemBase
import Testing

/// `TandemBase.MPSCQueue`, the worker command queue, under several producer threads.
@Suite struct EngineMPSCQueueTests {
    @Test func singleThreadFIFOAndFull() {
        let q = MPSCQueue<Int>(capacity: 4)
        #expect(q.capacity == 4)
        #expect(q.pop() == nil)
        for i in 0..<4 { #expect(q.push(i)) }
        #expect(!q.push(99), "a full queue refuses")
        #expect(q.approximateCount == 4)
        for i in 0..<4 { #expect(q.pop() == i) }
        #expect(q.pop() == nil)
        // Wraps around many laps.
        for lap in 0..<1000 {
            #expect(q.push(lap)); #expect(q.push(-lap))
            #expect(q.pop() == lap); #expect(q.pop() == -lap)
        }
    }

    @Test func releasesQueuedObjectsOnDeinit() {
        weak var weakToken: AnyObject?
        do {
            let q = MPSCQueue<AnyObject>(capacity: 8)
            let t = NSObject()
            weakToken = t
            #expect(q.push(t))
        }
        #expect(weakToken == nil)
    }

    @Test func fourProducersOneConsumerKeepPerProducerOrder() throws {
        let producers = 4
        let perProducer = 50_000
        let q = MPSCQueue<UInt64>(capacity: 256)
        let started = Atomic<Int>(0)
        var threads: [Thread] = []
        for p in 0..<producers {
            let t = Thread {
                started.add(1, ordering: .relaxed)
                for i in 0..<perProducer {
                    let value = UInt64(p) << 32 | UInt64(i)
                    while !q.push(value) { sched_yield() }
                }
            }
            threads.append(t)
        }
        for t in threads { t.start() }
        var next = [Int](repeating: 0, count: producers)
        var received = 0
        var spins = 0
        while received < producers * perProducer {
            guard let v = q.pop() else {
                spins += 1
                try #require(spins < 200_000_000, "consumer starved")
                sched_yield()
                continue
            }
            let p = Int(v >> 32), i = Int(v & 0xFFFF_FFFF)
            try #require(p < producers)
            try #require(i == next[p], "producer \(p) out of order: \(i) after \(next[p])")
            next[p] += 1
            received += 1
        }
        #expect(next == [Int](repeating: perProducer, count: producers))
        #expect(q.pop() == nil)
        #expect(started.load(ordering: .relaxed) == producers)
    }
}
