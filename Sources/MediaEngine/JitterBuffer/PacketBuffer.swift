import TandemBase

/// Fixed-capacity packet storage indexed by sequence number (slot = seq mod capacity).
///
/// Payload bytes are copied into preallocated slots, so `store` never allocates. A window of `capacity`
/// consecutive sequence numbers starting at `windowStart` can be held; the owner (`JitterBuffer`) keeps
/// packets inside that window. One thread (the worker owning the stream) uses it.
public final class PacketBuffer {
    /// Metadata of one stored packet.
    public struct Entry: Sendable, Equatable {
        /// RTP sequence number.
        public var sequenceNumber: SequenceNumber
        /// RTP timestamp.
        public var timestamp: RTPTimestamp
        /// Arrival time in microseconds of the injected clock.
        public var arrivalMicroseconds: Int64
        /// Payload length in bytes.
        public var length: Int
        /// RTP marker bit.
        public var hasMarker: Bool
        /// RFC 3389 comfort-noise payload.
        public var isComfortNoise: Bool

        /// Metadata for `store`.
        public init(sequenceNumber: SequenceNumber, timestamp: RTPTimestamp, arrivalMicroseconds: Int64, length: Int, hasMarker: Bool, isComfortNoise: Bool) {
            self.sequenceNumber = sequenceNumber
            self.timestamp = timestamp
            self.arrivalMicroseconds = arrivalMicroseconds
            self.length = length
            self.hasMarker = hasMarker
            self.isComfortNoise = isComfortNoise
        }
    }

    /// Number of slots (a power of two).
    public let capacity: Int
    /// Bytes reserved per slot.
    public let slotSize: Int
    /// Packets currently stored.
    public private(set) var count = 0

    private let mask: Int
    private let entries: UnsafeMutablePointer<Entry>
    private let occupied: UnsafeMutablePointer<Bool>
    private let bytes: UnsafeMutableRawPointer

    /// Storage for `capacity` (rounded up to a power of two, at least 4) packets of up to `slotSize` bytes. Allocates once.
    public init(capacity: Int, slotSize: Int) {
        var c = 4
        while c < capacity { c <<= 1 }
        self.capacity = c
        self.mask = c - 1
        self.slotSize = max(1, slotSize)
        entries = .allocate(capacity: c)
        entries.initialize(repeating: Entry(sequenceNumber: SequenceNumber(0), timestamp: RTPTimestamp(0), arrivalMicroseconds: 0, length: 0, hasMarker: false, isComfortNoise: false), count: c)
        occupied = .allocate(capacity: c)
        occupied.initialize(repeating: false, count: c)
        bytes = .allocate(byteCount: c * self.slotSize, alignment: 16)
    }

    deinit {
        entries.deinitialize(count: capacity)
        entries.deallocate()
        occupied.deinitialize(count: capacity)
        occupied.deallocate()
        bytes.deallocate()
    }

    /// Whether a packet with exactly this sequence number is stored.
    public func contains(_ seq: SequenceNumber) -> Bool {
        let i = Int(seq.rawValue) & mask
        return occupied[i] && entries[i].sequenceNumber == seq
    }

    /// The stored packet with this sequence number, if any.
    public func entry(_ seq: SequenceNumber) -> Entry? {
        let i = Int(seq.rawValue) & mask
        return occupied[i] && entries[i].sequenceNumber == seq ? entries[i] : nil
    }

    /// Stores a packet, copying `payload` (at most `slotSize` bytes, checked by the caller). Replaces whatever
    /// occupied the slot. No allocation.
    public func store(_ entry: Entry, payload: UnsafeRawBufferPointer) {
        let i = Int(entry.sequenceNumber.rawValue) & mask
        if !occupied[i] { count += 1 }
        occupied[i] = true
        var e = entry
        e.length = min(payload.count, slotSize)
        entries[i] = e
        if let base = payload.baseAddress, e.length > 0 {
            (bytes + i * slotSize).copyMemory(from: base, byteCount: e.length)
        }
    }

    /// Payload view of the stored packet `seq`; valid until that slot is overwritten or removed. Empty if absent.
    public func payload(_ seq: SequenceNumber) -> UnsafeRawBufferPointer {
        let i = Int(seq.rawValue) & mask
        guard occupied[i], entries[i].sequenceNumber == seq else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: bytes + i * slotSize, count: entries[i].length)
    }

    /// Removes the packet `seq` if stored.
    public func remove(_ seq: SequenceNumber) {
        let i = Int(seq.rawValue) & mask
        if occupied[i] && entries[i].sequenceNumber == seq {
            occupied[i] = false
            count -= 1
        }
    }

    /// The first stored sequence number in `start ..< start + limit` (wrap-aware), scanning at most `capacity` slots.
    public func first(from start: SequenceNumber, limit: Int) -> SequenceNumber? {
        if count == 0 { return nil }
        var s = start
        for _ in 0..<min(limit, capacity) {
            if contains(s) { return s }
            s = s.advanced(by: 1)
        }
        return nil
    }

    /// Removes every packet whose sequence number is before `start` (wrap-aware); returns how many.
    @discardableResult
    public func removeAll(before start: SequenceNumber) -> Int {
        if count == 0 { return 0 }
        var removed = 0
        for i in 0..<capacity where occupied[i] && entries[i].sequenceNumber < start {
            occupied[i] = false
            removed += 1
        }
        count -= removed
        return removed
    }

    /// Empties the buffer.
    public func flush() {
        for i in 0..<capacity { occupied[i] = false }
        count = 0
    }
}
