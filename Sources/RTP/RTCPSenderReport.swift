import TandemBase

/// An RTCP sender report (RFC 3550 §6.4.1): a view into the packet.
public struct RTCPSenderReport {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// Sender SSRC + sender info.
    static let fixedBodySize = 24

    /// Parses `packet` as an SR; throws if the type is wrong or the report blocks do not fit.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.senderReport else { throw .wrongPacketType }
        guard packet.body.count >= RTCPSenderReport.fixedBodySize + Int(packet.count) * RTCPReportBlock.size
        else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single SR at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The sender's SSRC.
    public var ssrc: SSRC { SSRC(packet.body.u32(0)) }
    /// The wallclock time when this report was sent.
    public var ntpTimestamp: NTPTimestamp { NTPTimestamp(rawValue: UInt64(packet.body.u32(4)) << 32 | UInt64(packet.body.u32(8))) }
    /// The RTP timestamp corresponding to `ntpTimestamp`.
    public var rtpTimestamp: RTPTimestamp { RTPTimestamp(packet.body.u32(12)) }
    /// Packets sent since the start of transmission.
    public var packetCount: UInt32 { packet.body.u32(16) }
    /// Payload octets sent since the start of transmission.
    public var octetCount: UInt32 { packet.body.u32(20) }
    /// The number of report blocks.
    public var reportBlockCount: Int { Int(packet.count) }
    /// The report blocks.
    public var reportBlocks: RTCPReportBlocks {
        RTCPReportBlocks(bytes: packet.body.slice(RTCPSenderReport.fixedBodySize, packet.body.count), count: reportBlockCount)
    }
    /// Profile-specific extension bytes after the report blocks (usually empty).
    public var profileExtension: UnsafeRawBufferPointer {
        packet.body.slice(RTCPSenderReport.fixedBodySize + reportBlockCount * RTCPReportBlock.size, packet.body.count)
    }
}

/// An RTCP receiver report (RFC 3550 §6.4.2): a view into the packet.
public struct RTCPReceiverReport {
    /// The underlying packet.
    public let packet: RTCPPacket

    /// Parses `packet` as an RR; throws if the type is wrong or the report blocks do not fit.
    public init(parsing packet: RTCPPacket) throws(RTCPParseError) {
        guard packet.packetType == RTCPPacketType.receiverReport else { throw .wrongPacketType }
        guard packet.body.count >= 4 + Int(packet.count) * RTCPReportBlock.size else { throw .badLength }
        self.packet = packet
    }

    /// Parses the single RR at the start of `bytes`.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTCPParseError) {
        try self.init(parsing: RTCPPacket(parsing: bytes))
    }

    /// The reporter's SSRC.
    public var ssrc: SSRC { SSRC(packet.body.u32(0)) }
    /// The number of report blocks.
    public var reportBlockCount: Int { Int(packet.count) }
    /// The report blocks.
    public var reportBlocks: RTCPReportBlocks {
        RTCPReportBlocks(bytes: packet.body.slice(4, packet.body.count), count: reportBlockCount)
    }
}

/// Writes an RTCP sender report into the caller's buffer; never allocates.
public struct RTCPSenderReportWriter {
    /// The sender's SSRC.
    public var ssrc: SSRC
    /// Wallclock time of sending.
    public var ntpTimestamp: NTPTimestamp
    /// The RTP timestamp for the same instant.
    public var rtpTimestamp: RTPTimestamp
    /// Packets sent.
    public var packetCount: UInt32
    /// Payload octets sent.
    public var octetCount: UInt32
    /// Report blocks (at most 31), borrowed.
    public var reportBlocks: UnsafeBufferPointer<RTCPReportBlock>

    /// Creates a writer.
    public init(
        ssrc: SSRC, ntpTimestamp: NTPTimestamp, rtpTimestamp: RTPTimestamp, packetCount: UInt32,
        octetCount: UInt32,
        reportBlocks: UnsafeBufferPointer<RTCPReportBlock> = UnsafeBufferPointer(start: nil, count: 0)
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 4 + RTCPSenderReport.fixedBodySize + reportBlocks.count * RTCPReportBlock.size }

    /// Writes the SR at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard reportBlocks.count <= 31 else { throw .invalidField }
        let size = serializedSize
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(to: buffer, count: UInt8(reportBlocks.count), packetType: RTCPPacketType.senderReport, totalLength: size)
        buffer.put32(ssrc.rawValue, at: 4)
        buffer.put32(UInt32(truncatingIfNeeded: ntpTimestamp.rawValue >> 32), at: 8)
        buffer.put32(UInt32(truncatingIfNeeded: ntpTimestamp.rawValue), at: 12)
        buffer.put32(rtpTimestamp.rawValue, at: 16)
        buffer.put32(packetCount, at: 20)
        buffer.put32(octetCount, at: 24)
        var offset = 28
        for block in reportBlocks {
            block.write(to: buffer, at: offset)
            offset += RTCPReportBlock.size
        }
        return size
    }
}

/// Writes an RTCP receiver report into the caller's buffer; never allocates.
public struct RTCPReceiverReportWriter {
    /// The reporter's SSRC.
    public var ssrc: SSRC
    /// Report blocks (at most 31), borrowed.
    public var reportBlocks: UnsafeBufferPointer<RTCPReportBlock>

    /// Creates a writer.
    public init(ssrc: SSRC, reportBlocks: UnsafeBufferPointer<RTCPReportBlock> = UnsafeBufferPointer(start: nil, count: 0)) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }

    /// Bytes `write(to:)` produces.
    public var serializedSize: Int { 8 + reportBlocks.count * RTCPReportBlock.size }

    /// Writes the RR at the start of `buffer`; returns its size.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(RTPWriteError) -> Int {
        guard reportBlocks.count <= 31 else { throw .invalidField }
        let size = serializedSize
        guard buffer.count >= size else { throw .bufferTooSmall }
        writeRTCPHeader(to: buffer, count: UInt8(reportBlocks.count), packetType: RTCPPacketType.receiverReport, totalLength: size)
        buffer.put32(ssrc.rawValue, at: 4)
        var offset = 8
        for block in reportBlocks {
            block.write(to: buffer, at: offset)
            offset += RTCPReportBlock.size
        }
        return size
    }
}
