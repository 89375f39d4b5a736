import NIOCore
import SIPCore

/// Builds stateless responses (RFC 3261 §8.2.7, §16.11) straight from a request's raw header values, without
/// re-parsing or re-serialising the request: the Via values are copied (the top one stamped with `received`
/// and `rport`, RFC 3581 §4), From, Call-ID and CSeq are copied, To gets a tag when it has none. Used for
/// OPTIONS keep-alives, where a server answers thousands per second.
public struct StatelessResponder: Sendable {
    /// A random prefix for the To tags this responder makes; a counter makes each tag unique.
    private let tagPrefix: String
    private var counter: UInt64 = 0

    /// A responder whose tags start with `tagPrefix` (use 8+ random hex characters, RFC 3261 §19.3).
    public init(tagPrefix: String) { self.tagPrefix = tagPrefix }

    /// The response bytes written into `buffer`, or false when the request lacks a mandatory header.
    /// `topVia` is the request's top Via when the caller has parsed it already (saves parsing it again).
    public mutating func write(statusCode: Int, reasonPhrase: String, to request: SIPMessage, source: SIPTransportSource,
                               topVia: Via? = nil, into buffer: inout ByteBuffer) -> Bool {
        let vias = request.values(.via)
        guard let first = vias.first, let from = request.value(.from), let to = request.value(.to),
              let callID = request.value(.callID), let cseq = request.value(.cseq) else { return false }
        buffer.writeString("SIP/2.0 ")
        buffer.writeString(String(statusCode))
        buffer.writeString(" ")
        buffer.writeString(reasonPhrase)
        buffer.writeString("\r\nVia: ")
        buffer.writeString(Self.stamp(first, parsed: topVia, source: source))
        for via in vias.dropFirst() {
            buffer.writeString("\r\nVia: ")
            buffer.writeString(via)
        }
        buffer.writeString("\r\nFrom: ")
        buffer.writeString(from)
        buffer.writeString("\r\nTo: ")
        buffer.writeString(to)
        if !Self.hasTag(to) {
            counter &+= 1
            buffer.writeString(";tag=")
            buffer.writeString(tagPrefix)
            buffer.writeString(String(counter, radix: 16))
        }
        buffer.writeString("\r\nCall-ID: ")
        buffer.writeString(callID)
        buffer.writeString("\r\nCSeq: ")
        buffer.writeString(cseq)
        buffer.writeString("\r\nContent-Length: 0\r\n\r\n")
        return true
    }

    /// The fast path of `write` for a request that arrived over UDP from an IPv4 address and whose response goes
    /// straight back to that source (its top Via asks for `rport`, or names the source address and port): the
    /// response is written from the request's raw Via, From, To, Call-ID and CSeq bytes, the top Via stamped
    /// with `received`/`rport` (RFC 3261 §18.2.1, RFC 3581 §4) by splicing bytes, without parsing anything into
    /// Strings. False, with `buffer` untouched, when the request needs the general path (`write` and §18.2.2
    /// routing): IPv6, folded or unusual headers (`SIPRawVia` declines), `maddr`, or a Via that names another
    /// host without `rport`.
    public mutating func writeDatagramResponse(statusCode: Int, reasonPhrase: String, to request: SIPMessage,
                                               source: SIPTransportSource, into buffer: inout ByteBuffer) -> Bool {
        guard source.kind == .udp, case .v4(let address) = source.remote,
              let top = request.rawValue(.via), Self.isSingleLine(top), let via = SIPRawVia(top), !via.hasMaddr,
              let from = request.rawValue(.from), Self.isSingleLine(from), let to = request.rawValue(.to), Self.isSingleLine(to),
              let callID = request.rawValue(.callID), Self.isSingleLine(callID),
              let cseq = request.rawValue(.cseq), Self.isSingleLine(cseq) else { return false }
        var vias = request.rawValues(.via)
        _ = vias.next()
        while let more = vias.next() { guard Self.isSingleLine(more) else { return false } }
        let ip = UInt32(bigEndian: address.address.sin_addr.s_addr)
        let sourcePort = UInt16(bigEndian: address.address.sin_port)
        let sameHost = !via.isIPv6 && Self.isCanonicalIPv4(top, via.host, equalTo: ip)
        let namesSource = sameHost && via.port == sourcePort
        guard via.rport != .absent || namesSource else { return false }
        let rportRequested = via.rport == .requested
        let stampReceived = rportRequested || !sameHost

        buffer.writeStaticString("SIP/2.0 ")
        Self.writeDecimal(UInt64(statusCode), into: &buffer)
        buffer.writeStaticString(" ")
        buffer.writeString(reasonPhrase)
        buffer.writeStaticString("\r\nVia: ")
        // The top via-parm with its rport filled and received set (replaced where present, else appended):
        // at most two edits, written in the order they occur.
        var cursor = top.startIndex
        func edit(_ range: Range<Int>, rport: Bool, _ buffer: inout ByteBuffer) {
            buffer.writeBytes(top[cursor..<range.lowerBound])
            if rport {
                buffer.writeStaticString(";rport=")
                Self.writeDecimal(UInt64(sourcePort), into: &buffer)
            } else {
                Self.writeReceived(ip, into: &buffer)
            }
            cursor = range.upperBound
        }
        let rportEdit = rportRequested ? via.rportParameter : nil
        let receivedEdit = stampReceived ? (via.receivedParameter ?? via.end..<via.end) : nil
        switch (rportEdit, receivedEdit) {
        case let (r?, c?):
            if r.lowerBound < c.lowerBound {
                edit(r, rport: true, &buffer)
                edit(c, rport: false, &buffer)
            } else {
                edit(c, rport: false, &buffer)
                edit(r, rport: true, &buffer)
            }
        case let (r?, nil): edit(r, rport: true, &buffer)
        case let (nil, c?): edit(c, rport: false, &buffer)
        case (nil, nil): break
        }
        buffer.writeBytes(top[cursor...])
        vias = request.rawValues(.via)
        _ = vias.next()
        while let more = vias.next() {
            buffer.writeStaticString("\r\nVia: ")
            buffer.writeBytes(more)
        }
        buffer.writeStaticString("\r\nFrom: ")
        buffer.writeBytes(from)
        buffer.writeStaticString("\r\nTo: ")
        buffer.writeBytes(to)
        if !Self.hasTag(to) {
            counter &+= 1
            buffer.writeStaticString(";tag=")
            buffer.writeString(tagPrefix)
            Self.writeHex(counter, into: &buffer)
        }
        buffer.writeStaticString("\r\nCall-ID: ")
        buffer.writeBytes(callID)
        buffer.writeStaticString("\r\nCSeq: ")
        buffer.writeBytes(cseq)
        buffer.writeStaticString("\r\nContent-Length: 0\r\n\r\n")
        return true
    }

