// Byte classification and small scanning helpers shared by the parsers (RFC 3261 §25.1).

enum Byte {
    static let cr: UInt8 = 0x0d
    static let lf: UInt8 = 0x0a
    static let sp: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3a
    static let semicolon: UInt8 = 0x3b
    static let comma: UInt8 = 0x2c
    static let equals: UInt8 = 0x3d
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5c
    static let lt: UInt8 = 0x3c
    static let gt: UInt8 = 0x3e
    static let at: UInt8 = 0x40
    static let question: UInt8 = 0x3f
    static let ampersand: UInt8 = 0x26
    static let percent: UInt8 = 0x25
    static let slash: UInt8 = 0x2f
    static let lbracket: UInt8 = 0x5b
    static let rbracket: UInt8 = 0x5d
    /// 0-9, a-f, A-F.
    @inline(__always) static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == tab }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a }
    @inline(__always) static func isAlphanumeric(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) }

    /// RFC 3261 §25.1 token characters.
    static func isToken(_ b: UInt8) -> Bool {
        if isAlphanumeric(b) { return true }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 3261 §25.1 `unreserved` (alphanum / mark).
    static func isUnreserved(_ b: UInt8) -> Bool {
        if isAlphanumeric(b) { return true }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "~"),
             UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}

extension StringProtocol {
    /// True when every UTF-8 byte is a token character and the string is non-empty.
    var isSIPToken: Bool {
        var any = false
        for b in utf8 {
            guard Byte.isToken(b) else { return false }
            any = true
        }
        return any
    }

    /// The string without leading and trailing SP/HTAB/CR/LF.
    @inline(__always) static func isLWSByte(_ c: UInt8) -> Bool { c == Byte.sp || c == Byte.tab || c == Byte.cr || c == Byte.lf }

    var trimmingLWS: Substring {
        // UTF-8 scan: whitespace is ASCII, and stepping Characters would cost grapheme breaking.
        let s = Substring(self)
        let u = s.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, Self.isLWSByte(u[start]) { start = u.index(after: start) }
        while end > start {
            let before = u.index(before: end)
            guard Self.isLWSByte(u[before]) else { break }
            end = before
        }
        return s[start..<end]
    }
}

/// Parses a decimal number of at most `maximum`; nil on any non-digit, empty input or overflow.
func parseDecimal<S: StringProtocol>(_ text: S, maximum: UInt64) -> UInt64? {
    var value: UInt64 = 0
    var any = false
    for b in text.utf8 {
        guard Byte.isDigit(b) else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
        guard !o1, !o2, a <= maximum else { return nil }
        value = a
        any = true
    }
    return any ? value : nil
}

/// Decodes %XX escapes; a `%` not followed by two hex digits is kept literally (RFC 4475 §3.1.1.5).
func percentDecoded<S: StringProtocol>(_ text: S) -> String {
    let bytes = Array(text.utf8)
    guard bytes.contains(Byte.percent) else { return String(text) }
    var out = [UInt8]()
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if bytes[i] == Byte.percent, i + 2 < bytes.count, let hi = Byte.hexValue(bytes[i + 1]), let lo = Byte.hexValue(bytes[i + 2]) {
            out.append(hi << 4 | lo)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Escapes every byte for which `allowed` is false as %XX.
func percentEncoded(_ text: String, allowed: (UInt8) -> Bool) -> String {
    var out = [UInt8]()
    out.reserveCapacity(text.utf8.count)
    for b in text.utf8 {
        if allowed(b) {
            out.append(b)
        } else {
            out.append(Byte.percent)
            out.append(Byte.hexDigits[Int(b >> 4)])
            out.append(Byte.hexDigits[Int(b & 0x0f)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}
