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
