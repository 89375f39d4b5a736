import CBatchIO
import Codecs
import RTP
import TandemBase

/// A conference room as its worker holds it: the audio mixer, the video forwarder when the room has video, and
/// which leg each participant index is bound to. Worker thread only once created.
final class WorkerRoom {
    let number: UInt64
    let room: ConferenceRoom
    let video: VideoForwarder
    /// Leg slot of each participant's audio and video leg, by participant index; -1 when none.
    var audioSlots: [Int32]
    var videoSlots: [Int32]
    /// The participant whose video is forwarded when nobody is pinned: the last one who started talking.
    var activeSpeaker = -1
    /// Set when this is one shard of a room spread over several workers (MediaWorker+SpreadRoom.swift).
    var spread: WorkerSpreadLink?
    /// The worker the room belongs to (its handle's worker): this one unless the room is spread.
    var homeWorker: Int?

    init(number: UInt64, room: ConferenceRoom, video: VideoForwarder) {
        self.number = number
        self.room = room
        self.video = video
        audioSlots = [Int32](repeating: -1, count: room.configuration.maximumParticipants)
        videoSlots = [Int32](repeating: -1, count: room.configuration.maximumParticipants)
    }
}

/// A conference command for a room's worker. Rooms and sources are built on the control side and handed over.
enum ConferenceCommand: @unchecked Sendable {
    // The room, forwarder and playback sources are used only on the worker once handed over.
    case create(WorkerRoom, CheckedContinuation<Void, Never>)
    case joinAudio(UInt64, MediaLegHandle, AudioEndpointFormat, ConferenceParticipantOptions,
                   CheckedContinuation<Result<Int, ConferenceControlError>, Never>)
    case joinVideo(UInt64, participant: Int, MediaLegHandle, VideoParticipantFormat,
                   CheckedContinuation<Result<Void, ConferenceControlError>, Never>)
    case leave(UInt64, participant: Int, CheckedContinuation<Result<Void, ConferenceControlError>, Never>)
    case change(UInt64, participant: Int?, WorkerConferenceChange, CheckedContinuation<Result<Void, ConferenceControlError>, Never>)
    case destroy(UInt64, CheckedContinuation<Result<Void, ConferenceControlError>, Never>)
    case query(UInt64, CheckedContinuation<Result<ConferenceRoomSnapshot, ConferenceControlError>, Never>)

    func fail(_ error: ConferenceControlError) {
        switch self {
        case .create(_, let c): c.resume()
        case .joinAudio(_, _, _, _, let c): c.resume(returning: .failure(error))
        case .joinVideo(_, _, _, _, let c): c.resume(returning: .failure(error))
        case .leave(_, _, let c): c.resume(returning: .failure(error))
        case .change(_, _, _, let c): c.resume(returning: .failure(error))
        case .destroy(_, let c): c.resume(returning: .failure(error))
        case .query(_, let c): c.resume(returning: .failure(error))
        }
    }
}

/// A change to a room or one participant, as the worker applies it.
enum WorkerConferenceChange: @unchecked Sendable {
    case participant(ConferenceParticipantChange)
    case room(ConferenceRoomChange)
    /// Plays into the whole room (participant nil) or to one participant; built at the room rate.
    case play(PlaybackSource)
    case stopPlayback
    case record(RecordingChannel?)
}

/// Hands the room's packets to the worker's send batch.
struct RoomAudioSink: ConferenceOutputSink {
    unowned(unsafe) let worker: MediaWorker
    unowned(unsafe) let room: WorkerRoom
    let now: UInt64

    @inline(__always)
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
        let slot = room.audioSlots[participant]
        if slot >= 0 { worker.sendGenerated(packet, to: Int(slot), isRTCP: false, now: now) }
    }
}

/// Hands the forwarder's packets to the worker's send batch.
struct RoomVideoSink: VideoForwarderSink {
    unowned(unsafe) let worker: MediaWorker
    unowned(unsafe) let room: WorkerRoom
    let now: UInt64

    @inline(__always)
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
        let slot = room.videoSlots[participant]
        if slot >= 0 { worker.sendGenerated(packet, to: Int(slot), isRTCP: false, now: now) }
    }

    @inline(__always)
    mutating func sendRTCP(participant: Int, packet: UnsafeRawBufferPointer) {
        let slot = room.videoSlots[participant]
        if slot >= 0 { worker.sendGenerated(packet, to: Int(slot), isRTCP: true, now: now) }
    }
}

extension MediaWorker {
    // MARK: - Packet path (worker thread, no allocation)

