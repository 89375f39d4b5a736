import TandemBase

/// A Digest hash algorithm (RFC 7616 §3.3; RFC 8760 for SIP).
public enum DigestAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// MD5 (RFC 2617), still what most SIP devices use.
    case md5 = "MD5"
    /// MD5 with the session HA1 step.
    case md5Session = "MD5-sess"
    /// SHA-256 (RFC 7616, RFC 8760).
    case sha256 = "SHA-256"
    /// SHA-256 with the session HA1 step.
    case sha256Session = "SHA-256-sess"

    /// Parses an algorithm name case-insensitively.
    public init?(name: String) {
        guard let a = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
        self = a
    }

    /// True for the `-sess` variants.
    public var isSession: Bool { self == .md5Session || self == .sha256Session }

    var hashFunction: TandemBase.Digest { (self == .md5 || self == .md5Session) ? .md5 : .sha256 }

    /// Lower-case hex digest of `text`'s UTF-8 bytes.
    func hex(_ text: String) -> String { hashFunction.hash(text).hexString }
}

/// Digest computations (RFC 7616 §3.4.1, §3.4.2; RFC 2617 §3.2.2). Control plane; allocates.
public enum DigestComputation {
    /// HA1 = H(username:realm:password), before any -sess step.
    public static func ha1(username: String, realm: String, password: String, algorithm: DigestAlgorithm) -> String {
        algorithm.hex(username + ":" + realm + ":" + password)
    }

    /// The `response` value. `qop` nil means the RFC 2069 legacy form without nc/cnonce.
    /// `ha1` is the plain HA1; the -sess step is applied here.
    public static func response(ha1: String, algorithm: DigestAlgorithm, method: String, uri: String, nonce: String,
                                qop: String?, nonceCount: UInt32?, cnonce: String?) -> String {
        var a1 = ha1
        if algorithm.isSession { a1 = algorithm.hex(ha1 + ":" + nonce + ":" + (cnonce ?? "")) }
        let ha2 = algorithm.hex(method + ":" + uri)
        if let qop {
            return algorithm.hex(a1 + ":" + nonce + ":" + formatNonceCount(nonceCount ?? 0) + ":" + (cnonce ?? "") + ":" + qop + ":" + ha2)
        }
        return algorithm.hex(a1 + ":" + nonce + ":" + ha2)
    }

