import SIPCore

/// A dialog's identity (RFC 3261 §12): Call-ID plus the local and remote tags, as seen by this UA.
public struct DialogID: Hashable, Sendable, CustomStringConvertible {
    /// The Call-ID.
    public var callID: String
    /// This UA's tag (From tag for the UAC, To tag for the UAS).
    public var localTag: String
    /// The peer's tag; empty for an RFC 2543 peer that sent none.
    public var remoteTag: String

    /// A dialog ID from parts.
    public init(callID: String, localTag: String, remoteTag: String) {
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
    }

    /// `callID;local=..;remote=..` for logs.
    public var description: String { callID + ";local=" + localTag + ";remote=" + remoteTag }
}

/// Why a dialog could not be created or a message did not fit it.
public enum DialogError: Error, Equatable, Sendable {
    /// A header the dialog needs is missing or malformed.
    case invalidMessage(SIPParseError)
    /// The message cannot create a dialog (not 101–299, or no To tag on a response).
    case notDialogCreating
    /// A dialog-creating message without exactly one Contact (RFC 3261 §12.1.1, §12.1.2).
    case missingContact
    /// The message belongs to another dialog.
    case dialogMismatch
}

/// How a dialog judged an incoming in-dialog request (RFC 3261 §12.2.2).
public enum DialogRequestVerdict: Equatable, Sendable {
    /// The request fits the dialog; state has been updated.
    case accepted
    /// Answer with this status (500 for an out-of-order CSeq, 481 for a foreign dialog).
    case reject(statusCode: Int)
}

/// One SIP dialog (RFC 3261 §12): identity, route set, remote target and both CSeq spaces.
/// A pure value; control plane only (building requests allocates). Not thread-safe: one owner.
public struct Dialog: Sendable {
    /// Early or confirmed (RFC 3261 §12), or ended.
    public enum State: Equatable, Sendable {
        /// Created by a provisional response with a To tag.
        case early
        /// Created or confirmed by a 2xx.
        case confirmed
        /// Ended (BYE, or a final non-2xx for an early dialog).
        case terminated
    }

    /// Which side created the dialog.
    public enum Role: Equatable, Sendable {
        /// We sent the dialog-creating request.
        case uac
        /// We received it.
        case uas
    }

    /// The side this UA played in the dialog-creating transaction.
    public let role: Role
    /// Call-ID and tags.
    public private(set) var id: DialogID
    /// Current state.
    public private(set) var state: State
    /// Local URI with our tag (From of our requests).
    public private(set) var localURI: NameAddress
    /// Remote URI with the peer's tag (To of our requests).
    public private(set) var remoteURI: NameAddress
    /// Where in-dialog requests go: the peer's latest Contact URI (RFC 3261 §12.2.1.2 target refresh).
    public private(set) var remoteTarget: SIPURI
    /// The route set, in the order Route headers are written by this UA (RFC 3261 §12.1.1, §12.1.2).
    public private(set) var routeSet: [NameAddress]
    /// The last CSeq number we used; nil until the UAS sends its first request (RFC 3261 §12.2.1.1).
    public private(set) var localSequence: UInt32?
    /// The last CSeq number received from the peer; nil until it sends one (RFC 3261 §12.2.2).
    public private(set) var remoteSequence: UInt32?
    /// Our Contact, written in target-refresh requests and dialog-creating responses.
    public var localContact: NameAddress
    /// True when the dialog-creating request used a `sips:` Request-URI (RFC 3261 §12.1.1).
    public let isSecure: Bool
    /// The CSeq number of the INVITE whose 2xx is still to be ACKed, if any.
    public private(set) var pendingACKSequence: UInt32?

    /// The CSeq number a UAS dialog starts its own requests from when none was given.
    public static let defaultUASInitialSequence: UInt32 = 1

    private var uasInitialSequence: UInt32

    // MARK: Creation

    /// A UAC dialog from our dialog-creating `request` and a 101–299 `response` carrying a To tag
    /// (RFC 3261 §12.1.2): route set is the Record-Route reversed, remote target the response's Contact.
    public init(uacRequest request: SIPMessage, response: SIPMessage, localContact: NameAddress) throws(DialogError) {
        guard let code = response.statusCode, code > 100, code < 300 else { throw .notDialogCreating }
        do {
            let to = try response.to
            guard let remoteTag = to.tag else { throw DialogError.notDialogCreating }
            let from = try request.from
            guard let localTag = from.tag else { throw DialogError.invalidMessage(.invalidHeaderValue("From")) }
            id = DialogID(callID: try request.callID, localTag: localTag, remoteTag: remoteTag)
            localURI = from
            remoteURI = to
            routeSet = try response.recordRoutes.reversed()
            remoteTarget = try Dialog.singleContact(response)
            localSequence = try request.cseq.number
            remoteSequence = nil
            isSecure = request.requestURI?.scheme == .sips
        } catch let e as DialogError {
            throw e
        } catch let e as SIPParseError {
            throw .invalidMessage(e)
        } catch {
            throw .invalidMessage(.empty)
        }
        role = .uac
        state = code < 200 ? .early : .confirmed
        self.localContact = localContact
        uasInitialSequence = Dialog.defaultUASInitialSequence
        if code >= 200, request.method == .invite { pendingACKSequence = localSequence }
    }

