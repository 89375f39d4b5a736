import NIOCore
import SIPCore

/// Turns UDP datagrams into parsed SIP messages (RFC 3261 §18.3: one message per datagram). Keep-alive
/// datagrams made only of CR/LF are counted and ignored; garbage and oversize datagrams are counted and
/// dropped. Runs on its channel's event loop; allocates the parsed message.
///
/// Messages go to `deliver` when one is given (straight to the transport user, no pipeline hop), otherwise
/// down the pipeline as `SIPInboundMessage`. While a batch of datagrams is being read (`isReading`), writes
/// made through the channel need no flush of their own: the handler flushes once when the batch ends, so
/// the responses to one `recvmmsg` leave in one `sendmmsg`.
public final class SIPDatagramHandler: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias InboundOut = SIPInboundMessage

    private let counters: SIPTransportCounters
    private let maximumMessageSize: Int
    private let deliver: (@Sendable (SIPInboundMessage) -> Void)?
    /// The allow/deny lists and per-source rate, checked before anything is parsed.
    private let gate: SIPSourceGate?
    private var localAddress: SocketAddress?
    /// True between the first read of a batch and `channelReadComplete` (loop-confined).
    private(set) var isReading = false

    /// A handler that drops datagrams larger than `maximumMessageSize` bytes and passes messages down the pipeline.
    public init(counters: SIPTransportCounters, maximumMessageSize: Int = 65_535) {
        self.counters = counters
        self.maximumMessageSize = maximumMessageSize
        deliver = nil
        gate = nil
    }

    /// A handler that hands each message to `deliver` on the loop instead of firing it down the pipeline.
    init(counters: SIPTransportCounters, maximumMessageSize: Int, gate: SIPSourceGate? = nil,
         deliver: @escaping @Sendable (SIPInboundMessage) -> Void) {
        self.counters = counters
        self.maximumMessageSize = maximumMessageSize
        self.gate = gate
        self.deliver = deliver
    }

    public func channelActive(context: ChannelHandlerContext) {
        localAddress = context.channel.localAddress
        context.fireChannelActive()
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        context.flush()
        context.fireChannelReadComplete()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        isReading = true
        let envelope = unwrapInboundIn(data)
        let buffer = envelope.data
        if let gate {
            switch gate.check(envelope.remoteAddress, now: NIODeadline.now().uptimeNanoseconds) {
            case .admit: break
            case .denied:
                counters.increment(.udp, .denied)
                return
            case .rateLimited:
                counters.increment(.udp, .rateLimited)
                return
            }
        }
        guard buffer.readableBytes <= maximumMessageSize else {
            counters.increment(.udp, .oversize)
            return
        }
        if buffer.readableBytesView.allSatisfy({ $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
            // RFC 5626 §4.4.1 keep-alives are CRLFs on streams; on UDP some agents send them anyway. No answer:
            // a UDP pong could be reflected at a spoofed source.
            counters.increment(.udp, .keepAlives)
            return
        }
        let parsed: SIPMessage
        do {
            parsed = try buffer.withUnsafeReadableBytes { raw throws(SIPParseError) in try SIPMessage(parsing: raw) }
        } catch {
            counters.increment(.udp, .garbage)
            // RFC 3261 §21.4.1: a malformed request still gets 400 (505 for a bad version) when it can be addressed.
            if let response = buffer.withUnsafeReadableBytes({ MalformedRequestResponse.response(for: $0, error: error) }) {
                counters.increment(.udp, .rejected)
                let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: response))
                context.write(NIOAny(out), promise: nil) // flushed in channelReadComplete
            }
            return
        }
        counters.increment(.udp, .received)
        if localAddress == nil { localAddress = context.channel.localAddress }
        let source = SIPTransportSource(kind: .udp, remote: envelope.remoteAddress, local: localAddress, connectionID: nil)
        let message = SIPInboundMessage(message: parsed, source: source)
        if let deliver {
            deliver(message)
        } else {
            context.fireChannelRead(wrapInboundOut(message))
        }
    }
}
