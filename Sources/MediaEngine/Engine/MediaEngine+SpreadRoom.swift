import TandemBase

/// Where a spread room lives: its workers (the room's own first) and the next one a participant session goes to.
struct ConferenceSpreadPlacement: Sendable {
    var workers: [Int]
    var nextSession = 0
}

/// Conference rooms spread over several workers (`ConferenceRoomConfiguration.spreadAcrossWorkers` > 1).
///
/// The room's handle names its own worker (where the mixer runs); each of its workers holds a shard, a
/// `ConferenceRoom` with the participants whose sessions live there. Participant sessions are placed round-robin
/// over the room's workers by `createParticipantSession(id:in:)`. Participant indices are the room's:
/// index `i` of shard `k` is `i × shards + k`, so every control call finds the right worker. Room-wide playback,
/// recording and video are refused (`.room(.invalidConfiguration)`) in a spread room.
extension MediaEngine {
    func createSpreadRoom(id: String, configuration: ConferenceRoomConfiguration) async throws(ConferenceControlError)
        -> ConferenceRoomHandle
    {
        guard (2...16).contains(configuration.spreadAcrossWorkers) else { throw .room(.invalidConfiguration) }
        let workerCount = sessionsPerWorker.count
        let home: Int
        do { (home, _) = try leastLoadedWorker() } catch { throw .session(error) }
        let count = min(configuration.spreadAcrossWorkers, workerCount)
        let indices = (0..<count).map { (home + $0) % workerCount }
        var workers: [MediaWorker] = []
        for i in indices {
            do { workers.append(try worker(index: i)) } catch { throw .session(error) }
        }
        var shards: [ConferenceRoom] = []
        for k in 0..<count {
            let shard: ConferenceRoom
            do { shard = try ConferenceRoom(configuration: configuration) } catch { throw .room(error) }
            shard.spreadShard = k
            shard.spreadShardCount = count
            shards.append(shard)
        }
        let layout = ConferenceSpreadLayout(frameSamples: shards[0].frameSamples, maximumTalkers: configuration.maximumTalkers)
        let mixer = ConferenceSpreadMixer(layout: layout, shards: count, replacementMarginDB: configuration.replacementMarginDB)
        let handle = try conferences.withLock { (state) throws(ConferenceControlError) -> ConferenceRoomHandle in
            guard state.roomsByID[id] == nil else { throw .roomExists }
            let handle = ConferenceRoomHandle(number: state.nextNumber, worker: home)
            state.nextNumber += 1
            state.roomsByID[id] = handle
            state.configurations[handle] = configuration
            state.spread[handle] = ConferenceSpreadPlacement(workers: indices)
            return handle
        }
        var videoConfiguration = VideoForwarderConfiguration()
        videoConfiguration.capacity = configuration.maximumParticipants
        for k in 0..<count {
            let link = WorkerSpreadLink(shard: k, layout: layout, mixer: mixer, isHome: k == 0,
                                        helperWakeFDs: k == 0 ? workers.dropFirst().map(\.wakeFD) : [])
            let workerRoom = WorkerRoom(number: handle.number, room: shards[k],
                                        video: VideoForwarder(configuration: videoConfiguration))
            workerRoom.spread = link
            workerRoom.homeWorker = home
            let worker = workers[k]
            await withCheckedContinuation { c in Self.submit(.conference(.create(workerRoom, c)), to: worker) }
        }
        return handle
    }

    /// The placement of `room` when it is spread.
    func spreadPlacement(_ room: ConferenceRoomHandle) -> ConferenceSpreadPlacement? {
        conferences.withLock { $0.spread[room] }
    }

    /// The worker for the next participant session of a spread room (round-robin), nil for other rooms.
    func nextSpreadWorker(_ room: ConferenceRoomHandle) -> Int? {
        conferences.withLock { state in
            guard var placement = state.spread[room] else { return nil }
            let worker = placement.workers[placement.nextSession % placement.workers.count]
            placement.nextSession += 1
            state.spread[room] = placement
            return worker
        }
    }

    /// The worker and shard-local index of room participant `participant`.
    func spreadTarget(_ placement: ConferenceSpreadPlacement, _ participant: Int) throws(ConferenceControlError)
        -> (worker: Int, local: Int)
    {
        guard participant >= 0 else { throw .room(.noSuchParticipant(participant)) }
        let count = placement.workers.count
        return (placement.workers[participant % count], participant / count)
    }

    func joinSpread(
        _ room: ConferenceRoomHandle, _ placement: ConferenceSpreadPlacement, audio leg: MediaLegHandle,
        format: AudioEndpointFormat, options: ConferenceParticipantOptions
    ) async throws(ConferenceControlError) -> Int {
        guard let shard = placement.workers.firstIndex(of: leg.session.worker) else { throw .unknownLeg }
        let worker: MediaWorker
        do { worker = try self.worker(index: leg.session.worker) } catch { throw .session(error) }
        let result = await withCheckedContinuation { c in
            Self.submit(.conference(.joinAudio(room.number, leg, format, options, c)), to: worker)
        }
        return try result.get() * placement.workers.count + shard
    }

    /// Every shard's snapshot, merged, with participant indices of the room.
    func spreadStatistics(_ room: ConferenceRoomHandle, _ placement: ConferenceSpreadPlacement)
        async throws(ConferenceControlError) -> ConferenceRoomSnapshot
    {
        let count = placement.workers.count
        var merged: ConferenceRoomSnapshot?
        for (shard, index) in placement.workers.enumerated() {
            let worker: MediaWorker
            do { worker = try self.worker(index: index) } catch { throw .session(error) }
            let result = await withCheckedContinuation { c in Self.submit(.conference(.query(room.number, c)), to: worker) }
            var snapshot = try result.get()
            for i in snapshot.participants.indices {
                snapshot.participants[i].participant = snapshot.participants[i].participant * count + shard
            }
            guard var m = merged else {
                merged = snapshot
                continue
            }
            m.participants += snapshot.participants
            let s = snapshot.room
            m.room.participants += s.participants
            m.room.encodersInUse += s.encodersInUse
            m.room.encodeGroups += s.encodeGroups
            m.room.clockResyncs += s.clockResyncs
            m.room.eventsDropped += s.eventsDropped
            m.room.packetsSent += s.packetsSent
            m.room.framesEncoded += s.framesEncoded
            m.room.encodeErrors += s.encodeErrors
            m.room.lastTickNanoseconds = max(m.room.lastTickNanoseconds, s.lastTickNanoseconds)
            m.room.maximumTickNanoseconds = max(m.room.maximumTickNanoseconds, s.maximumTickNanoseconds)
            merged = m
        }
        guard var result = merged else { throw .unknownRoom }
        result.participants.sort { $0.participant < $1.participant }
        return result
    }
}
