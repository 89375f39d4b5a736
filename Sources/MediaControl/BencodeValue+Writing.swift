extension BencodeValue {
    /// Number of bytes `write(to:)` appends. Walks the whole value.
    public var serializedSize: Int {
        switch self {
        case .integer(let i):
            return 2 + Self.decimalDigits(i)
        case .bytes(let b):
            return Self.decimalDigits(Int64(b.count)) + 1 + b.count
        case .list(let l):
            var n = 2
            for v in l { n += v.serializedSize }
            return n
        case .dictionary(let d):
            var n = 2
            for (k, v) in d { n += Self.decimalDigits(Int64(k.count)) + 1 + k.count + v.serializedSize }
            return n
        }
    }

    /// Appends the canonical encoding (dictionary keys in byte order) to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .integer(let i):
            out.append(UInt8(ascii: "i"))
            Self.appendDecimal(i, to: &out)
            out.append(UInt8(ascii: "e"))
        case .bytes(let b):
            Self.appendBytes(b, to: &out)
        case .list(let l):
            out.append(UInt8(ascii: "l"))
            for v in l { v.write(to: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let d):
            out.append(UInt8(ascii: "d"))
            // BEP 3: keys sorted as raw byte strings.
            for key in d.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                Self.appendBytes(key, to: &out)
                d[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "e"))
        }
    }

    /// The canonical encoding as a new array.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(serializedSize)
        write(to: &out)
        return out
    }

    private static func appendBytes(_ b: [UInt8], to out: inout [UInt8]) {
        appendDecimal(Int64(b.count), to: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: b)
    }

    private static func decimalDigits(_ value: Int64) -> Int {
        var m = value.magnitude
        var n = value < 0 ? 2 : 1
        while m >= 10 {
            m /= 10
            n += 1
        }
        return n
    }

    private static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var m = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[count] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                count += 1
            } while m > 0
            var i = count - 1
            while i >= 0 {
                out.append(buf[i])
                i -= 1
            }
        }
    }
}
