extension BencodeValue {
    /// Parses exactly one value that must consume all of `bytes`; never traps. Allocates the result.
    public init(parsing bytes: UnsafeRawBufferPointer, limits: BencodeLimits = .default) throws(BencodeError) {
        var parser = BencodeParser(bytes: bytes, limits: limits)
        let value = try parser.parseValue(depth: 1)
        guard parser.index == bytes.count else { throw .trailingBytes(offset: parser.index) }
        self = value
    }

    /// Parses exactly one value that must consume all of `bytes`; never traps.
    public init(parsing bytes: some Collection<UInt8>, limits: BencodeLimits = .default) throws(BencodeError) {
        let result: Result<BencodeValue, BencodeError> = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(BencodeError) in try BencodeValue(parsing: UnsafeRawBufferPointer(buffer), limits: limits) }
        } ?? Array(bytes).withUnsafeBytes { raw in
            Result { () throws(BencodeError) in try BencodeValue(parsing: raw, limits: limits) }
        }
        self = try result.get()
    }
}

/// A cursor over the input; recursion is bounded by `limits.maxDepth`.
struct BencodeParser {
    let bytes: UnsafeRawBufferPointer
    let limits: BencodeLimits
    var index = 0
    var elements = 0

    init(bytes: UnsafeRawBufferPointer, limits: BencodeLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    private func peek() throws(BencodeError) -> UInt8 {
        guard index < bytes.count else { throw .truncated(offset: index) }
        return bytes[index]
    }

    mutating func parseValue(depth: Int) throws(BencodeError) -> BencodeValue {
        elements += 1
        guard elements <= limits.maxElements else { throw .tooManyElements(offset: index) }
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "i"):
            index += 1
            return .integer(try parseInteger(terminator: UInt8(ascii: "e")))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .bytes(try parseBytes())
        case UInt8(ascii: "l"):
            guard depth <= limits.maxDepth else { throw .depthExceeded(offset: index) }
            index += 1
            var list: [BencodeValue] = []
            while try peek() != UInt8(ascii: "e") {
                list.append(try parseValue(depth: depth + 1))
            }
            index += 1
            return .list(list)
        case UInt8(ascii: "d"):
            guard depth <= limits.maxDepth else { throw .depthExceeded(offset: index) }
            index += 1
            var dict: [[UInt8]: BencodeValue] = [:]
            while try peek() != UInt8(ascii: "e") {
                let keyOffset = index
                guard case UInt8(ascii: "0")...UInt8(ascii: "9") = try peek() else { throw .nonStringKey(offset: index) }
                elements += 1
                guard elements <= limits.maxElements else { throw .tooManyElements(offset: index) }
                let key = try parseBytes()
                let value = try parseValue(depth: depth + 1)
                guard dict.updateValue(value, forKey: key) == nil else { throw .duplicateKey(offset: keyOffset) }
            }
            index += 1
            return .dictionary(dict)
        default:
            throw .unexpectedByte(byte, offset: index)
        }
    }

    /// Reads `-?[1-9][0-9]*|0` up to `terminator`; rejects `-0`, leading zeros and overflow (BEP 3).
    private mutating func parseInteger(terminator: UInt8) throws(BencodeError) -> Int64 {
        let start = index
        var negative = false
        if try peek() == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let firstDigit = index
        var magnitude: UInt64 = 0
        while true {
            let b = try peek()
            if b == terminator { break }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { throw .invalidInteger(offset: index) }
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .integerOverflow(offset: start) }
            magnitude = m2
            index += 1
        }
        let digitCount = index - firstDigit
        guard digitCount > 0 else { throw .invalidInteger(offset: start) }
        if bytes[firstDigit] == UInt8(ascii: "0") {
            // "0" alone is the only spelling of zero: no "00", "03" or "-0".
            guard digitCount == 1, !negative else { throw .invalidInteger(offset: start) }
        }
        index += 1  // the terminator
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw .integerOverflow(offset: start) }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw .integerOverflow(offset: start) }
        return Int64(magnitude)
    }

    private mutating func parseBytes() throws(BencodeError) -> [UInt8] {
        let start = index
        var length = 0
        while true {
            let b = try peek()
            if b == UInt8(ascii: ":") { break }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { throw .invalidStringLength(offset: start) }
            length = length * 10 + Int(b - UInt8(ascii: "0"))
            // Checked per digit so the accumulator can never overflow.
            guard length <= limits.maxStringLength else { throw .stringTooLong(offset: start) }
            index += 1
        }
        let digitCount = index - start
        guard digitCount > 0, !(digitCount > 1 && bytes[start] == UInt8(ascii: "0")) else {
            throw .invalidStringLength(offset: start)
        }
        index += 1  // ':'
        guard length <= bytes.count - index else { throw .stringTooLong(offset: start) }
        let value = Array(bytes[index..<(index + length)])
        index += length
        return value
    }
}
