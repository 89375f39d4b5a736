import Synchronization
import Testing
@testable import TandemBase

@Suite struct CallbackSlotTests {
    /// A closure read through a lock's `inout` body gains a reabstraction thunk per read; 300,000 reads overflowed
    /// the stack of the event feed that way. The slot must stay flat however often it is called.
    @Test func manyCallsDoNotGrowTheCallback() throws {
        let slot = CallbackSlot<Int>()
        #expect(try !slot.call(1))
        let sum = Mutex(0)
        slot.set { n in sum.withLock { $0 += n } }
        #expect(slot.isSet)
        for _ in 0..<300_000 { try slot.call(1) }
        #expect(sum.withLock { $0 } == 300_000)
    }

    @Test func errorsReachTheCaller() {
        struct Refused: Error {}
        let slot = CallbackSlot<String>()
        slot.set { _ in throw Refused() }
        #expect(throws: Refused.self) { try slot.call("x") }
    }
}
