import Foundation
import SDP
import SIPCore
import SIPStack
import Store
import TandemBase

/// Which party of a call a SIP dialog belongs to.
enum CallSide: Hashable, Sendable {
    /// The caller's dialog (Tandem is its UAS).
    case caller
    /// The dialog of branch `n` towards one callee contact (Tandem is its UAC).
    case branch(Int)
}

/// One forked INVITE towards one registered contact of the callee.
/// Confined to the SIP endpoint's event loop (like the B2BUA); `Sendable` only so NIO callbacks on that loop may hold it.
final class CallBranch: @unchecked Sendable {
    let index: Int
    var session: InviteSession
    /// The branch's own Call-ID (each branch is a separate dialog of Tandem's).
    let callID: String
    let destination: SIPTransportDestination
    /// Where Tandem's Via and Contact point on this branch's transport.
    let local: CallLocalAddress
    let target: SIPURI
    /// Which forwarding step of the call this branch belongs to; branches of earlier steps are being cancelled.
    let generation: Int
    /// The INVITE's client transaction, once sent.
    var inviteKey: TransactionKey?
    /// The final status when the branch failed (487 when cancelled).
    var failureStatus: Int?
    var isTerminated = false
    /// The answer (final or early) this branch gave, parsed.
    var answer: CallAudioDescription?

    init(index: Int, session: InviteSession, callID: String, destination: SIPTransportDestination, local: CallLocalAddress,
         target: SIPURI, generation: Int = 0) {
        self.generation = generation
        self.index = index
        self.session = session
        self.callID = callID
        self.destination = destination
        self.local = local
        self.target = target
    }
}

/// Tandem's own address on one transport: what goes into Via and Contact.
public struct CallLocalAddress: Hashable, Sendable {
    public var kind: SIPTransportKind
    public var host: String
    public var port: Int

    public init(kind: SIPTransportKind, host: String, port: Int) {
        self.kind = kind
        self.host = host
        self.port = port
    }

    var hostPort: String {
        (host.contains(":") && !host.hasPrefix("[") ? "[" + host + "]" : host) + ":" + String(port)
    }

    var contact: NameAddress {
        var uri = SIPURI(user: "tandem", host: host.contains(":") && !host.hasPrefix("[") ? "[" + host + "]" : host,
                         port: UInt16(clamping: port))
        if kind != .udp { uri.parameters["transport"] = kind.viaToken.lowercased() }
        return NameAddress(uri: uri)
    }
}

/// One B2BUA call: the caller's dialog, the forked branches, the media session and what goes into the CDR.
/// Confined to the SIP endpoint's event loop (like the B2BUA); `Sendable` only so NIO callbacks on that loop may hold it.
final class Call: @unchecked Sendable {
    enum Phase: Equatable {
        /// Media legs being allocated; nothing sent to callees yet.
        case preparing
        /// Branches ringing.
        case ringing
        /// A branch answered; 200 sent to the caller (or waiting on its ACK).
        case answered
        /// Over; waiting only for stray retransmissions to drain.
        case ended
    }

    let id: String
    let tenant: DirectoryTenant
    let callerNumber: String
    /// The dialled number.
    let calleeNumber: String
    /// The caller's directory entry (caller ID).
    let callerUser: DirectoryUser
    /// The caller asked for `Privacy: id` (RFC 3323/3325): the callee sees an anonymous caller and no PAI.
    var privacyID = false
    /// The extension ringing now (the dialled one, or where forwarding led).
    var target: DirectoryUser
    /// The forwarding chain followed so far.
    var chain: ForwardingChain
    /// Bumped on every forward; branches of older generations are cancelled and ignored.
    var generation = 0
    /// A Warning header text for the caller's final response, when Tandem ends the call itself.
    var warning: String?
    let callerFrom: NameAddress
    /// The caller slot's dialog; a transfer may put another party in this slot (var for B2BUA+Transfer.swift).
    var callerCallID: String
    var callerSource: SIPTransportSource
    var callerLocal: CallLocalAddress
    var caller: InviteSession
    let offer: CallAudioDescription
    var phase: Phase = .preparing
    var branches: [CallBranch] = []
    var winner: Int?
    /// Set when the caller got its final 2xx.
    var acceptedCaller = false
    /// Early media: the branch whose early answer the caller heard.
    var earlyBranch: Int?

    var callerLeg: CallMediaLeg?
    var calleeLeg: CallMediaLeg?
    var plan: CallCodecPlan?
    var linked = false
    /// Engine commands for this call run one after another on this chain.
    var mediaChain: Task<Void, Never>?
    var sdpSessionID = String(UInt64.random(in: 1_000_000...9_999_999_999))
    var callerSDPVersion: UInt64 = 1
    var calleeSDPVersion: UInt64 = 1
    /// A re-INVITE being relayed: the side it came from.
    var reinviteFrom: CallSide?
    /// Late offer and SRTP state (CallSRTP.swift, B2BUA+LateOffer.swift, B2BUA+SRTP.swift).
    var offerState = CallOfferState()
    /// Parties held through the admin API and a hold/unhold in progress (B2BUA+Hold.swift).
    var hold = CallHoldState()

    let startedAt = Date()
    var answeredAt: Date?
    var ringDeadline: Instant?
    var targets: [String] = []
    /// The latest transfer (REFER) of this call (B2BUA+Transfer.swift).
    var transfer: CallTransfer?
    /// The o= session id a party moved in from another call keeps seeing (RFC 3264 §8; B2BUA+Transfer.swift).
    var transferredSDPSessionIDs: [CallSide: String] = [:]
    /// The branches of the current forwarding step.
    var currentBranches: [CallBranch] { branches.filter { $0.generation == generation } }

    init(id: String, tenant: DirectoryTenant, callerNumber: String, calleeNumber: String, callerUser: DirectoryUser,
         target: DirectoryUser, chain: ForwardingChain, callerFrom: NameAddress,
         callerCallID: String, callerSource: SIPTransportSource, callerLocal: CallLocalAddress,
         caller: InviteSession, offer: CallAudioDescription) {
        self.callerUser = callerUser
        self.target = target
        self.chain = chain
        self.id = id
        self.tenant = tenant
        self.callerNumber = callerNumber
        self.calleeNumber = calleeNumber
        self.callerFrom = callerFrom
        self.callerCallID = callerCallID
        self.callerSource = callerSource
        self.callerLocal = callerLocal
        self.caller = caller
        self.offer = offer
    }

    var callerDestination: SIPTransportDestination {
        SIPTransportDestination(kind: callerSource.kind, address: callerSource.remote)
    }

    func nextOrigin(for side: CallSide, address: String) -> SDPOrigin {
        let version: UInt64
        switch side {
        case .caller:
            version = callerSDPVersion
            callerSDPVersion += 1
        case .branch:
            version = calleeSDPVersion
            calleeSDPVersion += 1
        }
        return SDPOrigin(username: "tandem", sessionID: transferredSDPSessionIDs[side] ?? sdpSessionID, sessionVersion: version,
                         addressType: SDPAddressType(address: address), address: address)
    }

    /// Runs `body` after every engine command queued before it.
    func enqueueMedia(_ body: @escaping @Sendable () async -> Void) {
        let previous = mediaChain
        mediaChain = Task {
            await previous?.value
            await body()
        }
    }
}
