/// ITU-T G.711 µ-law and A-law, bit-exact: scalar conversions, lookup tables, and buffer loops for the media path.
///
/// Encoding takes 16-bit linear PCM (G.711's 14-bit µ-law and 13-bit A-law inputs left-aligned), decoding
/// produces 16-bit PCM. The buffer functions do not allocate; the tables are built once on first use.
public enum G711 {
    /// µ-law bias in 16-bit units: 33 in G.711's 14-bit µ-law scale, shifted left by 2.
    static let uLawBias: Int32 = 0x84
    /// A-law codes have their even bits inverted on the line (G.711 §2, "alternate digit inversion").
    static let aLawInversionMask: UInt8 = 0x55

    // MARK: Scalar conversions (the reference the tables are built from)

    /// Encodes one 16-bit sample to a µ-law code with the G.711 segment algorithm (no table).
    @inline(__always)
    public static func encodeULawComputed(_ sample: Int16) -> UInt8 {
        var magnitude = Int32(sample)
        let mask: UInt8
        if magnitude >= 0 {
            magnitude = uLawBias + magnitude
            mask = 0xFF
        } else {
            magnitude = uLawBias - magnitude
            mask = 0x7F
        }
        // The segment is the position of the leading 1 of the biased magnitude, counted from bit 7.
        let segment = (31 - (magnitude | 0xFF).leadingZeroBitCount) - 7
        if segment >= 8 { return 0x7F ^ mask }
        let step = (magnitude >> Int32(segment + 3)) & 0x0F
        return UInt8(truncatingIfNeeded: (Int32(segment) << 4) | step) ^ mask
    }

    /// Encodes one 16-bit sample to an A-law code with the G.711 segment algorithm (no table).
    @inline(__always)
    public static func encodeALawComputed(_ sample: Int16) -> UInt8 {
        var magnitude = Int32(sample)
        let mask: UInt8
        if magnitude >= 0 {
            mask = aLawInversionMask | 0x80
        } else {
            mask = aLawInversionMask
            // One's complement: A-law has no negative zero step, so -1 maps with 0 (G.711 Table 1).
            magnitude = ~magnitude
        }
        let segment = (31 - (magnitude | 0xFF).leadingZeroBitCount) - 7
        // Segments 0 and 1 share one step size (16 in 16-bit units).
        let shift = segment == 0 ? 4 : segment + 3
        let step = (magnitude >> Int32(shift)) & 0x0F
        return UInt8(truncatingIfNeeded: (Int32(segment) << 4) | step) ^ mask
    }

    /// Decodes one µ-law code to 16-bit linear PCM (the G.711 decoder output value, no table).
    @inline(__always)
    public static func decodeULawComputed(_ code: UInt8) -> Int16 {
        let inverted = ~code
        let segment = Int32((inverted & 0x70) >> 4)
        let value = ((Int32(inverted & 0x0F) << 3) + uLawBias) << segment
        return Int16(truncatingIfNeeded: inverted & 0x80 != 0 ? uLawBias - value : value - uLawBias)
    }

    /// Decodes one A-law code to 16-bit linear PCM (the G.711 decoder output value, no table).
    @inline(__always)
    public static func decodeALawComputed(_ code: UInt8) -> Int16 {
        let plain = code ^ aLawInversionMask
        var value = Int32(plain & 0x0F) << 4
        let segment = Int32((plain & 0x70) >> 4)
        if segment == 0 {
            value += 8
        } else {
            value = (value + 0x108) << (segment - 1)
        }
        return Int16(truncatingIfNeeded: plain & 0x80 != 0 ? value : -value)
    }

    /// G.711 Table 3 (µ-law to A-law) on magnitude code numbers 0...127 (segment << 4 | step); the sign is kept.
    static func aLawMagnitude(fromULawMagnitude m: Int) -> Int {
        switch m {
        case 0...15: m / 2
        case 16...31: m - 8
        case 32...35: 24 + 2 * (m - 32)
        case 36...47: m - 4
        case 48...49: 45 + 2 * (m - 48)
        case 50...63: m - 2
        case 64: 63
        case 65...79: m - 1
        case 80: 79
        default: m
        }
    }

    /// G.711 Table 4 (A-law to µ-law) on magnitude code numbers 0...127; the sign is kept.
    static func uLawMagnitude(fromALawMagnitude m: Int) -> Int {
        switch m {
        case 0...7: 2 * m + 1
        case 8...23: m + 8
        case 24...31: 32 + (m - 24) / 2
        case 32...43: m + 4
        case 44...47: 48 + (m - 44) / 2
        case 48...61: m + 2
        case 62...63: 64
        case 64...78: m + 1
        case 79...80: 80
        default: m
        }
    }

    // MARK: Tables

