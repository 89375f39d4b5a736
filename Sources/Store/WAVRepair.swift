import Foundation

/// Fixes a WAV file's RIFF and `data` sizes to cover the bytes on disk (a writer killed before its final header
/// patch leaves them short) and reports the audio's length.
public enum WAVRepair {
    public struct Result: Sendable, Equatable {
        public var sizeBytes: Int64
        public var durationMilliseconds: Int
        /// True when a header field was rewritten.
        public var patched: Bool
    }

    /// Nil when the file is missing or is not a RIFF/WAVE file with `fmt ` before `data`.
    public static func repair(path: String) -> Result? {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size >= 12 else { return nil }
        try? handle.seek(toOffset: 0)
        guard let head = try? handle.read(upToCount: 4096), head.count >= 12 else { return nil }
        let bytes = [UInt8](head)
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard bytes[0..<4] == [0x52, 0x49, 0x46, 0x46], bytes[8..<12] == [0x57, 0x41, 0x56, 0x45] else { return nil }
        var offset = 12
        var bytesPerSecond = 0
        var dataOffset: Int?
        while offset + 8 <= bytes.count {
            let id = bytes[offset..<offset + 4]
            let length = Int(u32(offset + 4))
            if id.elementsEqual([0x66, 0x6D, 0x74, 0x20]) {  // "fmt "
                guard offset + 8 + 16 <= bytes.count else { return nil }
                bytesPerSecond = Int(u32(offset + 8 + 8))
            } else if id.elementsEqual([0x64, 0x61, 0x74, 0x61]) {  // "data"
                dataOffset = offset
                break
            }
            offset += 8 + length + (length & 1)
        }
        guard let dataOffset, bytesPerSecond > 0 else { return nil }
        let capped = min(size, UInt64(UInt32.max))
        let riffSize = UInt32(capped - 8)
        let dataSize = UInt32(capped - UInt64(dataOffset + 8))
        var patched = false
        func put(_ value: UInt32, at: Int) {
            guard u32(at) != value else { return }
            var le = value.littleEndian
            let data = withUnsafeBytes(of: &le) { Data($0) }
            try? handle.seek(toOffset: UInt64(at))
            try? handle.write(contentsOf: data)
            patched = true
        }
        put(riffSize, at: 4)
        put(dataSize, at: dataOffset + 4)
        if patched { try? handle.synchronize() }
        let ms = Int(Int64(dataSize) * 1000 / Int64(bytesPerSecond))
        return Result(sizeBytes: Int64(size), durationMilliseconds: ms, patched: patched)
    }
}
