import Codecs
import CBatchIO
import RTP
import SRTP
import TandemBase

#if canImport(Glibc)
import Glibc
#endif

/// The packet path: recvmmsg → source check → demux → SRTP unprotect → statistics → forward
/// (SRTP protect) → sendmmsg. Worker thread only; no allocation, lock, string or closure per packet.
extension MediaWorker {
    /// Reads what a readable socket holds, a few batches at most so other sockets get their turn.
    func readSocket(slot: Int, isRTCPSocket: Bool, now wokeAt: UInt64) {
        guard slot >= 0, slot < legCapacity, legs[slot].isActive else { return }
        let fd = isRTCPSocket ? legs[slot].rtcpFD : legs[slot].rtpFD
        for round in 0..<4 {
            let n = tdm_recv_batch(fd, recvBatch)
            guard n > 0 else { break }
            // The wake-up time serves the first batch (the usual single datagram); later ones read the clock.
            let now = round == 0 ? wokeAt : tdm_monotonic_ns()
            totalPacketsIn &+= UInt64(n)
            for i in 0..<UInt32(n) {
                if !handleDatagram(slot: slot, isRTCPSocket: isRTCPSocket, index: i, now: now) { totalPacketsDropped &+= 1 }
            }
            flushSends()
            if UInt32(n) < Self.batchCapacity { break }
        }
        publishPackets()
    }

    /// Handles one received datagram; false when it was dropped (counted on the leg by reason).
    @inline(__always)
    private func handleDatagram(slot: Int, isRTCPSocket: Bool, index i: UInt32, now: UInt64) -> Bool {
        guard let data = tdm_batch_buffer(recvBatch, i), let source = tdm_batch_peer(recvBatch, i) else { return false }
        var length = Int(tdm_batch_length(recvBatch, i))
        let leg = legs + slot
        leg.pointee.packetsIn &+= 1
        leg.pointee.bytesIn &+= UInt64(length)

        // Source check (symmetric RTP latching); a new latch is committed only once the datagram
        // proved to be RTP/RTCP that authenticates, so garbage cannot steal the stream.
        let verdict: SourceVerdict
        if !leg.pointee.learnsSource {
            // Asymmetric: media goes to the signalled address whatever the packets' source.
            verdict = .accept
        } else if isRTCPSocket {
            verdict = leg.pointee.rtcpPeer.check(source, strict: leg.pointee.isStrictSource, threshold: relatchThreshold)
        } else {
            verdict = leg.pointee.rtpPeer.check(source, strict: leg.pointee.isStrictSource, threshold: relatchThreshold)
        }
        if case .drop = verdict {
            leg.pointee.drops.sourceMismatch &+= 1
            return false
        }

        // RFC 5761 §4 / RFC 7983: RTP and RTCP are told apart by the second byte.
        let buffer = UnsafeMutableRawBufferPointer(start: data, count: Int(Self.bufferSize))
        let kind = DatagramKind(classifying: UnsafeRawBufferPointer(start: data, count: length))
        let isRTCP: Bool
        switch kind {
        case .rtp where !isRTCPSocket && length >= RTPPacket.fixedHeaderSize: isRTCP = false
        case .rtcp where length >= 8: isRTCP = true
        default:
            leg.pointee.drops.malformed &+= 1
            return false
        }
        if isRTCP { leg.pointee.rtcpPacketsIn &+= 1 }

        if let srtp = leg.pointee.inboundSRTP {
            do {
                length = isRTCP ? try srtp.unprotectRTCP(buffer, length: length) : try srtp.unprotect(buffer, length: length)
            } catch {
                count(error, on: leg)
                return false
            }
        }

        if case .acceptAndLatch = verdict {
            if isRTCPSocket { leg.pointee.rtcpPeer.latch(source) } else { leg.pointee.rtpPeer.latch(source) }
        }

        if isRTCP {
            noteRTCP(from: leg, data: data, length: length, now: now)
        } else {
            let packet: RTPPacket
            do {
                packet = try RTPPacket(parsing: UnsafeRawBufferPointer(start: data, count: length))
            } catch {
                leg.pointee.drops.malformed &+= 1
                return false
            }
            noteRTP(packet, slot: slot, now: now)
            if leg.pointee.telephoneEventMask & (UInt128(1) << packet.payloadType.rawValue) != 0 {
                noteTelephoneEvent(packet, slot: slot)
            }
            // Blocking drops RTP only, after statistics and latching: the endpoint is still heard
            // (timeouts, SSRC events), just not relayed. RTCP keeps flowing so reports stay sane.
            if leg.pointee.isMediaBlocked {
                leg.pointee.drops.blocked &+= 1
                return false
            }
            if leg.pointee.isDTMFBlocked, leg.pointee.telephoneEventMask & (UInt128(1) << packet.payloadType.rawValue) != 0 {
                leg.pointee.drops.blockedDTMF &+= 1
                return false
            }
        }

        guard leg.pointee.direction.acceptsFromEndpoint else {
            leg.pointee.drops.direction &+= 1
            return false
        }
        return forward(from: leg, data: data, length: length, isRTCP: isRTCP, now: now)
    }

