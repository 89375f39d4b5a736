import Foundation
import SIPCore

/// How the caller is presented to the callee: From from the caller's directory entry (display name, outbound
/// caller ID), P-Asserted-Identity (RFC 3325) with the authenticated extension, and `Privacy: id` (RFC 3323)
/// honoured: an anonymous From and no PAI, since the callee's phone is not a trusted element.
public struct CallerIdentity: Hashable, Sendable {
    /// The From of the INVITE to the callee (without a tag).
    public var from: NameAddress
    /// The P-Asserted-Identity to send, or nil.
    public var assertedIdentity: NameAddress?

    /// The anonymous From of RFC 3323 §4.1.1.3.
    public static let anonymous = NameAddress(displayName: "Anonymous", uri: SIPURI(user: "anonymous", host: "anonymous.invalid"))

    /// True when the request's Privacy header asks to hide the identity (`id`, or `user`/`header`, which imply
    /// hiding what identifies the user here).
    public static func requestsPrivacy(_ request: SIPMessage) -> Bool {
        request.values("privacy").contains { value in
            value.split(separator: ";").contains { token in
                let t = token.trimmingCharacters(in: .whitespaces).lowercased()
                return t == "id" || t == "user" || t == "header"
            }
        }
    }

    /// The identity for a call from `caller` in `domain`; `offeredDisplayName` is the caller's own From display
    /// name, used when the directory has none.
    public init(caller: DirectoryUser, domain: String, offeredDisplayName: String?, privacy: Bool) {
        if privacy {
            from = Self.anonymous
            assertedIdentity = nil
            return
        }
        let name = caller.displayName.isEmpty ? offeredDisplayName.flatMap { $0.isEmpty ? nil : $0 } : caller.displayName
        let presented = caller.outboundCallerID.flatMap { $0.isEmpty ? nil : $0 } ?? caller.number
        from = NameAddress(displayName: name, uri: SIPURI(user: presented, host: domain))
        assertedIdentity = NameAddress(displayName: name, uri: SIPURI(user: caller.number, host: domain))
    }
}
