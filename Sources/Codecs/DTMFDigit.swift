/// A DTMF key; the raw value is its RFC 4733 §3.2 event code (0-9, 10 = `*`, 11 = `#`, 12-15 = A-D).
public enum DTMFDigit: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case zero = 0, one, two, three, four, five, six, seven, eight, nine
    case star = 10, pound = 11
    case a = 12, b, c, d

    /// Low-group (row) frequencies in Hz, ITU-T Q.23.
    public static let rowFrequencies: [Double] = [697, 770, 852, 941]
    /// High-group (column) frequencies in Hz, ITU-T Q.23.
    public static let columnFrequencies: [Double] = [1209, 1336, 1477, 1633]

    /// The RFC 4733 event code (0 … 15).
    public var eventCode: UInt8 { rawValue }

    /// The digit for an RFC 4733 event code, or nil for codes that are not DTMF (16 and above).
    public init?(eventCode: Int) {
        guard eventCode >= 0, eventCode <= 15, let d = DTMFDigit(rawValue: UInt8(eventCode)) else { return nil }
        self = d
    }

    /// The digit for a key character (`0-9`, `*`, `#`, `A-D`, case-insensitive).
    public init?(_ character: Character) {
        switch character {
        case "0"..."9":
            guard let v = character.asciiValue, let d = DTMFDigit(rawValue: v - 48) else { return nil }
            self = d
        case "*": self = .star
        case "#": self = .pound
        case "A", "a": self = .a
        case "B", "b": self = .b
        case "C", "c": self = .c
        case "D", "d": self = .d
        default: return nil
        }
    }

    /// The key's character.
    public var character: Character {
        switch self {
        case .star: "*"
        case .pound: "#"
        case .a: "A"
        case .b: "B"
        case .c: "C"
        case .d: "D"
        default: Character(Unicode.Scalar(rawValue + 48))
        }
    }

    /// The key's character as a string.
    public var description: String { String(character) }

    /// Row (0…3) and column (0…3) on the 4×4 keypad.
    public var position: (row: Int, column: Int) {
        switch self {
        case .one: (0, 0)
        case .two: (0, 1)
        case .three: (0, 2)
        case .a: (0, 3)
        case .four: (1, 0)
        case .five: (1, 1)
        case .six: (1, 2)
        case .b: (1, 3)
        case .seven: (2, 0)
        case .eight: (2, 1)
        case .nine: (2, 2)
        case .c: (2, 3)
        case .star: (3, 0)
        case .zero: (3, 1)
        case .pound: (3, 2)
        case .d: (3, 3)
        }
    }

    /// The digit at a keypad position (row and column 0…3), or nil outside the pad.
    public init?(row: Int, column: Int) {
        // A switch rather than a table literal: the detector calls this per decision and an
        // array literal would allocate.
        switch (row, column) {
        case (3, 0): self = .star
        case (3, 1): self = .zero
        case (3, 2): self = .pound
        case (0...3, 3): self = DTMFDigit(rawValue: UInt8(12 + row)) ?? .a
        case (0...2, 0...2): self = DTMFDigit(rawValue: UInt8(row * 3 + column + 1)) ?? .one
        default: return nil
        }
    }

    /// Low-group frequency in Hz.
    public var lowFrequency: Double { Self.rowFrequencies[position.row] }
    /// High-group frequency in Hz.
    public var highFrequency: Double { Self.columnFrequencies[position.column] }
}
