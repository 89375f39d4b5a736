import Codecs
import RTP
import Synchronization
import TandemBase

/// A conference room in the engine: its number and the worker it lives on for its whole life.
public struct ConferenceRoomHandle: Hashable, Sendable {
    public let number: UInt64
    public let worker: Int
}

/// Why a conference control call failed.
public enum ConferenceControlError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownRoom
    case roomExists
    /// The leg is unknown, or already in a room.
    case unknownLeg
    case session(MediaSessionError)
    case room(ConferenceError)
    case video(VideoForwarderError)
    case playback(PlaybackError)
    case recording(RecordingError)
    case notRecording

    public var description: String {
        switch self {
        case .unknownRoom: "unknown conference room"
        case .roomExists: "a conference room with this id already exists"
        case .unknownLeg: "unknown media leg, or already in a room"
        case .session(let e): e.description
        case .room(.full): "the conference room is full"
        case .room(.locked): "the conference room is locked"
        case .room(.noSuchParticipant(let p)): "no participant \(p) in the conference room"
        case .room(.unsupportedFormat(let e)): "unsupported audio format: \(e)"
        case .room(let e): "conference room: \(e)"
        case .video(let e): "video forwarder: \(e)"
        case .playback(let e): "playback: \(e)"
        case .recording(let e): "recording: \(e)"
        case .notRecording: "the conference room is not being recorded"
        }
    }
}

/// A change to one participant of a room.
public enum ConferenceParticipantChange: Sendable, Equatable {
    case muted(Bool)
    case deaf(Bool)
    case moderator(Bool)
    case inputGain(Double)
    case outputGain(Double)
    /// Removes the participant (its legs stay until their session is deleted) and reports `kicked`.
    case kick
    /// Forwards this participant's video to everyone, whoever talks.
    case pinVideo
}

/// A change to a whole room.
public enum ConferenceRoomChange: Sendable, Equatable {
    case locked(Bool)
    case muteAllButModerators
    /// Video follows the active speaker again.
    case unpinVideo
}

/// One participant's state and totals.
public struct ConferenceParticipantSnapshot: Sendable, Equatable {
    public var participant: Int
    /// The participant's audio leg.
    public var leg: MediaLegHandle
    public var audio: ConferenceParticipantStatistics
    public var video: VideoReceiverStatistics?
}

/// A room's state and totals, read on its worker.
public struct ConferenceRoomSnapshot: Sendable, Equatable {
    public var room: ConferenceRoomStatistics
    public var isLocked: Bool
    public var selectedTalkers: [Int]
    public var participants: [ConferenceParticipantSnapshot]
    public var video = VideoForwarderCounters()
}

/// Control-side bookkeeping of rooms: ids, configurations, recordings.
struct ConferenceRegistry: @unchecked Sendable {
    // Recording channels are only referenced here; the worker writes into them.
    var roomsByID: [String: ConferenceRoomHandle] = [:]
    var configurations: [ConferenceRoomHandle: ConferenceRoomConfiguration] = [:]
    var recordings: [ConferenceRoomHandle: RecordingChannel] = [:]
    var nextNumber: UInt64 = 1
    /// Rooms spread over several workers (MediaEngine+SpreadRoom.swift).
    var spread: [ConferenceRoomHandle: ConferenceSpreadPlacement] = [:]
}

extension MediaEngine {
    /// Creates room `id` on the least loaded worker. Its participants' sessions must be created with
    /// `createParticipantSession(id:in:)` so that they live on the same worker.
    public func createRoom(
        id: String, configuration: ConferenceRoomConfiguration = ConferenceRoomConfiguration(),
        video: VideoForwarderConfiguration? = nil
    ) async throws(ConferenceControlError) -> ConferenceRoomHandle {
        if configuration.spreadAcrossWorkers > 1, sessionsPerWorker.count > 1 {
            return try await createSpreadRoom(id: id, configuration: configuration)
        }
        let room: ConferenceRoom
        do { room = try ConferenceRoom(configuration: configuration) } catch { throw .room(error) }
        var videoConfiguration = video ?? VideoForwarderConfiguration()
        videoConfiguration.capacity = configuration.maximumParticipants
        let forwarder = VideoForwarder(configuration: videoConfiguration)
        let (workerIndex, worker): (Int, MediaWorker)
        do { (workerIndex, worker) = try leastLoadedWorker() } catch { throw .session(error) }
        let handle = try conferences.withLock { (state) throws(ConferenceControlError) -> ConferenceRoomHandle in
            guard state.roomsByID[id] == nil else { throw .roomExists }
            let handle = ConferenceRoomHandle(number: state.nextNumber, worker: workerIndex)
            state.nextNumber += 1
            state.roomsByID[id] = handle
            state.configurations[handle] = configuration
            return handle
        }
        let workerRoom = WorkerRoom(number: handle.number, room: room, video: forwarder)
        await withCheckedContinuation { c in Self.submit(.conference(.create(workerRoom, c)), to: worker) }
        return handle
    }