    /// A key press: the first packet of each RFC 4733 event (a new timestamp, §2.5.1.2) becomes one
    /// `dtmf` event and stops a playback into this leg that listens for that digit (barge-in).
    @inline(__always)
    private func noteTelephoneEvent(_ packet: RTPPacket, slot: Int) {
        let leg = legs + slot
        let payload = packet.payload
        guard payload.count >= 4 else { return }
        let timestamp = packet.timestamp.rawValue
        guard !leg.pointee.hasSeenEvent || leg.pointee.lastEventTimestamp != timestamp else { return }
        leg.pointee.hasSeenEvent = true
        leg.pointee.lastEventTimestamp = timestamp
        guard let digit = DTMFDigit(rawValue: payload[0]) else { return }
        leg.pointee.playback?.noteDigit(digit)
        emit(slot: Int32(slot), .dtmf(digit))
    }

    /// Receive statistics, stream start and SSRC change for an accepted RTP packet.
    @inline(__always)
    private func noteRTP(_ packet: RTPPacket, slot: Int, now: UInt64) {
        let leg = legs + slot
        leg.pointee.lastRTPTick = tick
        leg.pointee.isTimedOut = false
        let ssrc = packet.ssrc.rawValue
        if !leg.pointee.hasSSRC {
            leg.pointee.hasSSRC = true
            leg.pointee.ssrc = ssrc
            emit(slot: Int32(slot), .streamStarted(SSRC(ssrc)))
        } else if leg.pointee.ssrc != ssrc {
            emit(slot: Int32(slot), .ssrcChanged(from: SSRC(leg.pointee.ssrc), to: SSRC(ssrc)))
            leg.pointee.ssrc = ssrc
            leg.pointee.receiveStatistics = ReceiveStatistics()
        }
        // RFC 3550 A.8: arrival time in the stream's RTP clock units (µs first, to stay in 64 bits).
        let arrival = RTPTimestamp(UInt32(truncatingIfNeeded: (now / 1000) &* leg.pointee.clockRate / 1_000_000))
        _ = leg.pointee.receiveStatistics.record(
            sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, arrival: arrival)
    }

