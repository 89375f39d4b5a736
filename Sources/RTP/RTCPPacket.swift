import TandemBase

/// RTCP packet type numbers (RFC 3550 §12.1, RFC 4585 §6.1).
public enum RTCPPacketType {
    /// Sender report.
    public static let senderReport: UInt8 = 200
    /// Receiver report.
    public static let receiverReport: UInt8 = 201
    /// Source description.
    public static let sourceDescription: UInt8 = 202
    /// Goodbye.
    public static let goodbye: UInt8 = 203
    /// Application-defined.
    public static let application: UInt8 = 204
    /// Transport-layer feedback (RFC 4585 §6.2).
    public static let transportFeedback: UInt8 = 205
    /// Payload-specific feedback (RFC 4585 §6.3).
    public static let payloadSpecificFeedback: UInt8 = 206
}

/// One RTCP packet of a compound packet (RFC 3550 §6.4): a view over the caller's bytes.
///
/// Holds the common header's fields and the body; typed views (`RTCPSenderReport`, …) parse the
/// body on demand. Never copies or allocates.
public struct RTCPPacket {
    /// The whole packet: header, body and padding.
    public let bytes: UnsafeRawBufferPointer
    /// The bytes after the 4-byte common header, padding excluded.
    public let body: UnsafeRawBufferPointer

    /// The size of the common header.
    public static let headerSize = 4

    /// Parses the single packet at the start of `bytes`; trailing bytes (the rest of a compound
    /// packet) are ignored. Throws on bad version, length or padding; never traps.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        guard bytes.count >= RTCPPacket.headerSize else { throw .truncated }
        let b0 = bytes.u8(0)
        guard b0 >> 6 == 2 else { throw .wrongVersion }
        // RFC 3550 §6.4.1: length in 32-bit words minus one, header included.
        let length = (Int(bytes.u16(2)) + 1) * 4
        guard length <= bytes.count else { throw .badLength }
        var end = length
        if b0 & 0x20 != 0 {
            let padding = Int(bytes.u8(length - 1))
            guard padding > 0, padding <= length - RTCPPacket.headerSize else { throw .badPadding }
            end = length - padding
        }
        self.bytes = bytes.slice(0, length)
        self.body = bytes.slice(RTCPPacket.headerSize, end)
    }

    /// The P bit.
    public var hasPadding: Bool { bytes.u8(0) & 0x20 != 0 }
    /// The 5-bit count field: report count, source count, APP subtype or feedback message type (FMT).
    public var count: UInt8 { bytes.u8(0) & 0x1F }
    /// The feedback message type (RFC 4585 §6.1); the same bits as `count`.
    public var feedbackMessageType: UInt8 { count }
    /// The packet type (see `RTCPPacketType`).
    public var packetType: UInt8 { bytes.u8(1) }

    /// Classifies the packet and parses its body into the matching typed view.
    public func message() throws(RTCPParseError) -> RTCPMessage {
        switch packetType {
        case RTCPPacketType.senderReport:
            return .senderReport(try RTCPSenderReport(parsing: self))
        case RTCPPacketType.receiverReport:
            return .receiverReport(try RTCPReceiverReport(parsing: self))
        case RTCPPacketType.sourceDescription:
            return .sourceDescription(try RTCPSourceDescription(parsing: self))
        case RTCPPacketType.goodbye:
            return .goodbye(try RTCPGoodbye(parsing: self))
        case RTCPPacketType.application:
            return .application(try RTCPApplication(parsing: self))
        case RTCPPacketType.transportFeedback where count == RTCPGenericNACK.feedbackMessageType:
            return .genericNACK(try RTCPGenericNACK(parsing: self))
        case RTCPPacketType.payloadSpecificFeedback where count == RTCPPictureLossIndication.feedbackMessageType:
            return .pictureLossIndication(try RTCPPictureLossIndication(parsing: self))
        case RTCPPacketType.payloadSpecificFeedback where count == RTCPFullIntraRequest.feedbackMessageType:
            return .fullIntraRequest(try RTCPFullIntraRequest(parsing: self))
        case RTCPPacketType.payloadSpecificFeedback where count == 15 && isREMB:
            return .receiverEstimatedMaximumBitrate(self)
        default:
            return .unknown(self)
        }
    }

    /// True for PSFB FMT 15 with the "REMB" identifier (draft-alvestrand-rmcat-remb §2.2).
    var isREMB: Bool {
        // Sender SSRC, media SSRC (0), then the unique identifier 'R' 'E' 'M' 'B'.
        body.count >= 12 && body.u32(8) == 0x5245_4D42
    }
}

/// A classified RTCP packet. Views borrow the caller's bytes; the enum holds no allocation.
public enum RTCPMessage {
    /// SR (RFC 3550 §6.4.1).
    case senderReport(RTCPSenderReport)
    /// RR (RFC 3550 §6.4.2).
    case receiverReport(RTCPReceiverReport)
    /// SDES (RFC 3550 §6.5).
    case sourceDescription(RTCPSourceDescription)
    /// BYE (RFC 3550 §6.6).
    case goodbye(RTCPGoodbye)
    /// APP (RFC 3550 §6.7).
    case application(RTCPApplication)
    /// RTPFB generic NACK (RFC 4585 §6.2.1).
    case genericNACK(RTCPGenericNACK)
    /// PSFB picture loss indication (RFC 4585 §6.3.1).
    case pictureLossIndication(RTCPPictureLossIndication)
    /// PSFB full intra request (RFC 5104 §4.3.1).
    case fullIntraRequest(RTCPFullIntraRequest)
    /// PSFB REMB, recognised but kept raw for passthrough.
    case receiverEstimatedMaximumBitrate(RTCPPacket)
    /// Any other type or feedback format, kept raw.
    case unknown(RTCPPacket)
}

/// A compound RTCP packet (RFC 3550 §6.1): validated once, then iterated without allocation.
public struct RTCPCompoundPacket: Sequence {
    /// The whole datagram.
    public let bytes: UnsafeRawBufferPointer
    /// The number of packets in the compound.
    public let packetCount: Int

    /// Validates every packet's common header (version, length, padding) across the datagram.
    ///
    /// Cost is O(number of packets). Bodies are parsed later, by `RTCPPacket.message()`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        guard bytes.count >= RTCPPacket.headerSize else { throw .truncated }
        var offset = 0
        var n = 0
        while offset < bytes.count {
            let packet = try RTCPPacket(parsing: bytes.slice(offset, bytes.count))
            offset += packet.bytes.count
            n += 1
        }
        self.bytes = bytes
        self.packetCount = n
    }

    /// Iterates the packets in order.
    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    /// A non-allocating iterator over the packets of a validated compound.
    public struct Iterator: IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        /// The next packet, or nil at the end.
        public mutating func next() -> RTCPPacket? {
            guard offset < bytes.count,
                let packet = try? RTCPPacket(parsing: bytes.slice(offset, bytes.count))
            else { return nil }
            offset += packet.bytes.count
            return packet
        }
    }
}

/// Writes the RTCP common header; `totalLength` is a multiple of 4 including the header.
func writeRTCPHeader(
    to buffer: UnsafeMutableRawBufferPointer, count: UInt8, packetType: UInt8, totalLength: Int
) {
    buffer.put8(0x80 | (count & 0x1F), at: 0)
    buffer.put8(packetType, at: 1)
    buffer.put16(UInt16(totalLength / 4 - 1), at: 2)
}
