import TandemBase

/// An RTCP BYE (RFC 3550 §6.6): a view into the packet.
public struct RTCPGoodbye {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// Parses `packet` as BYE, checking the SSRC list and optional reason fit.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.goodbye else { throw .wrongPacketType }
        let listEnd = Int(packet.count) * 4
        guard packet.body.count >= listEnd else { throw .badLength }
        if packet.body.count > listEnd {
            guard listEnd + 1 + Int(packet.body.u8(listEnd)) <= packet.body.count else { throw .badLength }
        }
        self.packet = packet
    }

    /// Parses the single BYE at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The number of sources leaving.
    public var ssrcCount: Int { Int(packet.count) }

    /// The source at `index` (below `ssrcCount`).
    public func ssrc(at index: Int) -> SSRC {
        precondition(index >= 0 && index < ssrcCount, "BYE SSRC index out of range")
        return SSRC(packet.body.u32(index * 4))
    }

    /// The reason for leaving, or nil when absent.
    public var reason: UnsafeRawBufferPointer? {
        let listEnd = ssrcCount * 4
        guard packet.body.count > listEnd else { return nil }
        return packet.body.slice(listEnd + 1, listEnd + 1 + Int(packet.body.u8(listEnd)))
    }
}

/// Writes an RTCP BYE into the caller's buffer; never allocates.
public struct RTCPGoodbyeWriter {
    /// The sources leaving (at most 31), borrowed.
    public var ssrcs: UnsafeBufferPointer<SSRC>
    /// Optional reason text (at most 255 bytes), borrowed; nil for none.
    public var reason: UnsafeRawBufferPointer?

    /// Creates a writer.
    public init(ssrcs: UnsafeBufferPointer<SSRC>, reason: UnsafeRawBufferPointer? = nil) {
        self.ssrcs = ssrcs
        self.reason = reason
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int {
        var size = 4 + ssrcs.count * 4
        if let reason { size += (1 + reason.count + 3) & ~3 }
        return size
    }

    /// Writes the BYE at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard ssrcs.count <= 31, (reason?.count ?? 0) <= 255 else { throw .invalidField }
        let size = serializedSize
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(to: buffer, count: UInt8(ssrcs.count), packetType: RTCPPacketType.goodbye, totalLength: size)
        var offset = 4
        for ssrc in ssrcs {
            buffer.put32(ssrc.rawValue, at: offset)
            offset += 4
        }
        if let reason {
            buffer.put8(UInt8(reason.count), at: offset)
            buffer.copy(reason, at: offset + 1)
            offset += 1 + reason.count
            buffer.zero(offset, count: size - offset)
        }
        return size
    }
}

/// An RTCP APP packet (RFC 3550 §6.7): a view into the packet.
public struct RTCPApplication {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// Parses `packet` as APP; the SSRC and name must be present.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.application else { throw .wrongPacketType }
        guard packet.body.count >= 8 else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single APP at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The application-defined subtype (the count field).
    public var subtype: UInt8 { packet.count }
    /// The sender's SSRC.
    public var ssrc: SSRC { SSRC(packet.body.u32(0)) }
    /// The four ASCII name characters as a big-endian integer.
    public var name: UInt32 { packet.body.u32(4) }
    /// The application-dependent data.
    public var data: UnsafeRawBufferPointer { packet.body.slice(8, packet.body.count) }
}