    /// Round-trip time from the endpoint's SR/RR report blocks: a block whose LSR is the last SR relayed
    /// to this endpoint gives RTT = now − relay time − DLSR (RFC 3550 §6.4.1). Views only, no allocation.
    @inline(__always)
    private func noteRTCP(from leg: UnsafeMutablePointer<LegState>, data: UnsafeMutablePointer<UInt8>, length: Int, now: UInt64) {
        // The endpoint's own SR (first in a compound, RFC 3550 §6.1): echoed as LSR/DLSR in the
        // reports Tandem generates when it terminates RTCP.
        if length >= 28, data[1] == RTCPPacketType.senderReport {
            leg.pointee.lastReceivedSR = Self.read32(data + 10)
            leg.pointee.lastReceivedSRAt = now
        }
        let lsr = leg.pointee.lastForwardedSR
        // LSR 0 means "no SR received" (§6.4.1), so 0 cannot be matched.
        guard lsr != 0 else { return }
        let datagram = UnsafeRawBufferPointer(start: data, count: length)
        var offset = 0
        while offset < length {
            guard let packet = try? RTCPPacket(parsing: UnsafeRawBufferPointer(rebasing: datagram[offset...])) else { return }
            offset += packet.bytes.count
            var blocks: RTCPReportBlocks
            switch packet.packetType {
            case RTCPPacketType.senderReport:
                guard let sr = try? RTCPSenderReport(parsing: packet) else { return }
                blocks = sr.reportBlocks
            case RTCPPacketType.receiverReport:
                guard let rr = try? RTCPReceiverReport(parsing: packet) else { return }
                blocks = rr.reportBlocks
            default:
                continue
            }
            while let block = blocks.next() {
                guard block.lastSenderReport == lsr else { continue }
                // DLSR is in units of 1/65536 s.
                let dlsr = UInt64(block.delaySinceLastSenderReport) &* 1_000_000_000 >> 16
                let sentAt = leg.pointee.lastForwardedSRAt
                // A negative result is a broken or lying endpoint: keep the last good value.
                if now >= sentAt, now - sentAt >= dlsr {
                    leg.pointee.roundTripNanoseconds = now - sentAt - dlsr
                    leg.pointee.hasRoundTrip = true
                }
                return
            }
        }
    }

    /// Copies the datagram into the send batch for the linked leg's socket and peer, protecting it
    /// with the outbound SRTP context when the linked leg has one.
    @inline(__always)
    private func forward(
        from leg: UnsafeMutablePointer<LegState>, data: UnsafeMutablePointer<UInt8>, length: Int, isRTCP: Bool, now: UInt64
    ) -> Bool {
        if let room = leg.pointee.room {
            deliverToRoom(room, from: leg, data: data, length: length, isRTCP: isRTCP, now: now)
            return true
        }
        let target = Int(leg.pointee.linked)
        guard target >= 0, target < legCapacity, legs[target].isActive else {
            leg.pointee.drops.noDestination &+= 1
            return false
        }
        let out = legs + target
        if let pipeline = out.pointee.outPipeline {
            // Transcoded (or played over): RTP goes into the pipeline, which the tick drains; RTCP is
            // terminated here, since its reports describe a stream the other endpoint never sees.
            if !isRTCP { pipeline.receive(UnsafeRawBufferPointer(start: data, count: length), now: Instant(nanoseconds: now)) }
            return true
        }
        guard out.pointee.direction.sendsToEndpoint else {
            out.pointee.drops.direction &+= 1
            return false
        }
        let fd: Int32
        let peer: tdm_addr?
        if isRTCP && !out.pointee.isRTCPMux {
            fd = out.pointee.rtcpFD
            peer = out.pointee.rtcpDestination
        } else {
            fd = out.pointee.rtpFD
            peer = out.pointee.rtpDestination
        }
        guard let peer else {
            out.pointee.drops.noDestination &+= 1
            return false
        }
        if sendCount == Self.batchCapacity { flushSends() }
        let j = sendCount
        guard let slotBuffer = tdm_batch_buffer(sendBatch, j) else { return false }
        slotBuffer.update(from: data, count: length)
        return commitSend(slot: j, buffer: slotBuffer, length: length, to: target, fd: fd, peer: peer, isRTCP: isRTCP, now: now)
    }

