import TandemBase

/// An RTCP source description (RFC 3550 §6.5): a view into the packet, validated at parse.
public struct RTCPSourceDescription {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// SDES item type numbers (RFC 3550 §6.5).
    public enum ItemType {
        /// Terminates a chunk's item list.
        public static let end: UInt8 = 0
        /// Canonical end-point identifier.
        public static let cname: UInt8 = 1
        /// User name.
        public static let name: UInt8 = 2
        /// Email address.
        public static let email: UInt8 = 3
        /// Phone number.
        public static let phone: UInt8 = 4
        /// Geographic location.
        public static let location: UInt8 = 5
        /// Application or tool name.
        public static let tool: UInt8 = 6
        /// Notice/status.
        public static let note: UInt8 = 7
        /// Private extensions.
        public static let privateExtension: UInt8 = 8
    }

    /// Parses `packet` as SDES, checking every chunk and item fits. Cost O(body bytes).
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.sourceDescription else { throw .wrongPacketType }
        var offset = 0
        for _ in 0..<Int(packet.count) {
            guard let end = RTCPSourceDescription.chunkEnd(packet.body, from: offset) else { throw .badLength }
            offset = end
        }
        self.packet = packet
    }

    /// Parses the single SDES at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The offset after the chunk starting at `start` (32-bit aligned), or nil if malformed.
    static func chunkEnd(_ body: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let itemsEnd = itemsEnd(body, from: start) else { return nil }
        // The end item (one zero octet) is followed by zeros up to the next 32-bit boundary.
        let end = (itemsEnd + 1 + 3) & ~3
        return end <= body.count ? end : nil
    }

    /// The offset of the chunk's terminating zero octet, or nil if malformed.
    static func itemsEnd(_ body: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start + 4 <= body.count else { return nil }
        var offset = start + 4
        while true {
            guard offset < body.count else { return nil }
            if body.u8(offset) == ItemType.end { return offset }
            guard offset + 2 <= body.count else { return nil }
            offset += 2 + Int(body.u8(offset + 1))
        }
    }

    /// The number of chunks.
    public var chunkCount: Int { Int(packet.count) }

    /// The chunks, in order; iteration does not allocate.
    public var chunks: Chunks { Chunks(body: packet.body, remaining: chunkCount) }

    /// A non-allocating iterator over SDES chunks.
    public struct Chunks: Sequence, IteratorProtocol {
        let body: UnsafeRawBufferPointer
        var remaining: Int
        var offset = 0

        /// The next chunk.
        public mutating func next() -> RTCPSDESChunk? {
            guard remaining > 0, let itemsEnd = RTCPSourceDescription.itemsEnd(body, from: offset),
                let end = RTCPSourceDescription.chunkEnd(body, from: offset)
            else { return nil }
            let chunk = RTCPSDESChunk(ssrc: SSRC(body.u32(offset)), itemBytes: body.slice(offset + 4, itemsEnd))
            remaining -= 1
            offset = end
            return chunk
        }
    }
}

/// One SDES chunk: a source and its items.
public struct RTCPSDESChunk {
    /// The source described.
    public let ssrc: SSRC
    /// The raw item list, without the terminating zero.
    public let itemBytes: UnsafeRawBufferPointer

    /// The items; iteration does not allocate.
    public var items: Items { Items(bytes: itemBytes) }

    /// The CNAME value, if present.
    public var cname: UnsafeRawBufferPointer? {
        for item in items where item.type == RTCPSourceDescription.ItemType.cname { return item.value }
        return nil
    }

    /// A non-allocating iterator over SDES items.
    public struct Items: Sequence, IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        /// The next item.
        public mutating func next() -> RTCPSDESItem? {
            guard offset + 2 <= bytes.count else { return nil }
            let length = Int(bytes.u8(offset + 1))
            guard offset + 2 + length <= bytes.count else { return nil }
            defer { offset += 2 + length }
            return RTCPSDESItem(type: bytes.u8(offset), value: bytes.slice(offset + 2, offset + 2 + length))
        }
    }
}

/// One SDES item: a type and its (UTF-8) value.
public struct RTCPSDESItem {
    /// The item type (see `RTCPSourceDescription.ItemType`).
    public let type: UInt8
    /// The value bytes.
    public let value: UnsafeRawBufferPointer
}

/// Writes an SDES packet with one chunk holding a CNAME (RFC 3550 §6.5.1); never allocates.
public struct RTCPSourceDescriptionWriter {
    /// The source described.
    public var ssrc: SSRC
    /// The CNAME bytes (at most 255), borrowed.
    public var cname: UnsafeRawBufferPointer

    /// Creates a writer.
    public init(ssrc: SSRC, cname: UnsafeRawBufferPointer) {
        self.ssrc = ssrc
        self.cname = cname
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int {
        // Header, SSRC, item type and length, value, end octet, padded to 32 bits.
        4 + ((4 + 2 + cname.count + 1 + 3) & ~3)
    }

    /// Writes the SDES at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard cname.count <= 255 else { throw .invalidField }
        let size = serializedSize
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(to: buffer, count: 1, packetType: RTCPPacketType.sourceDescription, totalLength: size)
        buffer.put32(ssrc.rawValue, at: 4)
        buffer.put8(RTCPSourceDescription.ItemType.cname, at: 8)
        buffer.put8(UInt8(cname.count), at: 9)
        buffer.copy(cname, at: 10)
        let end = 10 + cname.count
        buffer.zero(end, count: size - end)
        return size
    }
}
