// Byte-level fast paths of the message parser. Each one accepts only input the general (String-based) path
// accepts too, and hands everything else to that path, so errors and edge cases keep one definition.

extension SIPHeaderName {
    /// Well-known canonical names bucketed by length, with their lower-case bytes, for allocation-free lookup.
    private static let knownByLength: [[(bytes: [UInt8], name: SIPHeaderName)]] = {
        var names = Set(spellings.keys)
        names.formUnion(["accept", "accept-encoding", "accept-language", "alert-info", "call-info", "content-disposition",
                         "content-language", "date", "error-info", "in-reply-to", "mime-version", "organization",
                         "priority", "proxy-require", "reply-to", "retry-after", "timestamp", "unsupported", "warning",
                         "path", "service-route", "security-client", "security-server", "security-verify"])
        let longest = names.map(\.utf8.count).max() ?? 0
        var table = [[(bytes: [UInt8], name: SIPHeaderName)]](repeating: [], count: longest + 1)
        for n in names { table[n.utf8.count].append((Array(n.utf8), SIPHeaderName(n))) }
        return table
    }()

    private static let compactByLetter: [SIPHeaderName?] = {
        var table = [SIPHeaderName?](repeating: nil, count: 26)
        for (short, _) in compactForms { table[Int(short.utf8.first! - 0x61)] = SIPHeaderName(short) }
        return table
    }()

    /// The name of `bytes[range]` (a token), from the well-known tables when possible; allocates only for
    /// names outside them.
    static func fromBytes(_ bytes: [UInt8], _ range: Range<Int>) -> SIPHeaderName {
        let count = range.count
        if count == 1 {
            let b = bytes[range.lowerBound] | 0x20
            if b >= 0x61, b <= 0x7a, let name = compactByLetter[Int(b - 0x61)] { return name }
        } else if count < knownByLength.count {
            candidates: for candidate in knownByLength[count] {
                var j = range.lowerBound
                for c in candidate.bytes {
                    var b = bytes[j]
                    if b >= 0x41, b <= 0x5a { b |= 0x20 }
                    guard b == c else { continue candidates }
                    j += 1
                }
                return candidate.name
            }
        }
        return SIPHeaderName(String(decoding: bytes[range], as: UTF8.self))
    }
}

extension SIPMessage {
    /// True when `bytes[range]` equals `literal` ignoring ASCII case (`literal` must be lower case).
    @inline(__always)
    static func equalsIgnoringCase<C: RandomAccessCollection<UInt8>>(_ bytes: C, _ range: Range<Int>, _ literal: StaticString) -> Bool
        where C.Index == Int {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let p = literal.utf8Start
        var i = 0
        for j in range {
            var b = bytes[j]
            if b >= 0x41, b <= 0x5a { b |= 0x20 }
            guard b == p[i] else { return false }
            i += 1
        }
        return true
    }

