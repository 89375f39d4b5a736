import TandemBase

/// A parsed RTP packet (RFC 3550 §5.1): a view over the caller's bytes, never a copy.
///
/// The caller owns `bytes` and must keep them alive and unchanged while the view is used.
/// Parsing reads the fixed header, CSRC count, extension header and padding only; it does not
/// allocate and costs O(1). Any thread may use a view; it is a plain value.
public struct RTPPacket {
    /// The whole packet as received, including padding.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the payload: 12 + 4 × CSRC count + extension (header and data).
    public let headerLength: Int
    /// Number of payload bytes, padding excluded.
    public let payloadLength: Int
    /// Offset of the extension data (after its 4-byte header), or 0 when there is no extension.
    let extensionOffset: Int
    /// Number of extension data bytes (the length field × 4).
    let extensionLength: Int

    /// The fixed header size in bytes (RFC 3550 §5.1).
    public static let fixedHeaderSize = 12

    /// Parses `bytes` as an RTP packet; throws on any structural inconsistency, never traps.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPParseError) {
        let count = bytes.count
        guard count >= RTPPacket.fixedHeaderSize else { throw .truncated }
        let b0 = bytes.u8(0)
        guard b0 >> 6 == 2 else { throw .wrongVersion }
        var offset = RTPPacket.fixedHeaderSize + Int(b0 & 0x0F) * 4
        guard offset <= count else { throw .truncated }
        var extOffset = 0
        var extLength = 0
        if b0 & 0x10 != 0 {
            // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words, then the data.
            guard offset + 4 <= count else { throw .truncated }
            extLength = Int(bytes.u16(offset + 2)) * 4
            extOffset = offset + 4
            guard extOffset + extLength <= count else { throw .badExtensionLength }
            offset = extOffset + extLength
        }
        var end = count
        if b0 & 0x20 != 0 {
            // RFC 3550 §5.1: the last octet counts the padding octets, itself included, so 0 is invalid.
            guard count > offset else { throw .badPadding }
            let padding = Int(bytes.u8(count - 1))
            guard padding > 0, padding <= count - offset else { throw .badPadding }
            end = count - padding
        }
        self.bytes = bytes
        self.headerLength = offset
        self.payloadLength = end - offset
        self.extensionOffset = extOffset
        self.extensionLength = extLength
    }

    /// Always 2 for a parsed packet.
    public var version: UInt8 { bytes.u8(0) >> 6 }
    /// The P bit: the packet ends with padding.
    public var hasPadding: Bool { bytes.u8(0) & 0x20 != 0 }
    /// The X bit: a header extension follows the CSRC list.
    public var hasExtension: Bool { bytes.u8(0) & 0x10 != 0 }
    /// The number of CSRC identifiers (0...15).
    public var csrcCount: Int { Int(bytes.u8(0) & 0x0F) }
    /// The M bit, whose meaning the profile defines (RFC 3551 §4.1: start of a talkspurt).
    public var hasMarker: Bool { bytes.u8(1) & 0x80 != 0 }
    /// The 7-bit payload type.
    public var payloadType: PayloadType { PayloadType(masking: bytes.u8(1)) }
    /// The sequence number.
    public var sequenceNumber: SequenceNumber { SequenceNumber(bytes.u16(2)) }
    /// The media timestamp.
    public var timestamp: RTPTimestamp { RTPTimestamp(bytes.u32(4)) }
    /// The synchronisation source.
    public var ssrc: SSRC { SSRC(bytes.u32(8)) }

    /// The CSRC at `index`, which must be below `csrcCount`.
    public func csrc(at index: Int) -> SSRC {
        precondition(index >= 0 && index < csrcCount, "CSRC index out of range")
        return SSRC(bytes.u32(RTPPacket.fixedHeaderSize + index * 4))
    }

    /// The header extension, or nil when the X bit is clear.
    public var headerExtension: RTPHeaderExtension? {
        guard extensionOffset != 0 else { return nil }
        return RTPHeaderExtension(
            profile: bytes.u16(extensionOffset - 4),
            data: bytes.slice(extensionOffset, extensionOffset + extensionLength))
    }

    /// The payload, padding excluded; a slice of `bytes`.
    public var payload: UnsafeRawBufferPointer { bytes.slice(headerLength, headerLength + payloadLength) }

    /// The number of padding octets at the end (0 when the P bit is clear).
    public var paddingLength: Int { bytes.count - headerLength - payloadLength }
}

extension PayloadType {
    /// The low 7 bits of `byte`; cannot fail.
    init(masking byte: UInt8) { self.rawValue = byte & 0x7F }
}