    /// A datagram from a conference participant's leg: audio RTP into the mixer, video RTP and RTCP into the
    /// forwarder; audio RTCP is terminated (the worker regenerates reports for the room's streams).
    @inline(__always)
    func deliverToRoom(_ room: WorkerRoom, from leg: UnsafeMutablePointer<LegState>, data: UnsafeMutablePointer<UInt8>,
                       length: Int, isRTCP: Bool, now: UInt64) {
        let participant = Int(leg.pointee.participant)
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        if leg.pointee.isVideoParticipant {
            var sink = RoomVideoSink(worker: self, room: room, now: now)
            if isRTCP {
                room.video.receiveRTCP(from: participant, packet: bytes, now: now, sink: &sink)
            } else {
                room.video.receiveRTP(from: participant, packet: bytes, now: now, sink: &sink)
            }
        } else if !isRTCP {
            room.room.receive(participant: participant, bytes, now: Instant(nanoseconds: now))
        }
    }

    /// Queues a packet Tandem generated for the endpoint of leg `target` (a room's mix, forwarded video, a
    /// keyframe request): copied into the send batch, then rewritten/protected like relayed packets. Dropped
    /// silently while the leg has no destination or does not send to its endpoint.
    @inline(__always)
    func sendGenerated(_ packet: UnsafeRawBufferPointer, to target: Int, isRTCP: Bool, now: UInt64) {
        let out = legs + target
        guard out.pointee.direction.sendsToEndpoint || isRTCP, packet.count <= Int(Self.bufferSize) - 32,
              let peer = isRTCP ? out.pointee.rtcpDestination : out.pointee.rtpDestination,
              let base = packet.baseAddress else { return }
        if sendCount == Self.batchCapacity { flushSends() }
        let j = sendCount
        guard let slotBuffer = tdm_batch_buffer(sendBatch, j) else { return }
        slotBuffer.update(from: base.assumingMemoryBound(to: UInt8.self), count: packet.count)
        if !isRTCP, packet.count >= RTPPacket.fixedHeaderSize {
            out.pointee.generatedPackets &+= 1
            out.pointee.generatedOctets &+= UInt32(truncatingIfNeeded: packet.count - RTPPacket.fixedHeaderSize)
            out.pointee.generatedTimestamp = Self.read32(slotBuffer + 4)
            out.pointee.generatedSSRC = Self.read32(slotBuffer + 8)
            out.pointee.generatedAt = now
        }
        let fd = isRTCP && !out.pointee.isRTCPMux ? out.pointee.rtcpFD : out.pointee.rtpFD
        _ = commitSend(slot: j, buffer: slotBuffer, length: packet.count, to: target, fd: fd, peer: peer,
                       isRTCP: isRTCP, now: now)
    }

    /// Every tick, before the rooms mix: whatever the participants' audio sockets hold.
    func readRoomSockets(now: UInt64) {
        guard !roomList.isEmpty else { return }
        while true {
            let n = tdm_epoll_wait(roomEpollFD, roomEpollEvents, Self.maxEpollEvents, 0)
            guard n > 0 else { return }
            for e in 0..<Int(n) {
                let socket = roomEpollEvents[e].data &- Self.socketTagBase
                readSocket(slot: Int(socket >> 1), isRTCPSocket: socket & 1 == 1, now: now)
            }
            if n < Self.maxEpollEvents { return }
        }
    }

    /// Moves a leg's sockets between the loop's epoll set and the per-tick one of the rooms.
    func watchOnTick(slot: Int32, _ onTick: Bool) {
        let tag = Self.socketTagBase + 2 * UInt64(slot)
        let (from, to) = onTick ? (epollFD, roomEpollFD) : (roomEpollFD, epollFD)
        for (fd, t) in [(legs[Int(slot)].rtpFD, tag), (legs[Int(slot)].rtcpFD, tag + 1)] {
            _ = tdm_epoll_remove(from, fd)
            _ = tdm_epoll_add(to, fd, UInt32(TDM_EPOLLIN), t)
        }
    }

    /// Every tick: each room mixes the frames now due, the forwarders run their timers, events go to the control
    /// side, and the room's audio legs get their sender reports.
    func produceRooms(now: UInt64) {
        guard !roomList.isEmpty else { return }
        let instant = Instant(nanoseconds: now)
        for room in roomList {
            if let spread = room.spread {
                produceSpreadRoom(room, spread, now: now)
            } else {
                var sink = RoomAudioSink(worker: self, room: room, now: now)
                room.room.produce(now: instant, sink: &sink)
            }
            var videoSink = RoomVideoSink(worker: self, room: room, now: now)
            room.video.tick(now: now, sink: &videoSink)
            while let event = room.room.nextEvent() { deliver(event, of: room, now: now) }
            for slot in room.audioSlots where slot >= 0 { reportGeneratedStream(to: Int(slot), now: now) }
        }
        flushSends()
    }

