/// The response to a request that failed to parse, when one can still be addressed (RFC 3261 §8.2.2,
/// §21.4.1, §21.5.6): the bytes must start with a request line (never answer a response), and Via,
/// From, To, Call-ID and CSeq lines must be found, copied verbatim from the raw text. The status is
/// the error's `suggestedStatusCode` (400, or 505 for an unsupported SIP version). Control plane;
/// allocates. Returns nil when no response is possible (the caller drops and counts the message).
public enum MalformedRequestResponse {
    /// Header names (long and compact, lower-cased) whose lines are copied into the response, in order.
    static let copied: [(long: String, compact: String?)] = [
        ("via", "v"), ("from", "f"), ("to", "t"), ("call-id", "i"), ("cseq", nil),
    ]

    /// The response bytes for `bytes`, which failed to parse with `error`.
    public static func response(for bytes: UnsafeRawBufferPointer, error: SIPParseError) -> [UInt8]? {
        // Only the header section matters; cap the scan so a huge datagram costs little.
        let limit = min(bytes.count, 8192)
        let head = UnsafeRawBufferPointer(rebasing: bytes[0..<limit])
        // Stop at the blank line that ends the headers (CRLFCRLF), found on bytes.
        var headerEnd = head.count
        if head.count >= 4 {
            for i in 0...(head.count - 4) where head[i] == 13 && head[i + 1] == 10 && head[i + 2] == 13 && head[i + 3] == 10 {
                headerEnd = i
                break
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: head[0..<headerEnd]), as: UTF8.self)
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let requestLine = lines.first else { return nil }
        // A request line is `Method SP Request-URI SP SIP-Version`; a status line starts with "SIP/".
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, !parts[0].uppercased().hasPrefix("SIP/"),
              parts[0].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
        var found: [[Substring]] = Array(repeating: [], count: copied.count)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            guard !value.isEmpty, !value.contains("\r"), !value.contains("\n") else { continue }
            if let i = copied.firstIndex(where: { $0.long == name || $0.compact == name }) {
                found[i].append(Substring(value))
            }
        }
        // Every header a response needs must be there, once each except Via.
        guard !found[0].isEmpty, found.dropFirst().allSatisfy({ $0.count == 1 }) else { return nil }
        let status = error.suggestedStatusCode
        let reason = status == 505 ? "Version Not Supported" : "Bad Request"
        var out = "SIP/2.0 \(status) \(reason)\r\n"
        let names = ["Via", "From", "To", "Call-ID", "CSeq"]
        for (i, values) in found.enumerated() {
            for value in values { out += names[i] + ": " + value + "\r\n" }
        }
        out += "Content-Length: 0\r\n\r\n"
        return Array(out.utf8)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