    /// µ-law encode table indexed by the sample's 16-bit pattern. µ-law's bias makes negative inputs depend on
    /// all 16 bits, so the table is full size (64 KiB).
    nonisolated(unsafe) static let uLawEncodeTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 65536)
        for index in 0..<65536 {
            table[index] = encodeULawComputed(Int16(truncatingIfNeeded: index))
        }
        return UnsafePointer(table)
    }()

    /// A-law encode table indexed by the sample's 16-bit pattern shifted right by 4: A-law's smallest step is 16
    /// in 16-bit units and negative inputs use one's complement, so the low 4 bits never matter (4 KiB).
    nonisolated(unsafe) static let aLawEncodeTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
        for index in 0..<4096 {
            table[index] = encodeALawComputed(Int16(truncatingIfNeeded: index << 4))
        }
        return UnsafePointer(table)
    }()

    nonisolated(unsafe) static let uLawDecodeTable: UnsafePointer<Int16> = {
        let table = UnsafeMutablePointer<Int16>.allocate(capacity: 256)
        for code in 0..<256 { table[code] = decodeULawComputed(UInt8(code)) }
        return UnsafePointer(table)
    }()

    nonisolated(unsafe) static let aLawDecodeTable: UnsafePointer<Int16> = {
        let table = UnsafeMutablePointer<Int16>.allocate(capacity: 256)
        for code in 0..<256 { table[code] = decodeALawComputed(UInt8(code)) }
        return UnsafePointer(table)
    }()

    nonisolated(unsafe) static let uLawToALawTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for code in 0..<256 {
            // µ-law codes are complemented on the line; bit 7 set means positive.
            let plain = ~UInt8(code)
            let isNegative = plain & 0x80 != 0
            let magnitude = aLawMagnitude(fromULawMagnitude: Int(plain & 0x7F))
            table[code] = UInt8(magnitude) ^ (isNegative ? aLawInversionMask : aLawInversionMask | 0x80)
        }
        return UnsafePointer(table)
    }()

    nonisolated(unsafe) static let aLawToULawTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for code in 0..<256 {
            let plain = UInt8(code) ^ aLawInversionMask
            let isPositive = plain & 0x80 != 0
            let magnitude = uLawMagnitude(fromALawMagnitude: Int(plain & 0x7F))
            table[code] = UInt8(magnitude) ^ (isPositive ? 0xFF : 0x7F)
        }
        return UnsafePointer(table)
    }()

    // MARK: Scalar table lookups

    /// Encodes one sample to µ-law through the 64 KiB table.
    @inline(__always)
    public static func encodeULaw(_ sample: Int16) -> UInt8 { uLawEncodeTable[Int(UInt16(bitPattern: sample))] }
    /// Encodes one sample to A-law through the 4 KiB table.
    @inline(__always)
    public static func encodeALaw(_ sample: Int16) -> UInt8 { aLawEncodeTable[Int(UInt16(bitPattern: sample) >> 4)] }
    /// Decodes one µ-law code through the 256-entry table.
    @inline(__always)
    public static func decodeULaw(_ code: UInt8) -> Int16 { uLawDecodeTable[Int(code)] }
    /// Decodes one A-law code through the 256-entry table.
    @inline(__always)
    public static func decodeALaw(_ code: UInt8) -> Int16 { aLawDecodeTable[Int(code)] }
    /// Transcodes one µ-law code to A-law per G.711 Table 3.
    @inline(__always)
    public static func aLaw(fromULaw code: UInt8) -> UInt8 { uLawToALawTable[Int(code)] }
    /// Transcodes one A-law code to µ-law per G.711 Table 4.
    @inline(__always)
    public static func uLaw(fromALaw code: UInt8) -> UInt8 { aLawToULawTable[Int(code)] }

    // MARK: Buffers (the media path)

    /// Encodes `min(pcm.count, output.count)` samples to µ-law; returns the bytes written. Does not allocate.
    public static func encodeULaw(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(pcm.count, output.count)
        guard count > 0, let source = pcm.baseAddress, let base = output.baseAddress else { return 0 }
        let table = uLawEncodeTable
        for index in 0..<count {
            base.storeBytes(of: table[Int(UInt16(bitPattern: source[index]))], toByteOffset: index, as: UInt8.self)
        }
        return count
    }

    /// Encodes `min(pcm.count, output.count)` samples to A-law; returns the bytes written. Does not allocate.
    public static func encodeALaw(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(pcm.count, output.count)
        guard count > 0, let source = pcm.baseAddress, let base = output.baseAddress else { return 0 }
        let table = aLawEncodeTable
        for index in 0..<count {
            base.storeBytes(of: table[Int(UInt16(bitPattern: source[index]) >> 4)], toByteOffset: index, as: UInt8.self)
        }
        return count
    }

    /// Decodes `min(payload.count, output.count)` µ-law codes; returns the samples written. Does not allocate.
    public static func decodeULaw(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        decode(payload, into: output, table: uLawDecodeTable)
    }

    /// Decodes `min(payload.count, output.count)` A-law codes; returns the samples written. Does not allocate.
    public static func decodeALaw(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        decode(payload, into: output, table: aLawDecodeTable)
    }

    /// Transcodes µ-law bytes to A-law (G.711 Table 3) without going through linear; returns the bytes written.
    public static func transcodeULawToALaw(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        transcode(input, into: output, table: uLawToALawTable)
    }

    /// Transcodes A-law bytes to µ-law (G.711 Table 4) without going through linear; returns the bytes written.
    public static func transcodeALawToULaw(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        transcode(input, into: output, table: aLawToULawTable)
    }

    @inline(__always)
    static func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>,
                       table: UnsafePointer<Int16>) -> Int {
        let count = min(payload.count, output.count)
        guard count > 0, let base = payload.baseAddress, let destination = output.baseAddress else { return 0 }
        for index in 0..<count {
            destination[index] = table[Int(base.load(fromByteOffset: index, as: UInt8.self))]
        }
        return count
    }

    @inline(__always)
    static func transcode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                          table: UnsafePointer<UInt8>) -> Int {
        let count = min(input.count, output.count)
        guard count > 0, let inBase = input.baseAddress, let outBase = output.baseAddress else { return 0 }
        for index in 0..<count {
            let code = table[Int(inBase.load(fromByteOffset: index, as: UInt8.self))]
            outBase.storeBytes(of: code, toByteOffset: index, as: UInt8.self)
        }
        return count
    }
}
