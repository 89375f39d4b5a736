/// Builds a SIP message and writes it into a caller's buffer or a new array (control plane; allocates
/// the header strings). Content-Length is always written from the body size, last among the headers.
public struct SIPMessageBuilder: Sendable {
    /// The start line.
    public var startLine: SIPMessage.StartLine
    /// Header fields in order (Content-Length is managed by the builder and skipped here).
    public var fields: [SIPHeaderField]
    /// The body.
    public var body: [UInt8]

    /// A request builder.
    public init(method: SIPMethod, uri: SIPURI) {
        startLine = .request(method: method, uri: uri.description)
        fields = []
        body = []
    }

    /// A response builder; the reason phrase defaults to the RFC 3261 §21 text.
    public init(statusCode: Int, reasonPhrase: String? = nil) {
        startLine = .response(statusCode: statusCode, reasonPhrase: reasonPhrase ?? SIPMessageBuilder.reasonPhrase(for: statusCode))
        fields = []
        body = []
    }

    /// A builder holding a parsed message's start line, headers (unfolded, names as written) and body.
    public init(_ message: SIPMessage) {
        startLine = message.startLine
        fields = message.fields.filter { SIPHeaderName($0.name) != .contentLength }
        body = Array(message.body)
    }

    /// Appends a header line. CR and LF in the value are replaced by spaces so a value cannot inject lines.
    public mutating func add(_ name: SIPHeaderName, _ value: String) {
        add(name: name.description, value: value)
    }

    /// Appends a header line with the name spelled exactly as given.
    public mutating func add(name: String, value: String) {
        guard SIPHeaderName(name) != .contentLength else { return }
        let clean = value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            ? String(value.map { ($0 == "\r" || $0 == "\n" || $0 == "\r\n") ? " " : $0 }) : value
        fields.append(SIPHeaderField(name: name, value: clean))
    }

    /// Replaces every line named `name` with one line carrying `value`.
    public mutating func set(_ name: SIPHeaderName, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every line named `name`.
    public mutating func remove(_ name: SIPHeaderName) {
        fields.removeAll { SIPHeaderName($0.name) == name }
    }

    /// A response to `request` per RFC 3261 §8.2.6: copies Via (all, in order), From, To (adding `toTag` when
    /// the To has no tag and the status is not 100), Call-ID and CSeq; Record-Route too for 18x/2xx to
    /// dialog-creating requests is the caller's choice (§12.1.1), so it is not copied here.
    public static func response(to request: SIPMessage, statusCode: Int, reasonPhrase: String? = nil,
                                toTag: String? = nil) throws(SIPParseError) -> SIPMessageBuilder {
        guard request.isRequest else { throw .malformedStartLine }
        var b = SIPMessageBuilder(statusCode: statusCode, reasonPhrase: reasonPhrase)
        for v in request.values(.via) { b.add(.via, v) }
        b.add(.from, try request.from.description)
        var to = try request.to
        if let toTag, to.tag == nil, statusCode != 100 { to.tag = toTag }
        b.add(.to, to.description)
        b.add(.callID, try request.callID)
        b.add(.cseq, try request.cseq.description)
        return b
    }

    private func headerText() -> String {
        var s: String
        switch startLine {
        case .request(let method, let uri): s = method.description + " " + uri + " SIP/2.0\r\n"
        case .response(let code, let reason): s = "SIP/2.0 " + String(code) + " " + reason + "\r\n"
        }
        for f in fields { s += f.name + ": " + f.value + "\r\n" }
        s += "Content-Length: " + String(body.count) + "\r\n\r\n"
        return s
    }

    /// Bytes `write(to:)` needs. Formats the header text (allocates).
    public var serializedSize: Int { headerText().utf8.count + body.count }

    /// Writes the message into `buffer`; returns the number of bytes written.
    public func write(to buffer: UnsafeMutableRawBufferPointer) throws(SIPSerializeError) -> Int {
        let head = headerText()
        let total = head.utf8.count + body.count
        guard buffer.count >= total else { throw .bufferTooSmall(needed: total) }
        var i = 0
        for b in head.utf8 {
            buffer[i] = b
            i += 1
        }
        for b in body {
            buffer[i] = b
            i += 1
        }
        return total
    }

    /// The message as a new array.
    public func bytes() -> [UInt8] {
        var out = Array(headerText().utf8)
        out.append(contentsOf: body)
        return out
    }

    /// The RFC 3261 §21 reason phrase for common codes, or "" when unknown.
    public static func reasonPhrase(for code: Int) -> String {
        switch code {
        case 100: "Trying"
        case 180: "Ringing"
        case 181: "Call Is Being Forwarded"
        case 182: "Queued"
        case 183: "Session Progress"
        case 200: "OK"
        case 202: "Accepted"
        case 301: "Moved Permanently"
        case 302: "Moved Temporarily"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 415: "Unsupported Media Type"
        case 416: "Unsupported URI Scheme"
        case 420: "Bad Extension"
        case 422: "Session Interval Too Small"
        case 423: "Interval Too Brief"
        case 480: "Temporarily Unavailable"
        case 481: "Call/Transaction Does Not Exist"
        case 482: "Loop Detected"
        case 483: "Too Many Hops"
        case 486: "Busy Here"
        case 487: "Request Terminated"
        case 488: "Not Acceptable Here"
        case 491: "Request Pending"
        case 500: "Server Internal Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Server Time-out"
        case 505: "Version Not Supported"
        case 513: "Message Too Large"
        case 600: "Busy Everywhere"
        case 603: "Decline"
        default: ""
        }
    }
}
