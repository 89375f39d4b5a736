/// Splits a TCP/TLS byte stream into SIP messages using Content-Length (RFC 3261 §18.3), and reports
/// RFC 5626 §4.4.1 keep-alives. One per connection; not thread-safe. Copies input into an internal buffer.
public struct SIPStreamFramer: Sendable {
    /// The bytes of the last complete message that failed to parse (`.invalidMessage`), so the transport
    /// can still answer it 400 (RFC 3261 §21.4.1) before closing the connection.
    public private(set) var rejectedMessage: [UInt8] = []

    /// One unit taken from the stream.
    public enum Frame: Sendable {
        /// A double-CRLF ping: the transport should answer with a single CRLF pong.
        case keepAlivePing
        /// A single CRLF (a pong, or stray line break before a message).
        case keepAlivePong
        /// A complete message.
        case message(SIPMessage)
    }

    /// Largest message (start line, headers and body) accepted, in bytes.
    public let maximumMessageSize: Int
    private var buffer: [UInt8] = []
    private var start = 0

    /// A framer that rejects messages longer than `maximumMessageSize` bytes.
    public init(maximumMessageSize: Int = 65_536) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Bytes received but not yet framed.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends received bytes.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0, start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes from a raw buffer.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(UnsafeRawBufferPointer(bytes).bindMemory(to: UInt8.self))
    }

    /// The next frame, or nil when more bytes are needed. After an error the connection should be closed.
    public mutating func next() throws(SIPFramingError) -> Frame? {
        let n = buffer.count
        // A CR not followed by LF is noise before a start line: skip it (a loop, not recursion, so a flood is cheap).
        while n - start >= 2, buffer[start] == Byte.cr, buffer[start + 1] != Byte.lf { start += 1 }
        // Keep-alives: "\r\n\r\n" is a ping, a lone "\r\n" before other bytes is a pong.
        if start < n, buffer[start] == Byte.cr || buffer[start] == Byte.lf {
            if n - start >= 4, buffer[start] == Byte.cr, buffer[start + 1] == Byte.lf, buffer[start + 2] == Byte.cr, buffer[start + 3] == Byte.lf {
                start += 4
                return .keepAlivePing
            }
            if n - start >= 2, buffer[start] == Byte.cr, buffer[start + 1] == Byte.lf {
                if n - start >= 3, buffer[start + 2] != Byte.cr {
                    start += 2
                    return .keepAlivePong
                }
                return nil
            }
            if buffer[start] == Byte.lf {
                start += 1
                return .keepAlivePong
            }
            return nil
        }
        // Find the end of the header section (an empty line).
        var i = start
        var headerEnd = -1
        while i < n {
            if buffer[i] == Byte.lf {
                if i + 1 < n, buffer[i + 1] == Byte.lf {
                    headerEnd = i + 2
                    break
                }
                if i + 2 < n, buffer[i + 1] == Byte.cr, buffer[i + 2] == Byte.lf {
                    headerEnd = i + 3
                    break
                }
            }
            i += 1
            if i - start > maximumMessageSize { throw .messageTooLarge }
        }
        guard headerEnd >= 0 else {
            if n - start > maximumMessageSize { throw .messageTooLarge }
            return nil
        }
        guard let length = contentLength(in: start..<headerEnd) else { throw .missingContentLength }
        guard length >= 0 else { throw .invalidMessage(.invalidContentLength) }
        let total = headerEnd - start + length
        guard total <= maximumMessageSize else { throw .messageTooLarge }
        guard n - start >= total else { return nil }
        let slice = Array(buffer[start..<(start + total)])
        start += total
        do {
            return .message(try SIPMessage(parsing: slice))
        } catch {
            rejectedMessage = slice
            throw .invalidMessage(error)
        }
    }

    /// The Content-Length value in a header section (long or compact form, any case); -1 if malformed, nil if absent.
    private func contentLength(in range: Range<Int>) -> Int? {
        var lineStart = range.lowerBound
        var found: Int?
        var i = range.lowerBound
        while i < range.upperBound {
            if buffer[i] == Byte.lf {
                var colon = lineStart
                while colon < i, buffer[colon] != Byte.colon { colon += 1 }
                if colon < i, lineStart < colon, !Byte.isWhitespace(buffer[lineStart]) {
                    var nameEnd = colon
                    while nameEnd > lineStart, Byte.isWhitespace(buffer[nameEnd - 1]) { nameEnd -= 1 }
                    let name = SIPHeaderName.fromBytes(buffer, lineStart..<nameEnd)
                    if name == .contentLength {
                        let value = String(decoding: buffer[(colon + 1)..<i], as: UTF8.self).trimmingLWS
                        guard !value.isEmpty, value.utf8.allSatisfy(Byte.isDigit) else { return -1 }
                        // Any value beyond the maximum is simply "too large"; clamp to avoid overflow.
                        found = Int(parseDecimal(value, maximum: UInt64(Int32.max)) ?? UInt64(Int32.max))
                    }
                }
                lineStart = i + 1
            }
            i += 1
        }
        return found
    }
}