    /// Finishes a datagram written into send slot `j` for `target`'s endpoint: stream rewriting,
    /// SRTP protection, SR bookkeeping for RTT, destination. False when protection failed (counted).
    @inline(__always)
    func commitSend(
        slot j: UInt32, buffer slotBuffer: UnsafeMutablePointer<UInt8>, length: Int, to target: Int, fd: Int32,
        peer: tdm_addr, isRTCP: Bool, now: UInt64
    ) -> Bool {
        let out = legs + target
        // Rewritten in the copy, before protection, so the outbound SRTP context sees one SSRC.
        if out.pointee.rewritesOutboundStream {
            if isRTCP {
                Self.rewriteRTCP(slotBuffer, length: length, with: out.pointee.rewriter)
            } else {
                Self.rewriteRTP(slotBuffer, with: &out.pointee.rewriter, now: now, clockRate: out.pointee.clockRate)
            }
        }
        var outLength = length
        if let srtp = out.pointee.outboundSRTP {
            let buffer = UnsafeMutableRawBufferPointer(start: slotBuffer, count: Int(Self.bufferSize))
            do {
                outLength = isRTCP ? try srtp.protectRTCP(buffer, length: length) : try srtp.protect(buffer, length: length)
            } catch {
                count(error, on: out)
                return false
            }
        }
        // An SR relayed to this endpoint: remember its NTP middle bits to match the LSR of the
        // endpoint's reports (RFC 3550 §6.4.1). SR is first in a compound (§6.1).
        if isRTCP, length >= 28, slotBuffer[1] == RTCPPacketType.senderReport {
            out.pointee.lastForwardedSR = UInt32(slotBuffer[10]) << 24 | UInt32(slotBuffer[11]) << 16
                | UInt32(slotBuffer[12]) << 8 | UInt32(slotBuffer[13])
            out.pointee.lastForwardedSRAt = now
        }
        tdm_batch_set_length(sendBatch, j, UInt32(outLength))
        tdm_batch_peer(sendBatch, j).pointee = peer
        sendFDs[Int(j)] = fd
        sendLegs[Int(j)] = Int32(target)
        sendCount = j + 1
        return true
    }

    /// Ticks between the SRs Tandem sends for a stream it generates (5 s, RFC 3550 §6.2's minimum).
    static var reportIntervalTicks: UInt64 { 500 }

    /// RTCP for a transcoded or played-into leg, where the endpoint's reports about the original
    /// stream would be meaningless: an SR about the stream Tandem sends it, with a report block
    /// about the stream it sends Tandem (RFC 3550 §6.4). No allocation.
    private func sendGeneratedReport(to target: Int, now: UInt64) {
        let out = legs + target
        guard out.pointee.direction.sendsToEndpoint, let peer = out.pointee.rtcpDestination else { return }
        let fd = out.pointee.isRTCPMux ? out.pointee.rtpFD : out.pointee.rtcpFD
        if sendCount == Self.batchCapacity { flushSends() }
        let j = sendCount
        guard let slotBuffer = tdm_batch_buffer(sendBatch, j) else { return }
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        // NTP time: seconds since 1900 and a 32-bit fraction (RFC 3550 §4).
        let ntpSeconds = UInt64(UInt32(truncatingIfNeeded: wall.tv_sec &+ 2_208_988_800))
        let ntpFraction = UInt64(wall.tv_nsec) << 32 / 1_000_000_000
        let elapsed = now &- out.pointee.generatedAt
        let rtpTimestamp = out.pointee.generatedTimestamp &+ UInt32(truncatingIfNeeded: elapsed / 1000 &* out.pointee.clockRate / 1_000_000)
        var block = RTCPReportBlock(
            ssrc: SSRC(out.pointee.ssrc), fractionLost: 0, cumulativeLost: 0, extendedHighestSequenceNumber: 0,
            jitter: 0, lastSenderReport: 0, delaySinceLastSenderReport: 0)
        let hasBlock = out.pointee.hasSSRC
        if hasBlock {
            let dlsr = out.pointee.lastReceivedSR == 0 ? 0
                : UInt32(truncatingIfNeeded: (now &- out.pointee.lastReceivedSRAt) << 16 / 1_000_000_000)
            block = out.pointee.receiveStatistics.makeReportBlock(
                ssrc: SSRC(out.pointee.ssrc), lastSenderReport: out.pointee.lastReceivedSR, delaySinceLastSenderReport: dlsr)
        }
        let length: Int? = withUnsafePointer(to: &block) { p in
            let writer = RTCPSenderReportWriter(
                ssrc: SSRC(out.pointee.generatedSSRC), ntpTimestamp: NTPTimestamp(rawValue: ntpSeconds << 32 | ntpFraction),
                rtpTimestamp: RTPTimestamp(rtpTimestamp), packetCount: out.pointee.generatedPackets,
                octetCount: out.pointee.generatedOctets, reportBlocks: UnsafeBufferPointer(start: p, count: hasBlock ? 1 : 0))
            return try? writer.write(to: UnsafeMutableRawBufferPointer(start: slotBuffer, count: Int(Self.bufferSize) - 32))
        }
        guard let length else { return }
        _ = commitSend(slot: j, buffer: slotBuffer, length: length, to: target, fd: fd, peer: peer, isRTCP: true, now: now)
    }

