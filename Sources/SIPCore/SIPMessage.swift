/// One header line of a parsed message, located by byte ranges into the message's raw bytes.
struct SIPHeaderIndexEntry: Sendable {
    let name: SIPHeaderName
    let nameRange: Range<Int>
    /// From the first non-whitespace byte after the colon to the end of the last continuation line (no CRLF).
    let valueRange: Range<Int>
}

/// A header field as written: name as spelled on the wire, value with folding replaced by single spaces.
public struct SIPHeaderField: Hashable, Sendable {
    /// The name as written (compact or long form, original case).
    public var name: String
    /// The value, unfolded and trimmed.
    public var value: String

    /// A field from its name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A parsed SIP request or response (RFC 3261 §7). Keeps the raw bytes; the start line and a header index
/// are built at parse time, header values are parsed on demand by the typed accessors.
/// Control plane: parsing allocates the byte copy, the index and the start-line strings.
public struct SIPMessage: Sendable {
    /// The request or status line.
    public enum StartLine: Hashable, Sendable {
        /// Method, Request-URI text as written.
        case request(method: SIPMethod, uri: String)
        /// Status code (100...699) and reason phrase (possibly empty).
        case response(statusCode: Int, reasonPhrase: String)
    }

    /// The raw message: start line, headers and body exactly as received (excess datagram bytes removed).
    public let bytes: [UInt8]
    /// The parsed start line.
    public let startLine: StartLine
    /// Where the body lies in `bytes`.
    public let bodyRange: Range<Int>
    let index: [SIPHeaderIndexEntry]

    /// Largest Content-Length accepted (bytes); larger values are treated as malformed.
    static let maximumContentLength: UInt64 = 1 << 31

    /// Parses a message from a UDP datagram or a framed stream message.
    public init(parsing buffer: UnsafeRawBufferPointer) throws(SIPParseError) {
        try self.init(parsing: Array(buffer))
    }

    /// Parses a message from bytes. Bytes after the Content-Length body are discarded (RFC 3261 §18.3).
    public init(parsing input: [UInt8]) throws(SIPParseError) {
        let n = input.count
        var pos = 0
        // RFC 3261 §7.5: ignore CRLFs before the start line.
        while pos < n, input[pos] == Byte.cr || input[pos] == Byte.lf { pos += 1 }
        guard pos < n else { throw .empty }
        let messageStart = pos

        func lineEnd(from start: Int) -> (contentEnd: Int, next: Int)? {
            var i = start
            while i < n {
                if input[i] == Byte.lf {
                    let contentEnd = (i > start && input[i - 1] == Byte.cr) ? i - 1 : i
                    return (contentEnd, i + 1)
                }
                i += 1
            }
            return nil
        }

        guard let first = lineEnd(from: pos) else { throw .missingHeaderTerminator }
        let startLine: StartLine
        var methodRange: Range<Int>?
        if let fast = Self.fastRequestLine(input, pos..<first.contentEnd) {
            startLine = fast.0
            methodRange = fast.method
        } else {
            startLine = try Self.parseStartLine(input[pos..<first.contentEnd])
        }
        pos = first.next

        var entries: [SIPHeaderIndexEntry] = []
        entries.reserveCapacity(16)
        var terminated = false
        while let line = lineEnd(from: pos) {
            defer { pos = line.next }
            if line.contentEnd == pos {
                terminated = true
                break
            }
            if Byte.isWhitespace(input[pos]) {
                // Folded continuation (RFC 3261 §7.3.1): extends the previous value.
                guard let last = entries.popLast() else { throw .malformedHeaderLine }
                let start = last.valueRange.lowerBound
                entries.append(SIPHeaderIndexEntry(name: last.name, nameRange: last.nameRange,
                                                   valueRange: start..<max(line.contentEnd, start)))
                continue
            }
            var colon = pos
            while colon < line.contentEnd, input[colon] != Byte.colon { colon += 1 }
            guard colon < line.contentEnd else { throw .malformedHeaderLine }
            var nameEnd = colon
            while nameEnd > pos, Byte.isWhitespace(input[nameEnd - 1]) { nameEnd -= 1 }
            guard nameEnd > pos else { throw .malformedHeaderLine }
            for i in pos..<nameEnd where !Byte.isToken(input[i]) { throw .malformedHeaderLine }
            var valueStart = colon + 1
            while valueStart < line.contentEnd, Byte.isWhitespace(input[valueStart]) { valueStart += 1 }
            let name = SIPHeaderName.fromBytes(input, pos..<nameEnd)
            entries.append(SIPHeaderIndexEntry(name: name, nameRange: pos..<nameEnd, valueRange: valueStart..<line.contentEnd))
        }
        guard terminated else { throw .missingHeaderTerminator }

        // Body: Content-Length decides; without it (datagrams only) the body is the rest.
        var bodyEnd = n
        var declared: UInt64?
        for e in entries where e.name == .contentLength {
            let v: UInt64
            if let line = Self.singleLineValue(input, e.valueRange) {
                guard let n = Self.decimal(input, line, maximum: Self.maximumContentLength) else { throw .invalidContentLength }
                v = n
            } else {
                guard let n = parseDecimal(Self.unfold(input, e.valueRange), maximum: Self.maximumContentLength) else {
                    throw .invalidContentLength
                }
                v = n
            }
            if let d = declared, d != v { throw .invalidContentLength }
            declared = v
        }
        if let declared {
            guard declared <= UInt64(n - pos) else { throw .contentLengthExceedsMessage }
            bodyEnd = pos + Int(declared)
        }
        if messageStart == 0 && bodyEnd == n {
            bytes = input
        } else {
            bytes = Array(input[messageStart..<bodyEnd])
        }
        let shift = messageStart
        index = shift == 0 ? entries : entries.map {
            SIPHeaderIndexEntry(name: $0.name, nameRange: ($0.nameRange.lowerBound - shift)..<($0.nameRange.upperBound - shift),
                                valueRange: ($0.valueRange.lowerBound - shift)..<($0.valueRange.upperBound - shift))
        }
        bodyRange = (pos - shift)..<(bodyEnd - shift)
        self.startLine = startLine
        try checkMandatoryHeaders(methodRange: methodRange.map { ($0.lowerBound - shift)..<($0.upperBound - shift) })
    }