    private func deliver(_ event: ConferenceEvent, of room: WorkerRoom, now: UInt64) {
        func slot(_ p: Int) -> Int32 { p >= 0 && p < room.audioSlots.count ? room.audioSlots[p] : -1 }
        let home = room.homeWorker
        switch event {
        case .talking(let p):
            if slot(p) >= 0 { emit(slot: slot(p), .talking(true), room: room.number, roomWorker: home) }
            room.activeSpeaker = p
            if room.video.isMember(p) {
                var sink = RoomVideoSink(worker: self, room: room, now: now)
                room.video.setActiveSpeaker(p, now: now, sink: &sink)
            }
        case .stoppedTalking(let p):
            if slot(p) >= 0 { emit(slot: slot(p), .talking(false), room: room.number, roomWorker: home) }
        case .dtmf(let p, let code):
            if slot(p) >= 0, let digit = DTMFDigit(eventCode: Int(code)) { emit(slot: slot(p), .dtmf(digit), room: room.number, roomWorker: home) }
        case .playbackEnded(let p, let reason):
            if let p {
                if slot(p) >= 0 { emit(slot: slot(p), .playbackEnded(reason), room: room.number, roomWorker: home) }
            } else {
                emitRoomEvent(room.number, .playbackEnded(reason))
            }
        case .kicked(let p):
            if slot(p) >= 0 { emit(slot: slot(p), .kicked, room: room.number, roomWorker: home) }
            detach(room, participant: p)
        }
    }

    // MARK: - Commands (worker thread, between batches; may allocate)

    func apply(_ command: ConferenceCommand) {
        switch command {
        case .create(let room, let reply):
            rooms[room.number] = room
            roomList.append(room)
            reply.resume()
        case .joinAudio(let number, let leg, let format, let options, let reply):
            guard let room = rooms[number] else { return reply.resume(returning: .failure(.unknownRoom)) }
            guard isValid(leg), legs[Int(leg.slot)].room == nil else { return reply.resume(returning: .failure(.unknownLeg)) }
            do {
                let p = try room.room.join(format: format, ssrc: UInt32.random(in: 1...UInt32.max), options: options)
                room.audioSlots[p] = leg.slot
                legs[Int(leg.slot)].room = room
                legs[Int(leg.slot)].participant = Int32(p)
                legs[Int(leg.slot)].isVideoParticipant = false
                watchOnTick(slot: leg.slot, true)
                legs[Int(leg.slot)].clockRate = UInt64(format.codec.rtpClockRate)
                reply.resume(returning: .success(p))
            } catch {
                reply.resume(returning: .failure(.room(error)))
            }
        case .joinVideo(let number, let p, let leg, let format, let reply):
            guard let room = rooms[number] else { return reply.resume(returning: .failure(.unknownRoom)) }
            guard isValid(leg), legs[Int(leg.slot)].room == nil else { return reply.resume(returning: .failure(.unknownLeg)) }
            guard p >= 0, p < room.audioSlots.count, room.audioSlots[p] >= 0 else {
                return reply.resume(returning: .failure(.room(.noSuchParticipant(p))))
            }
            var sink = RoomVideoSink(worker: self, room: room, now: tdm_monotonic_ns())
            room.videoSlots[p] = leg.slot
            do {
                try room.video.join(participant: p, format: format, now: sink.now, sink: &sink)
                legs[Int(leg.slot)].room = room
                legs[Int(leg.slot)].participant = Int32(p)
                legs[Int(leg.slot)].isVideoParticipant = true
                legs[Int(leg.slot)].clockRate = 90_000
                if room.activeSpeaker < 0 || !room.video.isMember(room.activeSpeaker) {
                    room.activeSpeaker = p
                    room.video.setActiveSpeaker(p, now: sink.now, sink: &sink)
                }
                flushSends()
                reply.resume(returning: .success(()))
            } catch {
                room.videoSlots[p] = -1
                reply.resume(returning: .failure(.video(error)))
            }
        case .leave(let number, let p, let reply):
            guard let room = rooms[number] else { return reply.resume(returning: .failure(.unknownRoom)) }
            guard p >= 0, p < room.audioSlots.count, room.audioSlots[p] >= 0 else {
                return reply.resume(returning: .failure(.room(.noSuchParticipant(p))))
            }
            detach(room, participant: p)
            reply.resume(returning: .success(()))
        case .change(let number, let p, let change, let reply):
            guard let room = rooms[number] else { return reply.resume(returning: .failure(.unknownRoom)) }
            reply.resume(returning: apply(change, to: room, participant: p))
        case .destroy(let number, let reply):
            guard let room = rooms.removeValue(forKey: number) else { return reply.resume(returning: .failure(.unknownRoom)) }
            for p in room.audioSlots.indices where room.audioSlots[p] >= 0 { detach(room, participant: p) }
            room.room.stopRecording()
            roomList.removeAll { $0 === room }
            reply.resume(returning: .success(()))
        case .query(let number, let reply):
            guard let room = rooms[number] else { return reply.resume(returning: .failure(.unknownRoom)) }
            var snapshot = ConferenceRoomSnapshot(room: room.room.statistics, isLocked: room.room.isLocked,
                                                  selectedTalkers: room.spread?.mixer?.selectedTalkers ?? room.room.selectedTalkers,
                                                  participants: [])
            for p in room.audioSlots.indices where room.audioSlots[p] >= 0 {
                guard let s = room.room.statistics(of: p) else { continue }
                let slot = Int(room.audioSlots[p])
                let leg = MediaLegHandle(session: MediaSessionHandle(number: legs[slot].sessionNumber, worker: index),
                                         slot: Int32(slot), generation: legs[slot].generation)
                snapshot.participants.append(ConferenceParticipantSnapshot(
                    participant: p, leg: leg, audio: s, video: room.video.receiverStatistics(p)))
            }
            snapshot.video = room.video.counters
            reply.resume(returning: .success(snapshot))
        }
    }