    /// The room named `id`, if it exists.
    public func room(id: String) -> ConferenceRoomHandle? {
        conferences.withLock { $0.roomsByID[id] }
    }

    /// The ids of the rooms that exist.
    public var roomIDs: [String] {
        conferences.withLock { Array($0.roomsByID.keys) }
    }

    /// The configuration `room` was created with.
    public func configuration(of room: ConferenceRoomHandle) -> ConferenceRoomConfiguration? {
        conferences.withLock { $0.configurations[room] }
    }

    /// Creates a media session for a participant of `room`, on the room's worker; add its legs with `addLeg`.
    public func createParticipantSession(id: String, in room: ConferenceRoomHandle) async throws(ConferenceControlError)
        -> MediaSessionHandle
    {
        let worker = nextSpreadWorker(room) ?? room.worker
        do { return try await createSession(id: id, worker: worker) } catch { throw .session(error) }
    }

    /// Adds `leg` (a leg of a participant session of this room) as a participant sending and receiving `format`.
    /// Returns the participant's index in the room.
    public func join(
        _ room: ConferenceRoomHandle, audio leg: MediaLegHandle, format: AudioEndpointFormat,
        options: ConferenceParticipantOptions = ConferenceParticipantOptions()
    ) async throws(ConferenceControlError) -> Int {
        if let placement = spreadPlacement(room) {
            return try await joinSpread(room, placement, audio: leg, format: format, options: options)
        }
        guard leg.session.worker == room.worker else { throw .unknownLeg }
        let worker = try roomWorker(room)
        let result = await withCheckedContinuation { c in
            Self.submit(.conference(.joinAudio(room.number, leg, format, options, c)), to: worker)
        }
        return try result.get()
    }

    /// Adds `leg` as the video leg of participant `participant` (which joined with audio first).
    public func joinVideo(
        _ room: ConferenceRoomHandle, participant: Int, leg: MediaLegHandle, format: VideoParticipantFormat
    ) async throws(ConferenceControlError) {
        guard spreadPlacement(room) == nil else { throw .room(.invalidConfiguration) }
        guard leg.session.worker == room.worker else { throw .unknownLeg }
        let worker = try roomWorker(room)
        let result = await withCheckedContinuation { c in
            Self.submit(.conference(.joinVideo(room.number, participant: participant, leg, format, c)), to: worker)
        }
        try result.get()
    }

    /// Takes a participant out of the room; its legs stay open until its session is deleted (deleting the
    /// session also leaves the room).
    public func leave(_ room: ConferenceRoomHandle, participant: Int) async throws(ConferenceControlError) {
        if let placement = spreadPlacement(room) {
            let (worker, local) = try spreadTarget(placement, participant)
            return try await conferenceCommand(room, on: worker) { .leave(room.number, participant: local, $0) }
        }
        try await conferenceCommand(room) { .leave(room.number, participant: participant, $0) }
    }

    /// Mutes, deafens, sets gains of, promotes, pins or kicks one participant.
    public func update(_ room: ConferenceRoomHandle, participant: Int, _ change: ConferenceParticipantChange)
        async throws(ConferenceControlError)
    {
        if let placement = spreadPlacement(room) {
            guard change != .pinVideo else { throw .room(.invalidConfiguration) }
            let (worker, local) = try spreadTarget(placement, participant)
            return try await conferenceCommand(room, on: worker) {
                .change(room.number, participant: local, .participant(change), $0)
            }
        }
        try await conferenceCommand(room) { .change(room.number, participant: participant, .participant(change), $0) }
    }

    /// Locks or unlocks the room, mutes everyone but the moderators, unpins video.
    public func update(_ room: ConferenceRoomHandle, _ change: ConferenceRoomChange) async throws(ConferenceControlError) {
        if let placement = spreadPlacement(room) {
            for worker in placement.workers {
                try await conferenceCommand(room, on: worker) { .change(room.number, participant: nil, .room(change), $0) }
            }
            return
        }
        try await conferenceCommand(room) { .change(room.number, participant: nil, .room(change), $0) }
    }