    /// RFC 3261 §8.1.1 mandatory headers, and the cheap scalar checks every transaction needs (§8.2.2).
    /// One pass over the index; well-formed CSeq, Max-Forwards and Call-ID values are checked on bytes, anything
    /// else goes to the general checks, which throw the precise error.
    private func checkMandatoryHeaders(methodRange: Range<Int>?) throws(SIPParseError) {
        var via = 0, from = 0, to = 0, callID = -1, cseq = -1, maxForwards = -1
        var callIDs = 0, cseqs = 0, maxForwardses = 0
        for (i, e) in index.enumerated() {
            let n = e.name
            if n == .via {
                via += 1
            } else if n == .from {
                from += 1
            } else if n == .to {
                to += 1
            } else if n == .callID {
                if callID < 0 { callID = i }
                callIDs += 1
            } else if n == .cseq {
                if cseq < 0 { cseq = i }
                cseqs += 1
            } else if n == .maxForwards {
                if maxForwards < 0 { maxForwards = i }
                maxForwardses += 1
            }
        }
        guard via > 0, from == 1, to == 1, callIDs == 1, cseqs == 1, maxForwardses <= 1 else {
            return try checkMandatoryHeadersGenerally()
        }
        // A request's CSeq is compared with its method by bytes; a response's CSeq just has to be well-formed.
        let isRequest = if case .request = startLine { true } else { false }
        guard isRequest == (methodRange != nil),
              Self.fastCSeqMatches(bytes, index[cseq].valueRange, method: methodRange) else {
            return try checkMandatoryHeadersGenerally()
        }
        if maxForwards >= 0 {
            guard let v = Self.singleLineValue(bytes, index[maxForwards].valueRange), Self.decimal(bytes, v, maximum: 255) != nil else {
                return try checkMandatoryHeadersGenerally()
            }
        }
        guard let id = Self.singleLineValue(bytes, index[callID].valueRange), !id.isEmpty else {
            return try checkMandatoryHeadersGenerally()
        }
    }

    private func checkMandatoryHeadersGenerally() throws(SIPParseError) {
        for name in [SIPHeaderName.via, .from, .to, .callID, .cseq] where !contains(name) {
            throw .missingMandatoryHeader(name.description)
        }
        // Single-valued fields appear once (RFC 3261 §7.3.1); a second line earns a 400 (RFC 4475 §3.3.8 multi01).
        for name in [SIPHeaderName.from, .to, .callID, .cseq, .maxForwards] where index.lazy.filter({ $0.name == name }).count > 1 {
            throw .invalidHeaderValue(name.description)
        }
        let cseq = try self.cseq
        if case .request(let method, _) = startLine, method != cseq.method { throw .cseqMethodMismatch }
        if contains(.maxForwards) { _ = try maxForwards }
        guard let callID = value(.callID), !callID.isEmpty else { throw .invalidHeaderValue("Call-ID") }
    }

