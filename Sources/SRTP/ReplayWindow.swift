/// A 128-packet sliding replay window over packet indices (RFC 3711 §3.3.2).
///
/// Bit k of the mask records whether index `highest - k` was accepted. A fresh window has `highest`
/// 0 and no bits set, which matches libsrtp's start state. Plain value, no allocation.
struct ReplayWindow: Equatable, Sendable {
    /// The highest accepted index.
    private(set) var highest: UInt64 = 0
    /// Bits 0–63 of the mask.
    private var low: UInt64 = 0
    /// Bits 64–127 of the mask.
    private var high: UInt64 = 0

    /// Window size in packets.
    static let size: UInt64 = 128

    /// Whether `index` may be accepted: throws `.replayed` or `.tooOld`. Does not change the window.
    func check(_ index: UInt64) throws(SRTPError) {
        if index > highest { return }
        let age = highest - index
        if age >= Self.size { throw .tooOld }
        let seen = age < 64 ? (low >> age) & 1 : (high >> (age - 64)) & 1
        if seen != 0 { throw .replayed }
    }

    /// Records `index` as received; call only after the packet authenticated.
    mutating func accept(_ index: UInt64) {
        if index > highest {
            let shift = index - highest
            if shift >= Self.size {
                high = 0
                low = 0
            } else if shift >= 64 {
                high = low << (shift - 64)
                low = 0
            } else {
                high = (high << shift) | (low >> (64 - shift))
                low = low << shift
            }
            low |= 1
            highest = index
        } else {
            let age = highest - index
            if age < 64 {
                low |= 1 << age
            } else if age < Self.size {
                high |= 1 << (age - 64)
            }
        }
    }
}