    /// Plays `request` to the whole room (mixed into everyone's audio) or to one participant; the end is reported
    /// as a `playbackEnded` event (of the participant's leg, or of the room). Blocking file I/O for files.
    public func play(_ request: PlaybackRequest, in room: ConferenceRoomHandle, to participant: Int? = nil)
        async throws(ConferenceControlError)
    {
        guard let configuration = configuration(of: room) else { throw .unknownRoom }
        if spreadPlacement(room) != nil && participant == nil { throw .room(.invalidConfiguration) }
        let source: PlaybackSource
        do { source = try request.makeSource(sampleRate: configuration.sampleRate) } catch { throw .playback(error) }
        if let placement = spreadPlacement(room), let participant {
            let (worker, local) = try spreadTarget(placement, participant)
            return try await conferenceCommand(room, on: worker) { .change(room.number, participant: local, .play(source), $0) }
        }
        try await conferenceCommand(room) { .change(room.number, participant: participant, .play(source), $0) }
    }

    /// Stops the room's playback, or one participant's.
    public func stopPlayback(in room: ConferenceRoomHandle, participant: Int? = nil) async throws(ConferenceControlError) {
        if let placement = spreadPlacement(room) {
            guard let participant else { throw .room(.invalidConfiguration) }
            let (worker, local) = try spreadTarget(placement, participant)
            return try await conferenceCommand(room, on: worker) { .change(room.number, participant: local, .stopPlayback, $0) }
        }
        try await conferenceCommand(room) { .change(room.number, participant: participant, .stopPlayback, $0) }
    }

    /// Records the room's mix (mono, at the room rate unless `options` says otherwise) to `path`.
    public func startRecording(
        room: ConferenceRoomHandle, writer: RecordingWriter, path: String, options: RecordingOptions? = nil
    ) async throws(ConferenceControlError) -> RecordingChannel {
        guard let configuration = configuration(of: room) else { throw .unknownRoom }
        guard spreadPlacement(room) == nil else { throw .room(.invalidConfiguration) }
        let channel: RecordingChannel
        do {
            channel = try writer.start(path: path, options: options ?? RecordingOptions(mode: .mono, sampleRate: configuration.sampleRate))
        } catch { throw .recording(error) }
        do {
            try await conferenceCommand(room) { .change(room.number, participant: nil, .record(channel), $0) }
        } catch {
            channel.stop()
            throw error
        }
        conferences.withLock { state in
            state.recordings[room]?.stop()
            state.recordings[room] = channel
        }
        return channel
    }

    /// Stops the room's recording; the writer finalises the file.
    public func stopRecording(room: ConferenceRoomHandle) async throws(ConferenceControlError) {
        guard conferences.withLock({ $0.recordings.removeValue(forKey: room) }) != nil else { throw .notRecording }
        try await conferenceCommand(room) { .change(room.number, participant: nil, .record(nil), $0) }
    }

    /// The room's state and every participant's totals.
    public func statistics(of room: ConferenceRoomHandle) async throws(ConferenceControlError) -> ConferenceRoomSnapshot {
        if let placement = spreadPlacement(room) { return try await spreadStatistics(room, placement) }
        let worker = try roomWorker(room)
        let result = await withCheckedContinuation { c in Self.submit(.conference(.query(room.number, c)), to: worker) }
        return try result.get()
    }

    /// Removes the room: every participant leaves (their sessions stay until deleted), its recording is finalised.
    public func destroyRoom(_ room: ConferenceRoomHandle) async throws(ConferenceControlError) {
        if let placement = spreadPlacement(room) {
            for worker in placement.workers { try await conferenceCommand(room, on: worker) { .destroy(room.number, $0) } }
        } else {
            try await conferenceCommand(room) { .destroy(room.number, $0) }
        }
        conferences.withLock { state in
            state.roomsByID = state.roomsByID.filter { $0.value != room }
            state.configurations[room] = nil
            state.recordings.removeValue(forKey: room)?.stop()
            state.spread[room] = nil
        }
    }

    // MARK: - Helpers

    func roomWorker(_ room: ConferenceRoomHandle) throws(ConferenceControlError) -> MediaWorker {
        guard conferences.withLock({ $0.configurations[room] != nil }) else { throw .unknownRoom }
        do { return try worker(index: room.worker) } catch { throw .session(error) }
    }

    func conferenceCommand(
        _ room: ConferenceRoomHandle, on workerIndex: Int? = nil,
        _ make: (CheckedContinuation<Result<Void, ConferenceControlError>, Never>) -> ConferenceCommand
    ) async throws(ConferenceControlError) {
        var worker = try roomWorker(room)
        if let workerIndex { do { worker = try self.worker(index: workerIndex) } catch { throw .session(error) } }
        let result = await withCheckedContinuation { c in Self.submit(.conference(make(c)), to: worker) }
        try result.get()
    }
}
