// Small header value types. Each has `init(parsing:) throws(SIPParseError)` and `description` for the wire.

/// CSeq: sequence number and method (RFC 3261 §20.16); the number is below 2^31.
public struct CSeq: Hashable, Sendable, CustomStringConvertible {
    /// The sequence number (0...2^31-1).
    public var number: UInt32
    /// The method.
    public var method: SIPMethod

    /// A CSeq from parts.
    public init(number: UInt32, method: SIPMethod) {
        self.number = number
        self.method = method
    }

    /// Parses `1 INVITE` (LWS between the parts).
    public init(parsing text: Substring) throws(SIPParseError) {
        let parts = text.trimmingLWS.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[1].isSIPToken else { throw .invalidHeaderValue("CSeq") }
        guard parts[0].utf8.allSatisfy(Byte.isDigit) else { throw .invalidHeaderValue("CSeq") }
        guard let n = parseDecimal(parts[0], maximum: UInt64(Int32.max)) else { throw .valueOutOfRange("CSeq") }
        number = UInt32(n)
        method = SIPMethod(String(parts[1]))
    }

    /// `number METHOD`.
    public var description: String { String(number) + " " + method.description }
}

/// Event (RFC 6665 §8.2.1): package name plus parameters such as `id`.
public struct SIPEvent: Hashable, Sendable, CustomStringConvertible {
    /// The event package, e.g. "refer", "presence", "dialog".
    public var package: String
    /// Parameters (`id`, ...).
    public var parameters: SIPParameters

    /// An event from parts.
    public init(package: String, parameters: SIPParameters = SIPParameters()) {
        self.package = package
        self.parameters = parameters
    }

    /// Parses `refer;id=93809824`.
    public init(parsing text: Substring) throws(SIPParseError) {
        let t = text.trimmingLWS
        let end = t.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" } ?? t.endIndex
        let pkg = t[t.startIndex..<end]
        guard pkg.isSIPToken else { throw .invalidHeaderValue("Event") }
        package = String(pkg)
        parameters = try SIPParameters.parse(t[end...], headerName: "Event")
    }

    /// The `id` parameter.
    public var id: String? { parameters["id"] }

    /// `package;params`.
    public var description: String { package + parameters.description }
}

/// Replaces (RFC 3891 §6.1): `call-id;to-tag=...;from-tag=...[;early-only]`.
public struct Replaces: Hashable, Sendable, CustomStringConvertible {
    /// The Call-ID of the dialog to replace.
    public var callID: String
    /// The dialog's To tag.
    public var toTag: String
    /// The dialog's From tag.
    public var fromTag: String
    /// True when only an early dialog may be replaced.
    public var isEarlyOnly: Bool

    /// Replaces from parts.
    public init(callID: String, toTag: String, fromTag: String, isEarlyOnly: Bool = false) {
        self.callID = callID
        self.toTag = toTag
        self.fromTag = fromTag
        self.isEarlyOnly = isEarlyOnly
    }

    /// Parses the header value (also the decoded `Replaces` URI header of a Refer-To).
    public init(parsing text: Substring) throws(SIPParseError) {
        let t = text.trimmingLWS
        let end = t.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" } ?? t.endIndex
        let id = t[t.startIndex..<end]
        guard !id.isEmpty else { throw .invalidHeaderValue("Replaces") }
        let params = try SIPParameters.parse(t[end...], headerName: "Replaces")
        guard let to = params["to-tag"], let from = params["from-tag"] else { throw .invalidHeaderValue("Replaces") }
        callID = String(id)
        toTag = to
        fromTag = from
        isEarlyOnly = params.contains("early-only")
    }

    /// `call-id;to-tag=..;from-tag=..[;early-only]`.
    public var description: String {
        callID + ";to-tag=" + toTag + ";from-tag=" + fromTag + (isEarlyOnly ? ";early-only" : "")
    }
}

/// Session-Expires (RFC 4028 §4): interval in seconds and optional refresher.
public struct SessionExpires: Hashable, Sendable, CustomStringConvertible {
    /// Who refreshes the session.
    public enum Refresher: String, Hashable, Sendable {
        /// The UAC refreshes.
        case uac
        /// The UAS refreshes.
        case uas
    }

    /// Interval in seconds.
    public var seconds: UInt32
    /// The `refresher` parameter.
    public var refresher: Refresher?
    /// Other parameters.
    public var parameters: SIPParameters

    /// Session-Expires from parts.
    public init(seconds: UInt32, refresher: Refresher? = nil) {
        self.seconds = seconds
        self.refresher = refresher
        parameters = SIPParameters()
    }

    /// Parses `1800;refresher=uac`; also used for Min-SE (which has no refresher).
    public init(parsing text: Substring) throws(SIPParseError) {
        let t = text.trimmingLWS
        let end = t.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" } ?? t.endIndex
        guard let s = parseDecimal(t[t.startIndex..<end], maximum: UInt64(UInt32.max)) else {
            throw .invalidHeaderValue("Session-Expires")
        }
        seconds = UInt32(s)
        var params = try SIPParameters.parse(t[end...], headerName: "Session-Expires")
        if let r = params["refresher"] {
            guard let rr = Refresher(rawValue: r.lowercased()) else { throw .invalidHeaderValue("Session-Expires") }
            refresher = rr
            params.remove("refresher")
        } else {
            refresher = nil
        }
        parameters = params
    }

    /// `seconds[;refresher=x][;params]`.
    public var description: String {
        String(seconds) + (refresher.map { ";refresher=" + $0.rawValue } ?? "") + parameters.description
    }
}

/// A media type such as Content-Type's `application/sdp` (RFC 3261 §20.15).
public struct MediaType: Hashable, Sendable, CustomStringConvertible {
    /// Type, lower-cased.
    public var type: String
    /// Subtype, lower-cased.
    public var subtype: String
    /// Parameters such as `boundary` or `charset`.
    public var parameters: SIPParameters

    /// A media type from parts.
    public init(type: String, subtype: String, parameters: SIPParameters = SIPParameters()) {
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
    }

    /// Parses `type/subtype;params` (SLASH allows SWS).
    public init(parsing text: Substring) throws(SIPParseError) {
        let t = text.trimmingLWS
        guard let slash = t.firstIndex(of: "/") else { throw .invalidHeaderValue("Content-Type") }
        let ty = t[t.startIndex..<slash].trimmingLWS
        let after = t[t.index(after: slash)...].trimmingLWS
        let end = after.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" } ?? after.endIndex
        let sub = after[after.startIndex..<end]
        guard ty.isSIPToken, sub.isSIPToken else { throw .invalidHeaderValue("Content-Type") }
        type = ty.lowercased()
        subtype = sub.lowercased()
        parameters = try SIPParameters.parse(after[end...], headerName: "Content-Type")
    }

    /// `type/subtype;params`.
    public var description: String { type + "/" + subtype + parameters.description }
}
