import TandemBase

/// How a writer lays out the header extension (RFC 3550 §5.3.1, RFC 8285 §4).
public enum RTPHeaderExtensionLayout {
    /// No extension; the X bit stays clear.
    case none
    /// RFC 8285 one-byte elements (ids 1...14, 1...16 data bytes each), padded to 32 bits.
    case oneByte(UnsafeBufferPointer<RTPHeaderExtensionElement>)
    /// RFC 8285 two-byte elements (ids 1...255, 0...255 data bytes each), padded to 32 bits;
    /// `appBits` fill the low four bits of the 0x100X profile.
    case twoByte(UnsafeBufferPointer<RTPHeaderExtensionElement>, appBits: UInt8 = 0)
    /// A generic extension kept as raw bytes; `data.count` must be a multiple of 4.
    case raw(profile: UInt16, data: UnsafeRawBufferPointer)
}

/// Serialises an RTP packet into the caller's buffer (RFC 3550 §5.1).
///
/// All variable parts (CSRCs, extension elements, payload) are borrowed from the caller and copied
/// only into the output buffer; writing never allocates. Cost is linear in the bytes written.
public struct RTPPacketWriter {
    /// The M bit.
    public var hasMarker: Bool
    /// The payload type.
    public var payloadType: PayloadType
    /// The sequence number.
    public var sequenceNumber: SequenceNumber
    /// The media timestamp.
    public var timestamp: RTPTimestamp
    /// The synchronisation source.
    public var ssrc: SSRC
    /// Contributing sources (at most 15), borrowed from the caller.
    public var csrcs: UnsafeBufferPointer<SSRC>
    /// The header extension.
    public var headerExtension: RTPHeaderExtensionLayout
    /// The payload, borrowed from the caller.
    public var payload: UnsafeRawBufferPointer
    /// Padding octets to append (0 for none, else 1...255; RFC 3550 §5.1 the last one holds the count).
    public var paddingLength: Int

    /// Creates a writer; variable parts default to empty.
    public init(
        hasMarker: Bool = false, payloadType: PayloadType, sequenceNumber: SequenceNumber,
        timestamp: RTPTimestamp, ssrc: SSRC,
        csrcs: UnsafeBufferPointer<SSRC> = UnsafeBufferPointer(start: nil, count: 0),
        headerExtension: RTPHeaderExtensionLayout = .none,
        payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        paddingLength: Int = 0
    ) {
        self.hasMarker = hasMarker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingLength = paddingLength
    }

    /// Extension data size in bytes (without the 4-byte extension header), or nil when invalid.
    var extensionDataSize: Int? {
        switch headerExtension {
        case .none:
            return 0
        case .oneByte(let elements):
            var size = 0
            for e in elements {
                guard (1...14).contains(e.id), (1...16).contains(e.data.count) else { return nil }
                size += 1 + e.data.count
            }
            return Self.roundedToWords(size)
        case .twoByte(let elements, let appBits):
            guard appBits < 16 else { return nil }
            var size = 0
            for e in elements {
                guard e.id != 0, e.data.count <= 255 else { return nil }
                size += 2 + e.data.count
            }
            return Self.roundedToWords(size)
        case .raw(_, let data):
            guard data.count % 4 == 0 else { return nil }
            return data.count
        }
    }

    static func roundedToWords(_ n: Int) -> Int { (n + 3) & ~3 }

    var hasExtension: Bool {
        if case .none = headerExtension { return false }
        return true
    }

    /// The size of the fixed header, CSRC list and extension: where the payload starts.
    public var headerSize: Int {
        RTPPacket.fixedHeaderSize + csrcs.count * 4 + (hasExtension ? 4 + (extensionDataSize ?? 0) : 0)
    }

    /// The number of bytes `write(to:)` produces.
    public var serializedSize: Int { headerSize + payload.count + paddingLength }

    /// Writes the packet at the start of `buffer` and returns the byte count; never allocates.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard csrcs.count <= 15, (0...255).contains(paddingLength),
            let extSize = extensionDataSize, extSize / 4 <= 0xFFFF
        else { throw .invalidField }
        let total = serializedSize
        guard buffer.count >= total else { throw .bufferTooSmall }

