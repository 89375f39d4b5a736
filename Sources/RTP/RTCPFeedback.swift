import TandemBase

/// One generic NACK FCI entry (RFC 4585 §6.2.1): a lost packet ID and a bitmask of the 16 after it.
public struct RTCPNACKItem: Hashable, Sendable {
    /// The first lost sequence number.
    public var packetID: SequenceNumber
    /// Bit i set means `packetID + i + 1` is also lost.
    public var lostBitmask: UInt16

    /// Creates an item.
    public init(packetID: SequenceNumber, lostBitmask: UInt16) {
        self.packetID = packetID
        self.lostBitmask = lostBitmask
    }
}

/// An RTPFB generic NACK (RFC 4585 §6.2.1, FMT 1): a view into the packet.
public struct RTCPGenericNACK {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// The RTPFB feedback message type of a generic NACK.
    public static let feedbackMessageType: UInt8 = 1

    /// Parses `packet` as a generic NACK; the FCI must be whole 4-byte entries.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.transportFeedback,
            packet.count == RTCPGenericNACK.feedbackMessageType
        else { throw .wrongPacketType }
        guard packet.body.count >= 8, (packet.body.count - 8) % 4 == 0 else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single NACK at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC { SSRC(packet.body.u32(0)) }
    /// The SSRC of the media source the feedback is about.
    public var mediaSSRC: SSRC { SSRC(packet.body.u32(4)) }
    /// The number of FCI entries.
    public var itemCount: Int { (packet.body.count - 8) / 4 }

    /// The FCI entry at `index` (below `itemCount`).
    public func item(at index: Int) -> RTCPNACKItem {
        precondition(index >= 0 && index < itemCount, "NACK item index out of range")
        return RTCPNACKItem(
            packetID: SequenceNumber(packet.body.u16(8 + index * 4)),
            lostBitmask: packet.body.u16(10 + index * 4))
    }

    /// Every lost sequence number the entries name, in wire order; does not allocate.
    public var lostSequenceNumbers: LostSequenceNumbers { LostSequenceNumbers(nack: self) }

    /// A non-allocating iterator expanding PID + BLP entries into sequence numbers.
    public struct LostSequenceNumbers: Sequence, IteratorProtocol {
        let nack: RTCPGenericNACK
        var index = 0
        // -1 yields the PID itself; 0...15 test BLP bits.
        var bit = -1

        init(nack: RTCPGenericNACK) { self.nack = nack }

        /// The next lost sequence number.
        public mutating func next() -> SequenceNumber? {
            while index < nack.itemCount {
                let item = nack.item(at: index)
                while bit < 16 {
                    let current = bit
                    bit += 1
                    if current < 0 { return item.packetID }
                    if item.lostBitmask & (1 << UInt16(current)) != 0 {
                        return item.packetID.advanced(by: current + 1)
                    }
                }
                index += 1
                bit = -1
            }
            return nil
        }
    }

    /// Packs `lost` (ascending in wrap-aware order) into FCI entries in `items`; returns how many were
    /// used. Stops early when `items` is full. Does not allocate.
    public static func pack(
        lost: UnsafeBufferPointer<SequenceNumber>, into items: UnsafeMutableBufferPointer<RTCPNACKItem>
    ) -> Int {
        var used = 0
        for seq in lost {
            if used > 0 {
                let distance = items[used - 1].packetID.distance(to: seq)
                if distance == 0 { continue }
                if (1...16).contains(distance) {
                    items[used - 1].lostBitmask |= 1 << UInt16(distance - 1)
                    continue
                }
            }
            guard used < items.count else { break }
            items[used] = RTCPNACKItem(packetID: seq, lostBitmask: 0)
            used += 1
        }
        return used
    }
}

/// Writes an RTPFB generic NACK; never allocates.
public struct RTCPGenericNACKWriter {
    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC
    /// The media source with losses.
    public var mediaSSRC: SSRC
    /// The FCI entries, borrowed.
    public var items: UnsafeBufferPointer<RTCPNACKItem>

    /// Creates a writer.
    public init(senderSSRC: SSRC, mediaSSRC: SSRC, items: UnsafeBufferPointer<RTCPNACKItem>) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.items = items
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 12 + items.count * 4 }

    /// Writes the NACK at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        let size = serializedSize
        guard size / 4 - 1 <= 0xFFFF else { throw .invalidField }
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(
            to: buffer, count: RTCPGenericNACK.feedbackMessageType, packetType: RTCPPacketType.transportFeedback,
            totalLength: size)
        buffer.put32(senderSSRC.rawValue, at: 4)
        buffer.put32(mediaSSRC.rawValue, at: 8)
        var offset = 12
        for item in items {
            buffer.put16(item.packetID.rawValue, at: offset)
            buffer.put16(item.lostBitmask, at: offset + 2)
            offset += 4
        }
        return size
    }
}