    /// Sends the SR about a stream Tandem generates for `target`'s endpoint when one is due.
    @inline(__always)
    func reportGeneratedStream(to target: Int, now: UInt64) {
        let out = legs + target
        guard out.pointee.generatedPackets > 0 else { return }
        if out.pointee.nextReportTick == 0 {
            // The first report a second after the stream starts, then every interval.
            out.pointee.nextReportTick = tick &+ Self.reportIntervalTicks / 5
        } else if tick >= out.pointee.nextReportTick {
            out.pointee.nextReportTick = tick &+ Self.reportIntervalTicks
            sendGeneratedReport(to: target, now: now)
        }
    }

    /// Ticks (10 ms) without RTP after which a pipeline stops producing for its destination.
    static var quietSourceTicks: UInt64 { 25 }

    /// On each tick: every leg whose endpoint is fed by a pipeline gets the packets now due, and a
    /// playback that ended is reported once. Worker thread; no allocation.
    func produceOutputs(now: UInt64) {
        let instant = Instant(nanoseconds: now)
        for s in activeSlots {
            let target = Int(s)
            guard let pipeline = legs[target].outPipeline else { continue }
            let out = legs + target
            // A source that went quiet (hold without CN, a dead phone) is not concealed forever: the
            // pipeline pauses until packets come again, unless something is playing into the leg.
            let source = Int(out.pointee.linked)
            if pipeline.input != nil, out.pointee.playback == nil, source >= 0, source < legCapacity,
               tick &- legs[source].lastRTPTick > Self.quietSourceTicks {
                continue
            }
            let peer = out.pointee.direction.sendsToEndpoint ? out.pointee.rtpDestination : nil
            while true {
                if sendCount == Self.batchCapacity { flushSends() }
                let j = sendCount
                guard let slotBuffer = tdm_batch_buffer(sendBatch, j) else { break }
                // Room is left for the SRTP tag (at most 16 bytes) after the packet.
                let room = UnsafeMutableRawBufferPointer(start: slotBuffer, count: Int(Self.bufferSize) - 32)
                let length = pipeline.produce(now: instant, into: room)
                guard length > 0 else { break }
                // Produced packets keep the pipeline's clock running even when nobody can hear them.
                guard let peer else { continue }
                out.pointee.generatedPackets &+= 1
                out.pointee.generatedOctets &+= UInt32(truncatingIfNeeded: length - RTPPacket.fixedHeaderSize)
                out.pointee.generatedTimestamp = Self.read32(slotBuffer + 4)
                out.pointee.generatedSSRC = Self.read32(slotBuffer + 8)
                out.pointee.generatedAt = now
                _ = commitSend(slot: j, buffer: slotBuffer, length: length, to: target, fd: out.pointee.rtpFD, peer: peer,
                               isRTCP: false, now: now)
            }
            reportGeneratedStream(to: target, now: now)
            if let detector = out.pointee.inBandDetector, source >= 0, source < legCapacity {
                while let digit = detector.takeDigit() {
                    legs[source].playback?.noteDigit(digit)
                    emit(slot: Int32(source), .dtmf(digit))
                }
            }
            if let playback = out.pointee.playback, let end = playback.takeEnd() {
                out.pointee.playback = nil
                pipeline.source = nil
                emit(slot: Int32(target), .playbackEnded(end))
            }
        }
        flushSends()
    }

