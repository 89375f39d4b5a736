/// One bencode value: an integer, a byte string, a list or a dictionary keyed by byte strings.
///
/// Control-plane type: values own their storage (arrays), so building and parsing allocate.
/// Dictionaries are unordered here; `write(to:)` emits keys in byte order as bencode requires,
/// and the parser accepts any order because rtpengine's peers do not sort (ng protocol docs).
public enum BencodeValue: Hashable, Sendable {
    /// `i<digits>e`, signed 64-bit.
    case integer(Int64)
    /// `<length>:<bytes>`, arbitrary bytes.
    case bytes([UInt8])
    /// `l<values>e`.
    case list([BencodeValue])
    /// `d<key><value>...e` with byte-string keys.
    case dictionary([[UInt8]: BencodeValue])

    /// A byte string holding the UTF-8 of `string`.
    public static func string(_ string: String) -> BencodeValue { .bytes(Array(string.utf8)) }

    /// A dictionary built from string keys.
    public static func dictionary(_ pairs: [String: BencodeValue]) -> BencodeValue {
        var d: [[UInt8]: BencodeValue] = [:]
        d.reserveCapacity(pairs.count)
        for (k, v) in pairs { d[Array(k.utf8)] = v }
        return .dictionary(d)
    }

    /// A list of byte strings.
    public static func stringList(_ strings: [String]) -> BencodeValue { .list(strings.map { .string($0) }) }

    /// The byte string decoded as UTF-8 (invalid sequences replaced), or nil for other kinds.
    public var stringValue: String? {
        if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }

    /// The integer, or nil for other kinds.
    public var integerValue: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The list elements, or nil for other kinds.
    public var listValue: [BencodeValue]? {
        if case .list(let l) = self { return l }
        return nil
    }

    /// The dictionary, or nil for other kinds.
    public var dictionaryValue: [[UInt8]: BencodeValue]? {
        if case .dictionary(let d) = self { return d }
        return nil
    }

    /// Looks up `key` when this is a dictionary; nil otherwise or when absent.
    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let d) = self else { return nil }
        return d[Array(key.utf8)]
    }
}

/// Bounds the parser enforces so hostile input costs bounded memory and stack.
public struct BencodeLimits: Hashable, Sendable {
    /// Maximum nesting of lists and dictionaries (the top-level value is depth 1).
    public var maxDepth: Int
    /// Maximum length of one byte string.
    public var maxStringLength: Int
    /// Maximum number of values in the whole document.
    public var maxElements: Int

    /// Creates limits; the defaults suit ng messages (SDP bodies of tens of KiB, shallow nesting).
    public init(maxDepth: Int = 32, maxStringLength: Int = 1 << 20, maxElements: Int = 100_000) {
        self.maxDepth = maxDepth
        self.maxStringLength = maxStringLength
        self.maxElements = maxElements
    }

    /// The defaults.
    public static let `default` = BencodeLimits()
}
