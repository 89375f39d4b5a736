import RTP

/// Runs `body` with a raw view of `bytes`.
@discardableResult
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { try body($0) }
}

/// Serialises with `write` into a fresh array of `size` bytes and returns the written prefix.
func serialize(size: Int, _ write: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> [UInt8] {
    var out = [UInt8](repeating: 0xEE, count: size)
    let n = try out.withUnsafeMutableBytes { try write($0) }
    return Array(out[0..<n])
}

/// A small deterministic PRNG (SplitMix64) so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UnsafeRawBufferPointer {
    var array: [UInt8] { Array(self) }
}
