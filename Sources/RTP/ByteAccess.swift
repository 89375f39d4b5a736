// Big-endian loads and stores on raw buffers. Callers check bounds first; these never copy or allocate.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func u8(_ offset: Int) -> UInt8 { self[offset] }

    @inline(__always)
    func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func slice(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[start..<end])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func put8(_ value: UInt8, at offset: Int) { self[offset] = value }

    @inline(__always)
    func put16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    func put32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func put24(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 2] = UInt8(truncatingIfNeeded: value)
    }

    /// Copies `source` to `offset`; the caller has checked that it fits.
    @inline(__always)
    func copy(_ source: UnsafeRawBufferPointer, at offset: Int) {
        guard source.count > 0, let dst = baseAddress, let src = source.baseAddress else { return }
        (dst + offset).copyMemory(from: src, byteCount: source.count)
    }

    @inline(__always)
    func zero(_ offset: Int, count: Int) {
        guard count > 0, let dst = baseAddress else { return }
        (dst + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
    }
}