    /// `nc` as eight lower-case hex digits.
    public static func formatNonceCount(_ nc: UInt32) -> String {
        let hex = String(nc, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// Parses `Digest a=b, c="d"` into a scheme check and a parameter list.
private func parseAuthParams(_ text: String) throws(DigestError) -> [(name: String, value: String)] {
    let t = Substring(text).trimmingLWS
    let end = t.firstIndex { $0 == " " || $0 == "\t" } ?? t.endIndex
    guard t[t.startIndex..<end].lowercased() == "digest" else { throw .malformed }
    var out: [(String, String)] = []
    for item in splitHeaderList(t[end...]) {
        guard let eq = item.firstIndex(of: "=") else { throw .malformed }
        let name = item[item.startIndex..<eq].trimmingLWS
        let raw = item[item.index(after: eq)...].trimmingLWS
        guard name.isSIPToken, !raw.isEmpty else { throw .malformed }
        if raw.first == "\"" {
            guard let close = quotedStringEnd(raw), close == raw.endIndex else { throw .malformed }
        } else {
            // Unquoted values should be tokens; tolerate URI characters some UAs leave unquoted, but no
            // whitespace, quotes or controls.
            for b in raw.utf8 where b <= Byte.sp || b == Byte.quote || b == 0x7f { throw .malformed }
        }
        out.append((name.lowercased(), unquoted(raw)))
    }
    return out
}

/// A WWW-Authenticate / Proxy-Authenticate Digest challenge (RFC 7616 §3.3).
public struct DigestChallenge: Hashable, Sendable, CustomStringConvertible {
    /// Protection space.
    public var realm: String
    /// Server nonce.
    public var nonce: String
    /// Opaque value to echo back.
    public var opaque: String?
    /// Algorithm; MD5 when the header omits it.
    public var algorithm: DigestAlgorithm
    /// Offered qop values (e.g. ["auth"]); empty for legacy challenges.
    public var qop: [String]
    /// True when the previous nonce expired but the credentials were right (retry without asking the user).
    public var isStale: Bool
    /// The `domain` parameter.
    public var domain: String?

    /// A challenge from parts.
    public init(realm: String, nonce: String, opaque: String? = nil, algorithm: DigestAlgorithm = .md5,
                qop: [String] = ["auth"], isStale: Bool = false, domain: String? = nil) {
        self.realm = realm
        self.nonce = nonce
        self.opaque = opaque
        self.algorithm = algorithm
        self.qop = qop
        self.isStale = isStale
        self.domain = domain
    }

    /// Parses a header value such as `Digest realm="x", nonce="y", qop="auth,auth-int"`.
    public init(parsing text: String) throws(DigestError) {
        var realm: String?, nonce: String?
        opaque = nil
        algorithm = .md5
        qop = []
        isStale = false
        domain = nil
        for (name, value) in try parseAuthParams(text) {
            switch name {
            case "realm": realm = value
            case "nonce": nonce = value
            case "opaque": opaque = value
            case "domain": domain = value
            case "stale": isStale = value.lowercased() == "true"
            case "algorithm":
                guard let a = DigestAlgorithm(name: value) else { throw .unsupportedAlgorithm(value) }
                algorithm = a
            case "qop": qop = value.split(separator: ",").map { String($0.trimmingLWS) }.filter { !$0.isEmpty }
            default: break
            }
        }
        guard let realm else { throw .missingParameter("realm") }
        guard let nonce else { throw .missingParameter("nonce") }
        self.realm = realm
        self.nonce = nonce
    }

    /// The header value.
    public var description: String {
        var s = "Digest realm=" + quoted(realm)
        if let domain { s += ", domain=" + quoted(domain) }
        s += ", nonce=" + quoted(nonce)
        if let opaque { s += ", opaque=" + quoted(opaque) }
        if isStale { s += ", stale=TRUE" }
        s += ", algorithm=" + algorithm.rawValue
        if !qop.isEmpty { s += ", qop=" + quoted(qop.joined(separator: ",")) }
        return s
    }
}

/// Authorization / Proxy-Authorization Digest credentials (RFC 7616 §3.4).
public struct DigestCredentials: Hashable, Sendable, CustomStringConvertible {
    /// User name.
    public var username: String
    /// Realm from the challenge.
    public var realm: String
    /// Nonce from the challenge.
    public var nonce: String
    /// Digest-URI (the Request-URI as the client wrote it).
    public var uri: String
    /// The computed response (hex).
    public var response: String
    /// Algorithm; MD5 when the header omits it.
    public var algorithm: DigestAlgorithm
    /// Client nonce (with qop).
    public var cnonce: String?
    /// Echoed opaque.
    public var opaque: String?
    /// Chosen qop ("auth"), nil for legacy.
    public var qop: String?
    /// Nonce count (with qop).
    public var nonceCount: UInt32?

    /// Credentials from parts.
    public init(username: String, realm: String, nonce: String, uri: String, response: String, algorithm: DigestAlgorithm = .md5,
                cnonce: String? = nil, opaque: String? = nil, qop: String? = nil, nonceCount: UInt32? = nil) {
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
        self.algorithm = algorithm
        self.cnonce = cnonce
        self.opaque = opaque
        self.qop = qop
        self.nonceCount = nonceCount
    }

    /// Parses a header value such as `Digest username="u", realm="r", ...`.
    public init(parsing text: String) throws(DigestError) {
        var username: String?, realm: String?, nonce: String?, uri: String?, response: String?
        algorithm = .md5
        cnonce = nil
        opaque = nil
        qop = nil
        nonceCount = nil
        for (name, value) in try parseAuthParams(text) {
            switch name {
            case "username": username = value
            case "realm": realm = value
            case "nonce": nonce = value
            case "uri": uri = value
            case "response": response = value
            case "cnonce": cnonce = value
            case "opaque": opaque = value
            case "qop": qop = value
            case "nc":
                guard value.utf8.count == 8, let n = UInt32(value, radix: 16) else { throw .malformed }
                nonceCount = n
            case "algorithm":
                guard let a = DigestAlgorithm(name: value) else { throw .unsupportedAlgorithm(value) }
                algorithm = a
            default: break
            }
        }
        guard let username else { throw .missingParameter("username") }
        guard let realm else { throw .missingParameter("realm") }
        guard let nonce else { throw .missingParameter("nonce") }
        guard let uri else { throw .missingParameter("uri") }
        guard let response else { throw .missingParameter("response") }
        if qop != nil {
            guard cnonce != nil else { throw .missingParameter("cnonce") }
            guard nonceCount != nil else { throw .missingParameter("nc") }
        }
        self.username = username
        self.realm = realm
        self.nonce = nonce
        self.uri = uri
        self.response = response
    }

    /// The header value.
    public var description: String {
        var s = "Digest username=" + quoted(username) + ", realm=" + quoted(realm) + ", nonce=" + quoted(nonce)
        s += ", uri=" + quoted(uri) + ", response=" + quoted(response) + ", algorithm=" + algorithm.rawValue
        if let cnonce { s += ", cnonce=" + quoted(cnonce) }
        if let opaque { s += ", opaque=" + quoted(opaque) }
        if let qop { s += ", qop=" + qop }
        if let nonceCount { s += ", nc=" + DigestComputation.formatNonceCount(nonceCount) }
        return s
    }
}

/// Client side: answers a 401/407 challenge (RFC 3261 §22.2, RFC 7616 §3.4).
public enum DigestClient {
    /// Picks the strongest supported challenge (SHA-256 before MD5, RFC 8760 §2.4).
    public static func preferred(_ challenges: [DigestChallenge]) -> DigestChallenge? {
        challenges.first { $0.algorithm == .sha256 || $0.algorithm == .sha256Session } ?? challenges.first
    }

    /// Credentials for `method` on `uri`. `cnonce` should be fresh random text; `nonceCount` starts at 1
    /// and increases for each request reusing the same nonce.
    public static func credentials(answering challenge: DigestChallenge, method: String, uri: String, username: String,
                                   password: String, cnonce: String, nonceCount: UInt32 = 1) throws(DigestError) -> DigestCredentials {
        let qop: String?
        if challenge.qop.isEmpty {
            qop = nil
        } else if challenge.qop.contains(where: { $0.lowercased() == "auth" }) {
            qop = "auth"
        } else {
            throw .unsupportedQop
        }
        let ha1 = DigestComputation.ha1(username: username, realm: challenge.realm, password: password, algorithm: challenge.algorithm)
        let response = DigestComputation.response(ha1: ha1, algorithm: challenge.algorithm, method: method, uri: uri,
                                                  nonce: challenge.nonce, qop: qop, nonceCount: qop == nil ? nil : nonceCount,
                                                  cnonce: qop == nil ? nil : cnonce)
        return DigestCredentials(username: username, realm: challenge.realm, nonce: challenge.nonce, uri: uri, response: response,
                                 algorithm: challenge.algorithm, cnonce: qop == nil ? nil : cnonce, opaque: challenge.opaque,
                                 qop: qop, nonceCount: qop == nil ? nil : nonceCount)
    }
}