    /// Replaces folding (CRLF followed by whitespace) with single spaces and trims (RFC 3261 §7.3.1).
    static func unfold(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        var hasBreak = false
        for i in range where bytes[i] == Byte.cr || bytes[i] == Byte.lf {
            hasBreak = true
            break
        }
        if !hasBreak {
            var end = range.upperBound
            while end > range.lowerBound, Byte.isWhitespace(bytes[end - 1]) { end -= 1 }
            return String(decoding: bytes[range.lowerBound..<end], as: UTF8.self)
        }
        var out = [UInt8]()
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let b = bytes[i]
            if b == Byte.cr || b == Byte.lf || Byte.isWhitespace(b) {
                // A run of whitespace and line breaks becomes one space.
                while i < range.upperBound, bytes[i] == Byte.cr || bytes[i] == Byte.lf || Byte.isWhitespace(bytes[i]) { i += 1 }
                if !out.isEmpty, i < range.upperBound { out.append(Byte.sp) }
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func parseStartLine(_ line: ArraySlice<UInt8>) throws(SIPParseError) -> StartLine {
        guard !line.isEmpty else { throw .malformedStartLine }
        let text = String(decoding: line, as: UTF8.self)
        if text.utf8.count >= 4, text.prefix(4).uppercased() == "SIP/" {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2).
            let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else { throw .malformedStartLine }
            try checkVersion(parts[0])
            guard parts[1].utf8.count == 3, let code = parseDecimal(parts[1], maximum: 699), code >= 100 else {
                throw .invalidStatusCode
            }
            let reason = parts.count == 3 ? String(parts[2]) : ""
            for b in reason.utf8 where b < 0x20 && b != Byte.tab { throw .malformedStartLine }
            return .response(statusCode: Int(code), reasonPhrase: reason)
        }
        // Request-Line = Method SP Request-URI SP SIP-Version: exactly single spaces (RFC 4475 §3.1.2.9/10).
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            if parts.count > 3, parts[1].isEmpty || parts.last?.isEmpty == true { throw .malformedStartLine }
            throw parts.count > 3 ? .invalidRequestURI : .malformedStartLine
        }
        guard parts[0].isSIPToken else { throw .invalidMethod }
        try checkVersion(parts[2])
        try checkRequestURI(parts[1])
        return .request(method: SIPMethod(String(parts[0])), uri: String(parts[1]))
    }

    static func checkVersion(_ v: Substring) throws(SIPParseError) {
        if v.uppercased() == "SIP/2.0" { return }
        // A well-formed but different version earns a 505 (RFC 4475 §3.1.2.16); anything else is malformed.
        let rest = v.dropFirst(4)
        let nums = rest.split(separator: ".", omittingEmptySubsequences: false)
        if v.prefix(4).uppercased() == "SIP/", nums.count == 2, nums.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Byte.isDigit) }) {
            throw .unsupportedVersion
        }
        throw .malformedStartLine
    }

    static func checkRequestURI(_ uri: Substring) throws(SIPParseError) {
        // absoluteURI = scheme ":" ...; scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
        guard let colon = uri.firstIndex(of: ":"), colon > uri.startIndex else { throw .invalidRequestURI }
        let scheme = uri[uri.startIndex..<colon]
        guard let f = scheme.utf8.first, Byte.isAlpha(f),
              scheme.utf8.allSatisfy({ Byte.isAlphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { throw .invalidRequestURI }
        for b in uri.utf8 where b <= Byte.sp || b >= 0x7f || b == Byte.lt || b == Byte.gt || b == Byte.quote {
            throw .invalidRequestURI
        }
        if SIPURI.Scheme(rawValue: scheme.lowercased()) != nil {
            let parsed: SIPURI
            do { parsed = try SIPURI(parsing: uri) } catch { throw .invalidRequestURI }
            // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
            guard parsed.headers.isEmpty else { throw .invalidRequestURI }
        }
    }

    // MARK: Accessors

    /// True for requests.
    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    /// The request method, or nil for responses.
    public var method: SIPMethod? {
        if case .request(let m, _) = startLine { return m }
        return nil
    }

    /// The status code, or nil for requests.
    public var statusCode: Int? {
        if case .response(let c, _) = startLine { return c }
        return nil
    }

    /// The Request-URI as a SIP/SIPS/tel URI; nil for responses and other schemes.
    public var requestURI: SIPURI? {
        guard case .request(_, let text) = startLine else { return nil }
        return try? SIPURI(parsing: text)
    }

    /// The body bytes (a slice of `bytes`).
    public var body: ArraySlice<UInt8> { bytes[bodyRange] }

    /// Number of header lines (a folded header counts once).
    public var fieldCount: Int { index.count }

    /// Every header line in order, unfolded. Allocates.
    public var fields: [SIPHeaderField] {
        index.map { SIPHeaderField(name: String(decoding: bytes[$0.nameRange], as: UTF8.self), value: Self.unfold(bytes, $0.valueRange)) }
    }

    /// True when at least one header named `name` (any case, compact or long form) is present.
    public func contains(_ name: SIPHeaderName) -> Bool { index.contains { $0.name == name } }

    /// The first value of `name`, unfolded; nil when absent.
    public func value(_ name: SIPHeaderName) -> String? {
        index.first { $0.name == name }.map { Self.unfold(bytes, $0.valueRange) }
    }

    /// One value per header line named `name`, in order.
    public func values(_ name: SIPHeaderName) -> [String] {
        index.filter { $0.name == name }.map { Self.unfold(bytes, $0.valueRange) }
    }

    /// All elements of a comma-separated list header across every line of it, split outside quotes and `<>`.
    public func listValues(_ name: SIPHeaderName) -> [String] {
        var out: [String] = []
        for line in values(name) where !line.isEmpty {
            out.append(contentsOf: splitHeaderList(Substring(line)).map(String.init))
        }
        return out
    }
}
