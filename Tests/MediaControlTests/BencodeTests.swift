import Testing
@testable import MediaControl

@Suite struct BencodeTests {
    static let integerVectors: [(String, Int64)] = [
        ("i0e", 0), ("i1e", 1), ("i-1e", -1), ("i42e", 42), ("i-42e", -42),
        ("i9223372036854775807e", .max), ("i-9223372036854775808e", .min),
    ]

    @Test(arguments: integerVectors)
    func integers(text: String, value: Int64) throws {
        let parsed = try BencodeValue(parsing: Array(text.utf8))
        #expect(parsed == .integer(value))
        #expect(parsed.encoded.text == text)
        #expect(parsed.serializedSize == text.utf8.count)
    }

    static let rejected: [(String, BencodeError)] = [
        ("i-0e", .invalidInteger(offset: 1)),
        ("i03e", .invalidInteger(offset: 1)),
        ("i00e", .invalidInteger(offset: 1)),
        ("ie", .invalidInteger(offset: 1)),
        ("i-e", .invalidInteger(offset: 1)),
        ("i1x", .invalidInteger(offset: 2)),
        ("i12", .truncated(offset: 3)),
        ("i9223372036854775808e", .integerOverflow(offset: 1)),
        ("i-9223372036854775809e", .integerOverflow(offset: 1)),
        ("i99999999999999999999999e", .integerOverflow(offset: 1)),
        ("03:abc", .invalidStringLength(offset: 0)),
        ("4:abc", .stringTooLong(offset: 0)),
        ("3abc", .invalidStringLength(offset: 0)),
        ("", .truncated(offset: 0)),
        ("x", .unexpectedByte(UInt8(ascii: "x"), offset: 0)),
        ("l", .truncated(offset: 1)),
        ("li1e", .truncated(offset: 4)),
        ("d1:ai1e", .truncated(offset: 7)),
        ("di1ei2ee", .nonStringKey(offset: 1)),
        ("d1:ai1e1:ai2ee", .duplicateKey(offset: 7)),
        ("i1ei2e", .trailingBytes(offset: 3)),
        ("0:x", .trailingBytes(offset: 2)),
        ("e", .unexpectedByte(UInt8(ascii: "e"), offset: 0)),
    ]

    @Test(arguments: rejected)
    func rejects(text: String, error: BencodeError) {
        #expect(throws: error) { try BencodeValue(parsing: Array(text.utf8)) }
    }

    @Test func strings() throws {
        #expect(try BencodeValue(parsing: Array("0:".utf8)) == .bytes([]))
        #expect(try BencodeValue(parsing: Array("4:spam".utf8)) == .string("spam"))
        // Byte strings carry arbitrary bytes, including ':' and NUL.
        let raw: [UInt8] = Array("5:".utf8) + [0, 0xFF, UInt8(ascii: ":"), 0x80, 1]
        #expect(try BencodeValue(parsing: raw) == .bytes([0, 0xFF, UInt8(ascii: ":"), 0x80, 1]))
        #expect(BencodeValue.bytes([0, 0xFF, UInt8(ascii: ":"), 0x80, 1]).encoded == raw)
        let long = String(repeating: "x", count: 12)
        #expect(BencodeValue.string(long).encoded.text == "12:" + long)
    }

    @Test func nestedListsAndDictionaries() throws {
        let text = "d4:listl4:spami-3eli0eee4:dictd1:x1:yee"
        let value = try BencodeValue(parsing: Array(text.utf8))
        #expect(value["list"] == .list([.string("spam"), .integer(-3), .list([.integer(0)])]))
        #expect(value["dict"]?["x"] == .string("y"))
        // Keys come out sorted: "dict" < "list".
        #expect(value.encoded.text == "d4:dictd1:x1:ye4:listl4:spami-3eli0eeee")
    }

    @Test func encoderSortsKeysAsRawBytes() {
        let value = BencodeValue.dictionary([
            "zeta": .integer(1), "Zeta": .integer(2), "a": .integer(3), "ab": .integer(4), "": .integer(5),
        ])
        // Byte order: "" < "Zeta" (0x5A) < "a" < "ab" < "zeta".
        #expect(value.encoded.text == "d0:i5e4:Zetai2e1:ai3e2:abi4e4:zetai1ee")
        #expect(value.serializedSize == value.encoded.count)
    }

    @Test func parserAcceptsUnsortedKeys() throws {
        // rtpengine's peers do not sort keys (ng protocol docs), so neither order may be rejected.
        let value = try BencodeValue(parsing: Array("d1:bi1e1:ai2ee".utf8))
        #expect(value == .dictionary(["a": .integer(2), "b": .integer(1)]))
    }

    @Test func depthLimit() throws {
        let limits = BencodeLimits(maxDepth: 3)
        #expect(try BencodeValue(parsing: Array("llleee".utf8), limits: limits) == .list([.list([.list([])])]))
        #expect(throws: BencodeError.depthExceeded(offset: 3)) {
            try BencodeValue(parsing: Array("lllleeee".utf8), limits: limits)
        }
        // Deep input with the default limit fails cleanly instead of exhausting the stack.
        let deep = String(repeating: "l", count: 100_000) + String(repeating: "e", count: 100_000)
        #expect(throws: BencodeError.depthExceeded(offset: 32)) { try BencodeValue(parsing: Array(deep.utf8)) }
    }

    @Test func lengthAndElementLimits() {
        let limits = BencodeLimits(maxStringLength: 4, maxElements: 3)
        #expect(throws: BencodeError.stringTooLong(offset: 0)) { try BencodeValue(parsing: Array("5:abcde".utf8), limits: limits) }
        #expect(throws: BencodeError.tooManyElements(offset: 7)) { try BencodeValue(parsing: Array("li1ei2ei3ee".utf8), limits: limits) }
        // A huge declared length never allocates or overflows.
        #expect(throws: BencodeError.stringTooLong(offset: 0)) {
            try BencodeValue(parsing: Array("99999999999999999999999999:x".utf8))
        }
    }

    @Test func roundTripOfBuiltValue() throws {
        let value = BencodeValue.dictionary([
            "command": .string("offer"), "n": .integer(-7),
            "flags": .stringList(["trust address", "symmetric"]),
            "codec": .dictionary(["strip": .stringList(["all"])]),
            "bin": .bytes([0, 1, 2, 255]),
        ])
        let bytes = value.encoded
        #expect(bytes.count == value.serializedSize)
        let reparsed = try BencodeValue(parsing: bytes)
        #expect(reparsed == value)
        #expect(reparsed.encoded == bytes)
    }

    @Test func parsesFromSlice() throws {
        let bytes = Array("xxi5exx".utf8)
        #expect(try BencodeValue(parsing: bytes[2..<5]) == .integer(5))
    }
}