        var b0: UInt8 = 0x80 | UInt8(csrcs.count)
        if paddingLength > 0 { b0 |= 0x20 }
        if hasExtension { b0 |= 0x10 }
        buffer.put8(b0, at: 0)
        buffer.put8((hasMarker ? 0x80 : 0) | payloadType.rawValue, at: 1)
        buffer.put16(sequenceNumber.rawValue, at: 2)
        buffer.put32(timestamp.rawValue, at: 4)
        buffer.put32(ssrc.rawValue, at: 8)
        var offset = RTPPacket.fixedHeaderSize
        for csrc in csrcs {
            buffer.put32(csrc.rawValue, at: offset)
            offset += 4
        }
        if hasExtension {
            offset = writeExtension(to: buffer, at: offset, dataSize: extSize)
        }
        buffer.copy(payload, at: offset)
        offset += payload.count
        if paddingLength > 0 {
            buffer.zero(offset, count: paddingLength - 1)
            buffer.put8(UInt8(paddingLength), at: offset + paddingLength - 1)
            offset += paddingLength
        }
        return offset
    }

    private func writeExtension(to buffer: UnsafeMutableRawBufferPointer, at start: Int, dataSize: Int) -> Int {
        buffer.put16(UInt16(dataSize / 4), at: start + 2)
        var offset = start + 4
        let end = offset + dataSize
        switch headerExtension {
        case .none:
            return start
        case .oneByte(let elements):
            buffer.put16(RTPHeaderExtension.oneByteProfile, at: start)
            for e in elements {
                // RFC 8285 §4.2: 4-bit ID, 4-bit length minus one.
                buffer.put8(e.id << 4 | UInt8(e.data.count - 1), at: offset)
                buffer.copy(e.data, at: offset + 1)
                offset += 1 + e.data.count
            }
        case .twoByte(let elements, let appBits):
            buffer.put16(RTPHeaderExtension.twoByteProfile | UInt16(appBits), at: start)
            for e in elements {
                buffer.put8(e.id, at: offset)
                buffer.put8(UInt8(e.data.count), at: offset + 1)
                buffer.copy(e.data, at: offset + 2)
                offset += 2 + e.data.count
            }
        case .raw(let profile, let data):
            buffer.put16(profile, at: start)
            buffer.copy(data, at: offset)
            offset += data.count
        }
        // RFC 8285 §4.1: pad the element list with zero bytes to a 32-bit boundary.
        buffer.zero(offset, count: end - offset)
        return end
    }
}

/// Rewrites fields of an RTP header in place, for the relay: no parse, no copy, O(1) per field.
///
/// The caller owns the buffer; the editor only requires the 12-byte fixed header to be present.
public struct RTPHeaderEditor {
    /// The packet bytes being edited.
    public let bytes: UnsafeMutableRawBufferPointer

    /// Nil when `bytes` is shorter than the fixed header or is not version 2.
    public init?(_ bytes: UnsafeMutableRawBufferPointer) {
        guard bytes.count >= RTPPacket.fixedHeaderSize, bytes[0] >> 6 == 2 else { return nil }
        self.bytes = bytes
    }

    /// The M bit.
    public var hasMarker: Bool {
        get { bytes[1] & 0x80 != 0 }
        nonmutating set { bytes[1] = (bytes[1] & 0x7F) | (newValue ? 0x80 : 0) }
    }

    /// The payload type; the marker bit is preserved.
    public var payloadType: PayloadType {
        get { PayloadType(masking: bytes[1]) }
        nonmutating set { bytes[1] = (bytes[1] & 0x80) | newValue.rawValue }
    }

    /// The sequence number.
    public var sequenceNumber: SequenceNumber {
        get { SequenceNumber(UnsafeRawBufferPointer(bytes).u16(2)) }
        nonmutating set { bytes.put16(newValue.rawValue, at: 2) }
    }

    /// The media timestamp.
    public var timestamp: RTPTimestamp {
        get { RTPTimestamp(UnsafeRawBufferPointer(bytes).u32(4)) }
        nonmutating set { bytes.put32(newValue.rawValue, at: 4) }
    }

    /// The synchronisation source.
    public var ssrc: SSRC {
        get { SSRC(UnsafeRawBufferPointer(bytes).u32(8)) }
        nonmutating set { bytes.put32(newValue.rawValue, at: 8) }
    }
}
