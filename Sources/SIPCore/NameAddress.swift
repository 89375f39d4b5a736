/// A name-addr or addr-spec with header parameters, as in From, To, Contact, Route, Refer-To,
/// P-Asserted-Identity, Diversion and History-Info (RFC 3261 §20.10, §25.1).
public struct NameAddress: Hashable, Sendable, CustomStringConvertible {
    /// The display name, unquoted; nil when absent.
    public var displayName: String?
    /// The address.
    public var uri: SIPURI
    /// Header parameters after the address (`;tag=...;expires=...`).
    public var parameters: SIPParameters

    /// A name-addr from parts.
    public init(displayName: String? = nil, uri: SIPURI, parameters: SIPParameters = SIPParameters()) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    /// The `tag` parameter (From/To, RFC 3261 §19.3).
    public var tag: String? {
        get { parameters["tag"] }
        set { parameters["tag"] = newValue }
    }

    /// The Contact `expires` parameter in seconds.
    public var expires: UInt32? { parameters["expires"].flatMap { parseDecimal($0, maximum: UInt64(UInt32.max)) }.map { UInt32($0) } }

    /// The Contact `q` parameter (0...1), or nil when absent or malformed.
    public var q: Double? {
        guard let text = parameters["q"], let v = Double(text), v >= 0, v <= 1 else { return nil }
        return v
    }

    /// Parses one name-addr or addr-spec with parameters. `header` names the header for errors.
    public init(parsing text: Substring, header: String = "name-addr") throws(SIPParseError) {
        var rest = text.trimmingLWS
        guard !rest.isEmpty else { throw .invalidHeaderValue(header) }
        if rest.first == "\"" {
            guard let end = quotedStringEnd(rest) else { throw .invalidHeaderValue(header) }
            displayName = unquoted(rest[rest.startIndex..<end])
            rest = rest[end...].trimmingLWS
            guard rest.first == "<" else { throw .invalidHeaderValue(header) }
        } else if let lt = rest.firstIndex(of: "<") {
            // Display name as a sequence of tokens separated by LWS (RFC 3261 §25.1 display-name).
            let words = rest[rest.startIndex..<lt].trimmingLWS
            if words.isEmpty {
                displayName = nil
            } else {
                for w in words.split(whereSeparator: { $0 == " " || $0 == "\t" }) where !w.isSIPToken {
                    throw .invalidHeaderValue(header)
                }
                displayName = String(words)
            }
            rest = rest[lt...]
        } else {
            displayName = nil
        }
        if rest.first == "<" {
            guard let gt = rest.firstIndex(of: ">") else { throw .invalidHeaderValue(header) }
            let inner = rest[rest.index(after: rest.startIndex)..<gt]
            do { uri = try SIPURI(parsing: inner) } catch { throw .invalidHeaderValue(header) }
            rest = rest[rest.index(after: gt)...]
        } else {
            // addr-spec: the URI ends at the first `;` or whitespace; later `;` start header parameters.
            // A URI with `?` or `,` must be in <> (RFC 3261 §20; RFC 4475 §3.1.2.13).
            let end = rest.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" } ?? rest.endIndex
            let spec = rest[rest.startIndex..<end]
            guard !spec.contains("?"), !spec.contains(",") else { throw .invalidHeaderValue(header) }
            do { uri = try SIPURI(parsing: spec) } catch { throw .invalidHeaderValue(header) }
            rest = rest[end...]
        }
        parameters = try SIPParameters.parse(rest, headerName: header)
    }

    /// Always written in name-addr form with `<>`, display name quoted.
    public var description: String {
        var s = ""
        if let displayName { s += quoted(displayName) + " " }
        s += "<" + uri.description + ">" + parameters.description
        return s
    }

    /// Parses a comma-separated list of name-addrs across `values` (one string per header line).
    static func parseList(_ values: [String], header: String) throws(SIPParseError) -> [NameAddress] {
        var out: [NameAddress] = []
        for line in values {
            for item in splitHeaderList(Substring(line)) {
                out.append(try NameAddress(parsing: item, header: header))
            }
        }
        return out
    }
}