    static func isSingleLine(_ value: ArraySlice<UInt8>) -> Bool {
        !value.contains { $0 == 0x0d || $0 == 0x0a }
    }

    /// True when `bytes[host]` is `ip` written as `inet_ntop` writes it (dotted decimal, no leading zeros), which
    /// is what `SIPTransportRouting.sameHost` compares against.
    static func isCanonicalIPv4(_ bytes: ArraySlice<UInt8>, _ host: Range<Int>, equalTo ip: UInt32) -> Bool {
        var octet = 0
        var digits = 0
        var shift = 24
        var i = host.lowerBound
        while i <= host.upperBound {
            if i == host.upperBound || bytes[i] == UInt8(ascii: ".") {
                guard digits > 0, shift >= 0, octet == Int((ip >> UInt32(shift)) & 0xff) else { return false }
                shift -= 8
                octet = 0
                digits = 0
            } else {
                let b = bytes[i]
                guard b >= 0x30, b <= 0x39, !(digits == 1 && octet == 0) else { return false }
                octet = octet * 10 + Int(b - 0x30)
                digits += 1
                guard digits <= 3 else { return false }
            }
            i += 1
        }
        return shift == -8
    }

    static func writeReceived(_ ip: UInt32, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(";received=")
        for shift in stride(from: 24, through: 0, by: -8) {
            writeDecimal(UInt64((ip >> UInt32(shift)) & 0xff), into: &buffer)
            if shift > 0 { buffer.writeInteger(UInt8(ascii: ".")) }
        }
    }

    static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            buffer.writeInteger(UInt8(0x30 + (value / divisor) % 10))
            divisor /= 10
        }
    }

    static func writeHex(_ value: UInt64, into buffer: inout ByteBuffer) {
        var shift = 60
        while shift > 0, (value >> UInt64(shift)) & 0xf == 0 { shift -= 4 }
        while shift >= 0 {
            let d = UInt8((value >> UInt64(shift)) & 0xf)
            buffer.writeInteger(d < 10 ? 0x30 + d : 0x61 + d - 10)
            shift -= 4
        }
    }

    /// `hasTag` on raw bytes.
    static func hasTag(_ value: ArraySlice<UInt8>) -> Bool {
        var i = value.startIndex
        if let gt = value.lastIndex(of: UInt8(ascii: ">")) { i = gt + 1 }
        while i + 5 <= value.endIndex {
            if value[i] == UInt8(ascii: ";"), value[i + 1] | 0x20 == UInt8(ascii: "t"), value[i + 2] | 0x20 == UInt8(ascii: "a"),
               value[i + 3] | 0x20 == UInt8(ascii: "g"), value[i + 4] == UInt8(ascii: "=") {
                return true
            }
            i += 1
        }
        return false
    }

    /// The top Via value with `received` (when the source IP differs or rport was asked for) and a filled
    /// `rport`. Falls back to the value unchanged when it does not parse.
    static func stamp(_ value: String, parsed: Via? = nil, source: SIPTransportSource) -> String {
        guard let via = parsed ?? (try? Via(parsing: value[...])), let ip = source.remote.ipAddress, let port = source.remote.port else { return value }
        let stamped = SIPTransportRouting.stamped(via, sourceIP: ip, sourcePort: UInt16(truncatingIfNeeded: port))
        return stamped == via ? value : stamped.description
    }

    /// True when a To/From value carries a `tag` parameter outside its URI (after `>`, or anywhere for an
    /// addr-spec without angle brackets).
    static func hasTag(_ value: String) -> Bool {
        let params = value.lastIndex(of: ">").map { value[value.index(after: $0)...] } ?? value[...]
        return params.lowercased().contains(";tag=")
    }
}