    private func apply(_ change: WorkerConferenceChange, to room: WorkerRoom, participant p: Int?) -> Result<Void, ConferenceControlError> {
        do throws(ConferenceError) {
            switch change {
            case .participant(let c):
                guard let p else { return .failure(.room(.noSuchParticipant(-1))) }
                switch c {
                case .muted(let b): try room.room.setMuted(p, b)
                case .deaf(let b): try room.room.setDeaf(p, b)
                case .moderator(let b): try room.room.setModerator(p, b)
                case .inputGain(let dB): try room.room.setInputGain(p, dB: dB)
                case .outputGain(let dB): try room.room.setOutputGain(p, dB: dB)
                case .kick: try room.room.kick(p)
                case .pinVideo:
                    var sink = RoomVideoSink(worker: self, room: room, now: tdm_monotonic_ns())
                    do { try room.video.pin(p, now: sink.now, sink: &sink) } catch { return .failure(.video(error)) }
                    flushSends()
                }
            case .room(let c):
                switch c {
                case .locked(let b): if b { room.room.lock() } else { room.room.unlock() }
                case .muteAllButModerators: room.room.muteAll(exceptModerators: true)
                case .unpinVideo:
                    var sink = RoomVideoSink(worker: self, room: room, now: tdm_monotonic_ns())
                    room.video.unpin(now: sink.now, sink: &sink)
                    flushSends()
                }
            case .play(let source):
                if let p { try room.room.play(source, to: p) } else { try room.room.play(source) }
            case .stopPlayback:
                room.room.stopPlayback(participant: p)
            case .record(let channel):
                if let channel { room.room.startRecording(channel) } else { room.room.stopRecording() }
            }
        } catch {
            return .failure(.room(error))
        }
        return .success(())
    }

    /// Takes participant `p` out of the room and unbinds its legs (which stay open until their session is deleted).
    func detach(_ room: WorkerRoom, participant p: Int) {
        guard p >= 0, p < room.audioSlots.count else { return }
        room.room.leave(p)
        if room.video.isMember(p) { try? room.video.leave(participant: p) }
        for slot in [room.audioSlots[p], room.videoSlots[p]] where slot >= 0 {
            legs[Int(slot)].room = nil
            legs[Int(slot)].participant = -1
        }
        if room.audioSlots[p] >= 0 { watchOnTick(slot: room.audioSlots[p], false) }
        room.audioSlots[p] = -1
        room.videoSlots[p] = -1
        if room.activeSpeaker == p { room.activeSpeaker = -1 }
    }

    /// A leg being closed leaves its room first.
    func leaveRoom(slot: Int32) {
        guard let room = legs[Int(slot)].room else { return }
        let p = Int(legs[Int(slot)].participant)
        if legs[Int(slot)].isVideoParticipant {
            if room.video.isMember(p) { try? room.video.leave(participant: p) }
            room.videoSlots[p] = -1
            legs[Int(slot)].room = nil
        } else {
            detach(room, participant: p)
        }
    }
}
