import Foundation
import Testing
import TandemBase

@Suite struct SPSCQueueTests {
    @Test func fillsToCapacityAndDrainsInOrder() {
        let q = SPSCQueue<Int>(capacity: 5)
        #expect(q.capacity == 8)
        for i in 0..<8 { #expect(q.push(i)) }
        #expect(!q.push(99))
        #expect(q.approximateCount == 8)
        for i in 0..<8 { #expect(q.pop() == i) }
        #expect(q.pop() == nil)
    }

    @Test func releasesQueuedObjectsOnDeinit() {
        final class Token { let flag: Flag; init(_ f: Flag) { flag = f }; deinit { flag.released += 1 } }
        final class Flag { var released = 0 }
        let flag = Flag()
        do {
            let q = SPSCQueue<Token>(capacity: 4)
            q.push(Token(flag)); q.push(Token(flag)); q.push(Token(flag))
            _ = q.pop()
        }
        #expect(flag.released == 3)
    }

    @Test func transfersEveryElementAcrossThreadsInOrder() async {
        let q = SPSCQueue<Int>(capacity: 64)
        let total = 200_000
        let producer = Thread {
            var i = 0
            while i < total { if q.push(i) { i += 1 } }
        }
        producer.start()
        var expected = 0
        var outOfOrder = 0
        while expected < total {
            if let v = q.pop() {
                if v != expected { outOfOrder += 1 }
                expected += 1
            }
        }
        #expect(outOfOrder == 0)
        #expect(q.pop() == nil)
    }
}

@Suite struct SequenceNumberTests {
    @Test func comparesAcrossTheWrap() {
        #expect(SequenceNumber(65535) < SequenceNumber(0))
        #expect(SequenceNumber(65535).distance(to: SequenceNumber(2)) == 3)
        #expect(SequenceNumber(2).distance(to: SequenceNumber(65535)) == -3)
        #expect(SequenceNumber(65535).advanced(by: 1) == SequenceNumber(0))
        #expect(!(SequenceNumber(100) < SequenceNumber(100)))
        #expect(RTPTimestamp(UInt32.max - 159) < RTPTimestamp(0))
        #expect(RTPTimestamp(UInt32.max - 159).distance(to: RTPTimestamp(0)) == 160)
    }
}
