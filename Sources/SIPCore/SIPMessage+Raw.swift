// Raw, allocation-free views of header values, for code that copies headers into a response as they are
// (stateless responders) instead of parsing them into typed values.

extension SIPMessage {
    /// The values of every header line named `name`, in order, as slices of `bytes` (trailing whitespace
    /// removed). A folded value still contains its CRLF and leading whitespace; callers that cannot copy it
    /// as is use `values(_:)`.
    public struct RawValues: Sequence, IteratorProtocol {
        let message: SIPMessage
        let name: SIPHeaderName
        var position = 0

        /// The next value, or nil after the last.
        public mutating func next() -> ArraySlice<UInt8>? {
            let index = message.index
            while position < index.count {
                let e = index[position]
                position += 1
                if e.name == name {
                    var end = e.valueRange.upperBound
                    while end > e.valueRange.lowerBound, Byte.isWhitespace(message.bytes[end - 1]) { end -= 1 }
                    return message.bytes[e.valueRange.lowerBound..<end]
                }
            }
            return nil
        }
    }

    /// Every raw value of `name` (see `RawValues`).
    public func rawValues(_ name: SIPHeaderName) -> RawValues { RawValues(message: self, name: name) }

    /// The first raw value of `name`, or nil when absent.
    public func rawValue(_ name: SIPHeaderName) -> ArraySlice<UInt8>? {
        var values = rawValues(name)
        return values.next()
    }
}

/// The first via-parm of a raw Via header value (RFC 3261 §20.42, RFC 3581), located by byte offsets without
/// allocating. It accepts a subset of what `Via(parsing:)` accepts: protocol, transport, sent-by and token
/// parameters; quoted parameter values, folding and anything unusual fail, and callers use `Via` instead.
public struct SIPRawVia: Sendable {
    /// Where the via-parm ends (exclusive, trailing whitespace excluded); a `,` and more via-parms may follow.
    public let end: Int
    /// The sent-by host (without brackets for IPv6).
    public let host: Range<Int>
    /// True for an IPv6 reference.
    public let isIPv6: Bool
    /// The sent-by port, if given.
    public let port: UInt16?
    /// The `rport` parameter as `Via.rport` reads it.
    public let rport: Via.RPort
    /// The whole `;rport[=N]` parameter, when present.
    public let rportParameter: Range<Int>?
    /// The whole `;received=...` parameter, when present.
    public let receivedParameter: Range<Int>?
    /// True when a `maddr` parameter is present.
    public let hasMaddr: Bool

    /// Scans the first via-parm of `value` (indices are those of `value`'s base); nil when it needs `Via(parsing:)`.
    public init?(_ value: ArraySlice<UInt8>) {
        var i = value.startIndex
        let n = value.endIndex
        func skipLWS() { while i < n, Byte.isWhitespace(value[i]) { i += 1 } }
        func token() -> Range<Int> {
            let s = i
            while i < n, Byte.isToken(value[i]) { i += 1 }
            return s..<i
        }
        skipLWS()
        guard !token().isEmpty else { return nil }
        skipLWS()
        guard i < n, value[i] == Byte.slash else { return nil }
        i += 1
        skipLWS()
        guard !token().isEmpty else { return nil }
        skipLWS()
        guard i < n, value[i] == Byte.slash else { return nil }
        i += 1
        skipLWS()
        guard !token().isEmpty, i < n, Byte.isWhitespace(value[i]) else { return nil }
        skipLWS()
        // sent-by = host [":" port]; host = hostname / IPv4address / "[" IPv6 "]".
        let hostRange: Range<Int>
        var ipv6 = false
        if i < n, value[i] == Byte.lbracket {
            let s = i + 1
            i = s
            while i < n, Byte.isHexDigit(value[i]) || value[i] == Byte.colon || value[i] == UInt8(ascii: ".") { i += 1 }
            guard i > s, i < n, value[i] == Byte.rbracket else { return nil }
            hostRange = s..<i
            i += 1
            ipv6 = true
        } else {
            let s = i
            while i < n, Byte.isAlphanumeric(value[i]) || value[i] == UInt8(ascii: "-") || value[i] == UInt8(ascii: ".") { i += 1 }
            guard i > s else { return nil }
            hostRange = s..<i
        }
        var port: UInt16?
        if i < n, value[i] == Byte.colon {
            i += 1
            let s = i
            var v = 0
            while i < n, Byte.isDigit(value[i]), i - s < 5 {
                v = v * 10 + Int(value[i] - 0x30)
                i += 1
            }
            guard i > s, v <= 65535 else { return nil }
            port = UInt16(v)
        }
        // After sent-by: LWS, parameters, then the end or a comma.
        guard i == n || Byte.isWhitespace(value[i]) || value[i] == Byte.semicolon || value[i] == Byte.comma else { return nil }
        var rport = Via.RPort.absent
        var rportParameter: Range<Int>?
        var receivedParameter: Range<Int>?
        var maddr = false
        var end = i
        skipLWS()
        while i < n, value[i] == Byte.semicolon {
            let start = i
            i += 1
            skipLWS()
            let name = token()
            guard !name.isEmpty else { return nil }
            end = i
            skipLWS()
            var paramValue: Range<Int>?
            if i < n, value[i] == Byte.equals {
                i += 1
                skipLWS()
                let s = i
                while i < n, Byte.isToken(value[i]) || value[i] == Byte.colon || value[i] == Byte.lbracket || value[i] == Byte.rbracket {
                    i += 1
                }
                guard i > s else { return nil }
                paramValue = s..<i
                end = i
                skipLWS()
            }
            let bytes = value
            if rportParameter == nil, SIPMessage.equalsIgnoringCase(bytes, name, "rport") {
                rportParameter = start..<end
                if let pv = paramValue, let p = SIPMessage.decimal(bytes, pv, maximum: 65535) {
                    rport = .value(UInt16(p))
                } else {
                    rport = .requested
                }
            } else if receivedParameter == nil, SIPMessage.equalsIgnoringCase(bytes, name, "received") {
                receivedParameter = start..<end
            } else if SIPMessage.equalsIgnoringCase(bytes, name, "maddr") {
                maddr = true
            }
        }
        guard i == n || value[i] == Byte.comma else { return nil }
        self.end = end
        host = hostRange
        isIPv6 = ipv6
        self.port = port
        self.rport = rport
        self.rportParameter = rportParameter
        self.receivedParameter = receivedParameter
        hasMaddr = maddr
    }
}