/// A PSFB picture loss indication (RFC 4585 §6.3.1, FMT 1): a view into the packet.
public struct RTCPPictureLossIndication {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// The PSFB feedback message type of PLI.
    public static let feedbackMessageType: UInt8 = 1

    /// Parses `packet` as PLI.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.payloadSpecificFeedback,
            packet.count == RTCPPictureLossIndication.feedbackMessageType
        else { throw .wrongPacketType }
        guard packet.body.count >= 8 else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single PLI at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC { SSRC(packet.body.u32(0)) }
    /// The media source that should send a key frame.
    public var mediaSSRC: SSRC { SSRC(packet.body.u32(4)) }
}

/// Writes a PSFB PLI (12 bytes); never allocates.
public struct RTCPPictureLossIndicationWriter {
    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC
    /// The media source that should send a key frame.
    public var mediaSSRC: SSRC

    /// Creates a writer.
    public init(senderSSRC: SSRC, mediaSSRC: SSRC) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 12 }

    /// Writes the PLI at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard buffer.count >= 12 else { throw .bufferTooSmall }
        writeRTCPHeader(
            to: buffer, count: RTCPPictureLossIndication.feedbackMessageType,
            packetType: RTCPPacketType.payloadSpecificFeedback, totalLength: 12)
        buffer.put32(senderSSRC.rawValue, at: 4)
        buffer.put32(mediaSSRC.rawValue, at: 8)
        return 12
    }
}

/// One FIR FCI entry (RFC 5104 §4.3.1.1): the target source and a command sequence number.
public struct RTCPFIREntry: Hashable, Sendable {
    /// The media sender asked for a decoder refresh.
    public var ssrc: SSRC
    /// Incremented by one per new request (modulo 256), so repeats can be recognised.
    public var sequenceNumber: UInt8

    /// Creates an entry.
    public init(ssrc: SSRC, sequenceNumber: UInt8) {
        self.ssrc = ssrc
        self.sequenceNumber = sequenceNumber
    }
}

/// A PSFB full intra request (RFC 5104 §4.3.1, FMT 4): a view into the packet.
public struct RTCPFullIntraRequest {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// The PSFB feedback message type of FIR.
    public static let feedbackMessageType: UInt8 = 4

    /// Parses `packet` as FIR; the FCI must be whole 8-byte entries.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.payloadSpecificFeedback,
            packet.count == RTCPFullIntraRequest.feedbackMessageType
        else { throw .wrongPacketType }
        guard packet.body.count >= 8, (packet.body.count - 8) % 8 == 0 else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single FIR at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC { SSRC(packet.body.u32(0)) }
    /// The media source field; RFC 5104 §4.3.1.2 says it is zero for FIR.
    public var mediaSSRC: SSRC { SSRC(packet.body.u32(4)) }
    /// The number of FCI entries.
    public var entryCount: Int { (packet.body.count - 8) / 8 }

    /// The FCI entry at `index` (below `entryCount`).
    public func entry(at index: Int) -> RTCPFIREntry {
        precondition(index >= 0 && index < entryCount, "FIR entry index out of range")
        let offset = 8 + index * 8
        return RTCPFIREntry(ssrc: SSRC(packet.body.u32(offset)), sequenceNumber: packet.body.u8(offset + 4))
    }
}

/// Writes a PSFB FIR; never allocates.
public struct RTCPFullIntraRequestWriter {
    /// The SSRC of the packet sender.
    public var senderSSRC: SSRC
    /// The FCI entries, borrowed.
    public var entries: UnsafeBufferPointer<RTCPFIREntry>

    /// Creates a writer.
    public init(senderSSRC: SSRC, entries: UnsafeBufferPointer<RTCPFIREntry>) {
        self.senderSSRC = senderSSRC
        self.entries = entries
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 12 + entries.count * 8 }

    /// Writes the FIR at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        let size = serializedSize
        guard size / 4 - 1 <= 0xFFFF else { throw .invalidField }
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(
            to: buffer, count: RTCPFullIntraRequest.feedbackMessageType,
            packetType: RTCPPacketType.payloadSpecificFeedback, totalLength: size)
        buffer.put32(senderSSRC.rawValue, at: 4)
        // RFC 5104 §4.3.1.2: the media source SSRC is not used and set to 0.
        buffer.put32(0, at: 8)
        var offset = 12
        for entry in entries {
            buffer.put32(entry.ssrc.rawValue, at: offset)
            buffer.put8(entry.sequenceNumber, at: offset + 4)
            buffer.zero(offset + 5, count: 3)
            offset += 8
        }
        return size
    }
}