    /// Rewrites SSRC, sequence number and timestamp of a plain RTP packet (≥ 12 bytes) in place.
    @inline(__always)
    private static func rewriteRTP(
        _ p: UnsafeMutablePointer<UInt8>, with rewriter: inout StreamRewriter, now: UInt64, clockRate: UInt64
    ) {
        let out = rewriter.rewrite(
            ssrc: read32(p + 8), sequence: UInt16(p[2]) << 8 | UInt16(p[3]), timestamp: read32(p + 4), now: now,
            clockRate: clockRate)
        p[2] = UInt8(truncatingIfNeeded: out.sequence >> 8)
        p[3] = UInt8(truncatingIfNeeded: out.sequence)
        write32(out.timestamp, p + 4)
        write32(out.ssrc, p + 8)
    }

    /// Gives the first SR or RR of a compound RTCP packet the rewritten stream's SSRC as its sender
    /// SSRC (RFC 3550 §6.4.1/§6.4.2: bytes 4–7), and an SR from the current source the rewritten RTP
    /// timestamp, so the endpoint's RTP/NTP mapping matches the RTP it receives. Nothing before the
    /// first RTP packet; report blocks and other packets of the compound are left alone.
    @inline(__always)
    private static func rewriteRTCP(_ p: UnsafeMutablePointer<UInt8>, length: Int, with rewriter: StreamRewriter) {
        guard rewriter.isStarted, length >= 8, p[1] == RTCPPacketType.senderReport || p[1] == RTCPPacketType.receiverReport
        else { return }
        let sender = read32(p + 4)
        write32(rewriter.outputSSRC, p + 4)
        if p[1] == RTCPPacketType.senderReport, length >= 28, sender == rewriter.sourceSSRC {
            write32(read32(p + 16) &+ rewriter.timestampOffset, p + 16)
        }
    }

    @inline(__always)
    static func read32(_ p: UnsafeMutablePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
    }

    @inline(__always)
    static func write32(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) {
        p[0] = UInt8(truncatingIfNeeded: v >> 24)
        p[1] = UInt8(truncatingIfNeeded: v >> 16)
        p[2] = UInt8(truncatingIfNeeded: v >> 8)
        p[3] = UInt8(truncatingIfNeeded: v)
    }

    @inline(__always)
    private func count(_ error: SRTPError, on leg: UnsafeMutablePointer<LegState>) {
        switch error {
        case .authenticationFailed: leg.pointee.drops.srtpAuthentication &+= 1
        case .replayed, .tooOld: leg.pointee.drops.srtpReplay &+= 1
        case .tooShort, .malformed: leg.pointee.drops.malformed &+= 1
        default: leg.pointee.drops.srtpOther &+= 1
        }
    }

    /// sendmmsg each run of queued datagrams that share a socket; what the kernel refuses is counted.
    func flushSends() {
        var first: UInt32 = 0
        while first < sendCount {
            let fd = sendFDs[Int(first)]
            var end = first + 1
            while end < sendCount && sendFDs[Int(end)] == fd { end += 1 }
            var next = first
            while next < end {
                let sent = tdm_send_batch(fd, sendBatch, next, end - next)
                if sent > 0 {
                    totalPacketsOut &+= UInt64(sent)
                    for k in next..<next + UInt32(sent) {
                        let leg = legs + Int(sendLegs[Int(k)])
                        leg.pointee.packetsOut &+= 1
                        leg.pointee.bytesOut &+= UInt64(tdm_batch_length(sendBatch, k))
                    }
                    next += UInt32(sent)
                } else {
                    // The first remaining datagram failed (EAGAIN, unreachable, …): drop it, go on.
                    legs[Int(sendLegs[Int(next)])].drops.sendFailed &+= 1
                    totalPacketsDropped &+= 1
                    next += 1
                }
            }
            first = end
        }
        sendCount = 0
    }
}
