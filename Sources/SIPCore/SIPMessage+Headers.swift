// Typed, on-demand accessors for well-known headers. Each parses the stored bytes on every call
// (control plane; callers that need a value repeatedly should keep it).

extension SIPMessage {
    private func required(_ name: SIPHeaderName) throws(SIPParseError) -> String {
        guard let v = value(name) else { throw .missingMandatoryHeader(name.description) }
        return v
    }

    private func number(_ name: SIPHeaderName, maximum: UInt64) throws(SIPParseError) -> UInt64? {
        guard let v = value(name) else { return nil }
        guard v.utf8.allSatisfy(Byte.isDigit), !v.isEmpty else { throw .invalidHeaderValue(name.description) }
        guard let n = parseDecimal(v, maximum: maximum) else { throw .valueOutOfRange(name.description) }
        return n
    }

    private func tokenList(_ name: SIPHeaderName) throws(SIPParseError) -> [String] {
        var out: [String] = []
        for item in listValues(name) {
            guard item.isSIPToken else { throw .invalidHeaderValue(name.description) }
            out.append(item)
        }
        return out
    }

    private func singleNameAddress(_ name: SIPHeaderName) throws(SIPParseError) -> NameAddress {
        let v = try required(name)
        let items = splitHeaderList(Substring(v))
        // From/To/Refer-To carry exactly one address (RFC 4475 §3.1.2.15: a comma in a token display name).
        guard items.count == 1 else { throw .invalidHeaderValue(name.description) }
        return try NameAddress(parsing: items[0], header: name.description)
    }

    /// All Via values, topmost first.
    public var vias: [Via] {
        get throws(SIPParseError) {
            var out: [Via] = []
            for item in listValues(.via) { out.append(try Via(parsing: Substring(item))) }
            guard !out.isEmpty else { throw .missingMandatoryHeader("Via") }
            return out
        }
    }

    /// The From header.
    public var from: NameAddress { get throws(SIPParseError) { try singleNameAddress(.from) } }
    /// The To header.
    public var to: NameAddress { get throws(SIPParseError) { try singleNameAddress(.to) } }
    /// The Call-ID.
    public var callID: String { get throws(SIPParseError) { try required(.callID) } }
    /// The CSeq.
    public var cseq: CSeq { get throws(SIPParseError) { try CSeq(parsing: Substring(try required(.cseq))) } }
    /// Max-Forwards (0...255); nil when absent.
    public var maxForwards: UInt8? {
        get throws(SIPParseError) { try number(.maxForwards, maximum: 255).map { UInt8($0) } }
    }
    /// Expires in seconds; nil when absent.
    public var expires: UInt32? {
        get throws(SIPParseError) { try number("expires", maximum: UInt64(UInt32.max)).map { UInt32($0) } }
    }
    /// Min-Expires in seconds; nil when absent.
    public var minExpires: UInt32? {
        get throws(SIPParseError) { try number("min-expires", maximum: UInt64(UInt32.max)).map { UInt32($0) } }
    }
    /// Content-Length; nil when absent (already validated at parse time).
    public var contentLength: Int? {
        get throws(SIPParseError) { try number(.contentLength, maximum: SIPMessage.maximumContentLength).map { Int($0) } }
    }
    /// Content-Type; nil when absent.
    public var contentType: MediaType? {
        get throws(SIPParseError) { try value(.contentType).map { v throws(SIPParseError) in try MediaType(parsing: Substring(v)) } }
    }

    /// Contact values: `nil` when absent, `.wildcard` for `*`, else the addresses.
    public var contact: ContactValue? {
        get throws(SIPParseError) {
            let lines = values(.contact)
            guard !lines.isEmpty else { return nil }
            if lines.count == 1, lines[0] == "*" { return .wildcard }
            return .addresses(try NameAddress.parseList(lines, header: "Contact"))
        }
    }

