import SIPCore

/// What this UA supports, and the stateless answers that advertise it: OPTIONS (RFC 3261 §11) and
/// MESSAGE (RFC 3428) get 200, methods outside `allowed` get 405 with Allow (RFC 3261 §8.2.1).
/// Control plane; each answer allocates its header strings.
public struct DialogCapabilities: Equatable, Sendable {
    /// Methods we accept.
    public var allowed: [SIPMethod]
    /// Body types we accept.
    public var accepted: [String]
    /// Option tags we support.
    public var supported: [String]

    /// The stack's defaults: the methods the session, REFER and subscription code handle, SDP, sipfrag and
    /// plain-text bodies, and the 100rel, timer and replaces extensions.
    public init(allowed: [SIPMethod] = [.invite, .ack, .cancel, .bye, .options, .prack, .update, .refer, .subscribe, .notify,
                                        .message, .info],
                accepted: [String] = ["application/sdp", "message/sipfrag", "text/plain"],
                supported: [String] = ["100rel", "timer", "replaces"]) {
        self.allowed = allowed
        self.accepted = accepted
        self.supported = supported
    }

    /// Adds Allow, Accept and Supported to `builder`.
    public func addHeaders(to builder: inout SIPMessageBuilder) {
        builder.set("allow", allowed.map(\.description).joined(separator: ", "))
        builder.set("accept", accepted.joined(separator: ", "))
        builder.set("supported", supported.joined(separator: ", "))
    }

    /// The stateless answer to an out-of-dialog OPTIONS or MESSAGE, or 405 for a method we do not allow;
    /// nil for other methods (they need a transaction user). `toTag` is added to the To of the response.
    public func statelessResponse(to request: SIPMessage, toTag: String) -> SIPMessageBuilder? {
        guard let method = request.method else { return nil }
        if !allowed.contains(method) {
            guard var r = try? SIPMessageBuilder.response(to: request, statusCode: 405, toTag: toTag) else { return nil }
            r.set("allow", allowed.map(\.description).joined(separator: ", "))
            return r
        }
        switch method {
        case .options:
            guard var r = try? SIPMessageBuilder.response(to: request, statusCode: 200, toTag: toTag) else { return nil }
            addHeaders(to: &r)
            return r
        case .message:
            // RFC 3428 §7: a 2xx carries no body; an unsupported body type gets 415 with Accept.
            let type = request.value(.contentType).map { SessionBody(contentType: $0, bytes: []).mainType } ?? "text/plain"
            guard accepted.contains(type) else {
                guard var r = try? SIPMessageBuilder.response(to: request, statusCode: 415, toTag: toTag) else { return nil }
                r.set("accept", accepted.joined(separator: ", "))
                return r
            }
            return try? SIPMessageBuilder.response(to: request, statusCode: 200, toTag: toTag)
        default:
            return nil
        }
    }
}

extension SessionBody {
    /// The content type without parameters, lower-cased (`text/plain;charset=utf-8` → `text/plain`).
    var mainType: String {
        let main = contentType.split(separator: ";", omittingEmptySubsequences: false).first ?? ""
        return String(main.filter { $0 != " " && $0 != "\t" }).lowercased()
    }
}