    /// The value range without trailing whitespace, or nil when it spans folded lines (CR or LF inside).
    @inline(__always)
    static func singleLineValue(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int>? {
        var end = range.upperBound
        for i in range where bytes[i] == Byte.cr || bytes[i] == Byte.lf { return nil }
        while end > range.lowerBound, Byte.isWhitespace(bytes[end - 1]) { end -= 1 }
        return range.lowerBound..<end
    }

    /// A decimal number of at most `maximum` in `bytes[range]`; nil on anything else.
    @inline(__always)
    static func decimal<C: RandomAccessCollection<UInt8>>(_ bytes: C, _ range: Range<Int>, maximum: UInt64) -> UInt64?
        where C.Index == Int {
        guard !range.isEmpty, range.count <= 19 else { return nil }
        var v: UInt64 = 0
        for i in range {
            let b = bytes[i]
            guard Byte.isDigit(b) else { return nil }
            v = v * 10 + UInt64(b - 0x30)
        }
        return v <= maximum ? v : nil
    }

    /// Fast path for `Request-Line = Method SP Request-URI SP SIP/2.0` with a SIP, SIPS or tel Request-URI:
    /// the start line and the method's byte range, or nil when the general path must decide.
    static func fastRequestLine(_ bytes: [UInt8], _ range: Range<Int>) -> (StartLine, method: Range<Int>)? {
        var sp1 = -1
        var sp2 = -1
        for i in range where bytes[i] == Byte.sp {
            if sp1 < 0 { sp1 = i } else if sp2 < 0 { sp2 = i } else { return nil }
        }
        guard sp1 > range.lowerBound, sp2 > sp1 + 1, sp2 + 1 < range.upperBound else { return nil }
        let method = range.lowerBound..<sp1
        for i in method where !Byte.isToken(bytes[i]) { return nil }
        guard equalsIgnoringCase(bytes, (sp2 + 1)..<range.upperBound, "sip/2.0") else { return nil }
        let uri = (sp1 + 1)..<sp2
        guard SIPURI.isValidRequestURI(bytes, uri) else { return nil }
        let line = StartLine.request(method: SIPMethod(String(decoding: bytes[method], as: UTF8.self)),
                                     uri: String(decoding: bytes[uri], as: UTF8.self))
        return (line, method)
    }

    /// Fast check of CSeq (`1*DIGIT LWS Method`, number below 2^31) against the request method's bytes.
    /// True when it is well-formed and matches; false when the general path must decide (and throw).
    static func fastCSeqMatches(_ bytes: [UInt8], _ value: Range<Int>, method: Range<Int>?) -> Bool {
        guard let v = singleLineValue(bytes, value) else { return false }
        var i = v.lowerBound
        while i < v.upperBound, Byte.isDigit(bytes[i]) { i += 1 }
        guard decimal(bytes, v.lowerBound..<i, maximum: UInt64(Int32.max)) != nil else { return false }
        let gap = i
        while i < v.upperBound, Byte.isWhitespace(bytes[i]) { i += 1 }
        guard i > gap, i < v.upperBound else { return false }
        let token = i..<v.upperBound
        for j in token where !Byte.isToken(bytes[j]) { return false }
        guard let method else { return true }
        guard token.count == method.count else { return false }
        var k = method.lowerBound
        for j in token {
            guard bytes[j] == bytes[k] else { return false }
            k += 1
        }
        return true
    }
}

extension SIPURI {
    /// Exactly the Request-URIs `SIPMessage.checkRequestURI` accepts with the `sip`, `sips` or `tel` scheme
    /// (`SIPURI(parsing:)` succeeds and there are no URI headers), decided on bytes without allocating.
    /// False for other schemes too: the caller then takes the general path.
    static func isValidRequestURI(_ b: [UInt8], _ r: Range<Int>) -> Bool {
        var colon = -1
        for i in r where b[i] == Byte.colon {
            colon = i
            break
        }
        guard colon > r.lowerBound else { return false }
        let scheme = r.lowerBound..<colon
        let isTel = SIPMessage.equalsIgnoringCase(b, scheme, "tel")
        guard isTel || SIPMessage.equalsIgnoringCase(b, scheme, "sip") || SIPMessage.equalsIgnoringCase(b, scheme, "sips")
        else { return false }
        let rest = (colon + 1)..<r.upperBound
        for i in rest {
            let c = b[i]
            if c <= Byte.sp || c >= 0x7f || c == Byte.lt || c == Byte.gt || c == Byte.quote || c == Byte.question { return false }
        }
        func allowed(_ range: Range<Int>, _ ok: (UInt8) -> Bool) -> Bool {
            for i in range where !(ok(b[i]) || b[i] == Byte.percent) { return false }
            return true
        }
        func validParameters(_ range: Range<Int>) -> Bool {
            guard !range.isEmpty else { return true }
            guard b[range.lowerBound] == Byte.semicolon else { return false }
            var start = range.lowerBound + 1
            while true {
                var end = start
                while end < range.upperBound, b[end] != Byte.semicolon { end += 1 }
                var eq = start
                while eq < end, b[eq] != Byte.equals { eq += 1 }
                let name = start..<eq
                guard !name.isEmpty, allowed(name, isParamByte) else { return false }
                if eq < end {
                    let value = (eq + 1)..<end
                    guard !value.isEmpty, allowed(value, isParamByte) else { return false }
                }
                if end == range.upperBound { return true }
                start = end + 1
            }
        }
        if isTel {
            var numberEnd = rest.lowerBound
            while numberEnd < rest.upperBound, b[numberEnd] != Byte.semicolon {
                if b[numberEnd] == Byte.at { return false }
                numberEnd += 1
            }
            guard numberEnd > rest.lowerBound else { return false }
            return validParameters(numberEnd..<rest.upperBound)
        }
        var hostStart = rest.lowerBound
        var at = -1
        for i in rest where b[i] == Byte.at {
            at = i
            break
        }
        if at >= 0 {
            var pc = -1
            for i in rest.lowerBound..<at where b[i] == Byte.colon {
                pc = i
                break
            }
            let user = rest.lowerBound..<(pc >= 0 ? pc : at)
            if pc >= 0 { guard allowed((pc + 1)..<at, isPasswordByte) else { return false } }
            guard !user.isEmpty, allowed(user, isUserByte) else { return false }
            hostStart = at + 1
        }
        var hostEnd = hostStart
        while hostEnd < rest.upperBound, b[hostEnd] != Byte.semicolon { hostEnd += 1 }
        var portStart = -1
        if hostStart < hostEnd, b[hostStart] == Byte.lbracket {
            var close = -1
            for i in hostStart..<hostEnd where b[i] == Byte.rbracket {
                close = i
                break
            }
            guard close > hostStart + 1 else { return false }
            for i in (hostStart + 1)..<close where !(Byte.isHexDigit(b[i]) || b[i] == Byte.colon || b[i] == UInt8(ascii: ".")) {
                return false
            }
            if close + 1 < hostEnd {
                guard b[close + 1] == Byte.colon else { return false }
                portStart = close + 2
            }
        } else {
            var hostLast = hostEnd
            for i in hostStart..<hostEnd where b[i] == Byte.colon {
                hostLast = i
                portStart = i + 1
                break
            }
            guard hostLast > hostStart else { return false }
            for i in hostStart..<hostLast where !(Byte.isAlphanumeric(b[i]) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: ".")) {
                return false
            }
        }
        if portStart >= 0 {
            guard SIPMessage.decimal(b, portStart..<hostEnd, maximum: 65535) != nil else { return false }
        }
        return validParameters(hostEnd..<rest.upperBound)
    }
}