    /// Route values in order.
    public var routes: [NameAddress] { get throws(SIPParseError) { try NameAddress.parseList(values(.route), header: "Route") } }
    /// Record-Route values in order.
    public var recordRoutes: [NameAddress] {
        get throws(SIPParseError) { try NameAddress.parseList(values(.recordRoute), header: "Record-Route") }
    }
    /// P-Asserted-Identity values (RFC 3325).
    public var pAssertedIdentities: [NameAddress] {
        get throws(SIPParseError) { try NameAddress.parseList(values("p-asserted-identity"), header: "P-Asserted-Identity") }
    }
    /// Remote-Party-ID values (draft-ietf-sip-privacy-04; params party, screen, privacy).
    public var remotePartyIDs: [NameAddress] {
        get throws(SIPParseError) { try NameAddress.parseList(values("remote-party-id"), header: "Remote-Party-ID") }
    }
    /// Diversion values (RFC 5806; params reason, counter, privacy).
    public var diversions: [NameAddress] {
        get throws(SIPParseError) { try NameAddress.parseList(values("diversion"), header: "Diversion") }
    }
    /// History-Info entries (RFC 7044; param index).
    public var historyInfo: [NameAddress] {
        get throws(SIPParseError) { try NameAddress.parseList(values("history-info"), header: "History-Info") }
    }
    /// Refer-To (RFC 3515); its URI may carry an embedded Replaces (see `NameAddress.embeddedReplaces`).
    public var referTo: NameAddress? {
        get throws(SIPParseError) { contains("refer-to") ? try singleNameAddress("refer-to") : nil }
    }
    /// Referred-By (RFC 3892).
    public var referredBy: NameAddress? {
        get throws(SIPParseError) { contains("referred-by") ? try singleNameAddress("referred-by") : nil }
    }
    /// Replaces (RFC 3891).
    public var replaces: Replaces? {
        get throws(SIPParseError) { try value("replaces").map { v throws(SIPParseError) in try Replaces(parsing: Substring(v)) } }
    }
    /// Event (RFC 6665).
    public var event: SIPEvent? {
        get throws(SIPParseError) { try value("event").map { v throws(SIPParseError) in try SIPEvent(parsing: Substring(v)) } }
    }
    /// Session-Expires (RFC 4028).
    public var sessionExpires: SessionExpires? {
        get throws(SIPParseError) { try value("session-expires").map { v throws(SIPParseError) in try SessionExpires(parsing: Substring(v)) } }
    }
    /// Min-SE in seconds (RFC 4028).
    public var minSE: UInt32? {
        get throws(SIPParseError) {
            try value("min-se").map { v throws(SIPParseError) in try SessionExpires(parsing: Substring(v)).seconds }
        }
    }
    /// Supported option tags.
    public var supported: [String] { get throws(SIPParseError) { try tokenList("supported") } }
    /// Require option tags.
    public var require: [String] { get throws(SIPParseError) { try tokenList("require") } }
    /// Proxy-Require option tags.
    public var proxyRequire: [String] { get throws(SIPParseError) { try tokenList("proxy-require") } }
    /// Allowed methods.
    public var allow: [SIPMethod] { get throws(SIPParseError) { try tokenList("allow").map(SIPMethod.init) } }
    /// Allow-Events packages.
    public var allowEvents: [String] { get throws(SIPParseError) { try tokenList("allow-events") } }
    /// Privacy values (RFC 3323: `id;header` or comma-separated).
    public var privacy: [String] {
        get throws(SIPParseError) {
            var out: [String] = []
            for item in listValues("privacy") {
                for v in item.split(separator: ";") {
                    let t = v.trimmingLWS
                    guard t.isSIPToken else { throw .invalidHeaderValue("Privacy") }
                    out.append(String(t))
                }
            }
            return out
        }
    }

    /// WWW-Authenticate challenges.
    public var wwwAuthenticate: [DigestChallenge] {
        get throws(DigestError) { try values("www-authenticate").map { v throws(DigestError) in try DigestChallenge(parsing: v) } }
    }
    /// Proxy-Authenticate challenges.
    public var proxyAuthenticate: [DigestChallenge] {
        get throws(DigestError) { try values("proxy-authenticate").map { v throws(DigestError) in try DigestChallenge(parsing: v) } }
    }
    /// Authorization credentials.
    public var authorization: [DigestCredentials] {
        get throws(DigestError) { try values("authorization").map { v throws(DigestError) in try DigestCredentials(parsing: v) } }
    }
    /// Proxy-Authorization credentials.
    public var proxyAuthorization: [DigestCredentials] {
        get throws(DigestError) { try values("proxy-authorization").map { v throws(DigestError) in try DigestCredentials(parsing: v) } }
    }

    /// Parses every well-known header strictly (From, To, Via, CSeq, Contact, Route, Record-Route,
    /// Content-Type, Max-Forwards, Expires); the receiving UAS answers 400 when this throws.
    public func validate() throws(SIPParseError) {
        _ = try vias
        _ = try from
        _ = try to
        _ = try cseq
        _ = try maxForwards
        _ = try expires
        _ = try contact
        _ = try routes
        _ = try recordRoutes
        _ = try contentType
    }
}

/// The value of the Contact header(s).
public enum ContactValue: Hashable, Sendable {
    /// `Contact: *` (REGISTER remove-all, RFC 3261 §10.2.2).
    case wildcard
    /// One or more addresses.
    case addresses([NameAddress])
}

extension NameAddress {
    /// The Replaces carried in a Refer-To URI's `Replaces` header (RFC 3891 §7), if any.
    public var embeddedReplaces: Replaces? {
        get throws(SIPParseError) {
            guard let h = uri.headers.first(where: { $0.name.lowercased() == "replaces" }), let v = h.value else { return nil }
            return try Replaces(parsing: Substring(v))
        }
    }
}