    /// A UAS dialog from a received dialog-creating `request`, before we send the 101–299 response
    /// (RFC 3261 §12.1.1): route set is the Record-Route in order, remote target the request's Contact.
    /// `initialLocalSequence` is the CSeq our first own request will carry.
    public init(uasRequest request: SIPMessage, localTag: String, localContact: NameAddress,
                initialLocalSequence: UInt32 = Dialog.defaultUASInitialSequence, confirmed: Bool = false) throws(DialogError) {
        guard request.isRequest else { throw .notDialogCreating }
        do {
            let from = try request.from
            var to = try request.to
            to.tag = localTag
            id = DialogID(callID: try request.callID, localTag: localTag, remoteTag: from.tag ?? "")
            localURI = to
            remoteURI = from
            routeSet = try request.recordRoutes
            remoteTarget = try Dialog.singleContact(request)
            remoteSequence = try request.cseq.number
            localSequence = nil
            isSecure = request.requestURI?.scheme == .sips
        } catch let e as DialogError {
            throw e
        } catch let e as SIPParseError {
            throw .invalidMessage(e)
        } catch {
            throw .invalidMessage(.empty)
        }
        role = .uas
        state = confirmed ? .confirmed : .early
        self.localContact = localContact
        uasInitialSequence = initialLocalSequence
    }

    private static func singleContact(_ m: SIPMessage) throws -> SIPURI {
        guard case .addresses(let list)? = try m.contact, list.count == 1 else { throw DialogError.missingContact }
        return list[0].uri
    }

    // MARK: State

    /// Moves an early dialog to confirmed (the UAS sent a 2xx, or the UAC received one).
    public mutating func confirm() {
        if state == .early { state = .confirmed }
    }

    /// Ends the dialog.
    public mutating func terminate() { state = .terminated }

    /// True when `message` carries this dialog's Call-ID and tags as seen from the peer.
    public func matches(_ message: SIPMessage) -> Bool {
        guard let callID = try? message.callID, callID == id.callID,
              let from = try? message.from, let to = try? message.to else { return false }
        // A request from the peer has their tag in From; a response to us has ours in From.
        if message.isRequest {
            return (from.tag ?? "") == id.remoteTag && to.tag == id.localTag
        }
        return from.tag == id.localTag && (to.tag ?? "") == id.remoteTag
    }

    /// Methods whose requests and 2xx responses replace the remote target (RFC 3261 §12.2; RFC 3311 §5.2
    /// for UPDATE; RFC 6665 §4.1.1.4 and §4.1.2.4 for SUBSCRIBE and NOTIFY).
    public static func isTargetRefresh(_ method: SIPMethod) -> Bool {
        switch method {
        case .invite, .update, .subscribe, .notify: true
        default: false
        }
    }

    /// Checks an incoming in-dialog request (RFC 3261 §12.2.2): a foreign dialog → 481; a CSeq not above the
    /// last one → 500 (ACK and CANCEL reuse the INVITE's number and are exempt); a target-refresh request
    /// with a Contact replaces the remote target. Retransmissions are absorbed by the transaction layer first.
    public mutating func receive(request: SIPMessage) -> DialogRequestVerdict {
        guard state != .terminated, matches(request) else { return .reject(statusCode: 481) }
        guard let method = request.method, let cseq = try? request.cseq else { return .reject(statusCode: 400) }
        if method == .ack || method == .cancel { return .accepted }
        if let last = remoteSequence, cseq.number <= last { return .reject(statusCode: 500) }
        remoteSequence = cseq.number
        if Dialog.isTargetRefresh(method), case .addresses(let list)? = try? request.contact, list.count == 1 {
            remoteTarget = list[0].uri
        }
        return .accepted
    }

    /// Applies a response to a request we sent in (or to create) this dialog: a 2xx confirms an early dialog
    /// and, for the dialog-creating INVITE, recomputes the route set (RFC 3261 §13.2.2.4); 1xx/2xx to a
    /// target-refresh request with a Contact replace the remote target (RFC 3261 §12.2.1.2).
    public mutating func receive(response: SIPMessage) {
        guard let code = response.statusCode, let cseq = try? response.cseq else { return }
        if code >= 200, code < 300 {
            if state == .early, role == .uac, cseq.method == .invite {
                if let rr = try? response.recordRoutes { routeSet = rr.reversed() }
                state = .confirmed
            }
            if cseq.method == .invite { pendingACKSequence = cseq.number }
        }
        let refreshes = (code >= 200 && code < 300) || (code > 100 && code < 200 && state == .early)
        if refreshes, Dialog.isTargetRefresh(cseq.method), case .addresses(let list)? = try? response.contact, list.count == 1 {
            remoteTarget = list[0].uri
        }
    }

