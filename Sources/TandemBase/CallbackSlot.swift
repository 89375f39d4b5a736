import Synchronization

/// A callback set from one thread and called from any, e.g. an event sink wired after both ends exist.
///
/// Why not a `Mutex<((Argument) -> Void)?>`: a closure stored directly in a generic container is kept at the
/// container's (most general) abstraction, and every access through the lock's `inout` body converts it to the
/// concrete function type and back, each time wrapping it in one more reabstraction thunk. A callback read once
/// per event then grows a chain of thunks until calling it overflows the stack (seen after ~20,000 calls in a
/// load test). Kept inside a struct, the closure has one representation and nothing accumulates.
public final class CallbackSlot<Argument>: Sendable {
    private struct Body: Sendable {
        let call: @Sendable (Argument) throws -> Void
    }

    private let body = Mutex<Body?>(nil)

    public init() {}

    /// Replaces the callback.
    public func set(_ call: @escaping @Sendable (Argument) throws -> Void) {
        body.withLock { $0 = Body(call: call) }
    }

    /// Whether a callback is set.
    public var isSet: Bool { body.withLock { $0 != nil } }

    /// Calls the callback (outside the lock); false when none is set.
    @discardableResult
    public func call(_ argument: Argument) throws -> Bool {
        guard let b = body.withLock({ $0 }) else { return false }
        try b.call(argument)
        return true
    }
}