    // MARK: Building requests

    /// The next CSeq number for a new request (RFC 3261 §12.2.1.1: one more than the last, or the initial value).
    public mutating func nextSequence() -> UInt32 {
        let n = localSequence.map { $0 &+ 1 } ?? uasInitialSequence
        localSequence = n
        return n
    }

    /// A new in-dialog request with the next CSeq (RFC 3261 §12.2.1.1): Request-URI and Route from the remote
    /// target and route set, From/To/Call-ID from the dialog, Max-Forwards 70, Contact for target-refresh methods.
    /// The transaction layer adds the Via. Allocates.
    public mutating func makeRequest(_ method: SIPMethod) -> SIPMessageBuilder {
        let n = nextSequence()
        return makeRequest(method, sequence: n)
    }

    /// The ACK for a 2xx to the INVITE whose CSeq number is `inviteSequence` (RFC 3261 §13.2.2.4): same
    /// CSeq number, method ACK, routed like any in-dialog request. `body` carries an answer or late-offer answer.
    public mutating func makeACK(inviteSequence: UInt32, body: SessionBody? = nil) -> SIPMessageBuilder {
        var b = makeRequest(.ack, sequence: inviteSequence)
        if let body { body.apply(to: &b) }
        if pendingACKSequence == inviteSequence { pendingACKSequence = nil }
        return b
    }

    private func makeRequest(_ method: SIPMethod, sequence: UInt32) -> SIPMessageBuilder {
        var uri = remoteTarget
        var routes = routeSet
        if let first = routeSet.first, !first.uri.isLooseRouting {
            // Strict router (RFC 3261 §12.2.1.1): its URI becomes the Request-URI and the remote target is
            // appended as the last Route.
            uri = first.uri
            uri.headers = []
            uri.parameters.remove("method")
            routes.removeFirst()
            routes.append(NameAddress(uri: remoteTarget))
        }
        var b = SIPMessageBuilder(method: method, uri: uri)
        for r in routes { b.add(.route, r.description) }
        b.add(.maxForwards, "70")
        b.add(.from, localURI.description)
        b.add(.to, remoteURI.description)
        b.add(.callID, id.callID)
        b.add(.cseq, CSeq(number: sequence, method: method).description)
        if Dialog.isTargetRefresh(method) || method == .refer { b.add(.contact, localContact.description) }
        return b
    }

    /// A response to an in-dialog or dialog-creating `request`, with our To tag, and for 101–299 to a
    /// dialog-creating request the Record-Route copied and our Contact (RFC 3261 §12.1.1). Allocates.
    public func makeResponse(to request: SIPMessage, statusCode: Int, reasonPhrase: String? = nil) -> SIPMessageBuilder {
        guard var b = try? SIPMessageBuilder.response(to: request, statusCode: statusCode, reasonPhrase: reasonPhrase,
                                                     toTag: id.localTag) else {
            return SIPMessageBuilder(statusCode: statusCode, reasonPhrase: reasonPhrase)
        }
        if statusCode > 100, statusCode < 300, let method = request.method {
            if method == .invite || method == .subscribe || method == .refer {
                for v in request.values(.recordRoute) { b.add(.recordRoute, v) }
            }
            if Dialog.isTargetRefresh(method) || method == .refer { b.add(.contact, localContact.description) }
        }
        return b
    }
}

/// A message body kept opaque: the content type and the bytes (SDP is parsed by the SDP module, not here).
public struct SessionBody: Hashable, Sendable {
    /// Content-Type value, e.g. "application/sdp".
    public var contentType: String
    /// The body bytes.
    public var bytes: [UInt8]

    /// A body from parts.
    public init(contentType: String = "application/sdp", bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
    }

    /// The body of `message`, or nil when it has none.
    public init?(message: SIPMessage) {
        guard !message.body.isEmpty else { return nil }
        contentType = message.value(.contentType) ?? "application/octet-stream"
        bytes = Array(message.body)
    }

    /// True for `application/sdp`, the only body type that carries an offer or answer here (RFC 3264).
    public var isSessionDescription: Bool { mainType == "application/sdp" }

    /// Sets Content-Type and the body on `builder`.
    public func apply(to builder: inout SIPMessageBuilder) {
        builder.set(.contentType, contentType)
        builder.body = bytes
    }
}
