import NIOCore

/// Resume on a clustered service when this instance's own history cannot replay the gap (it started after
/// the events, or was cut off from Redis): the room's stream in Redis is read instead (docs/scaling.md, docs/clients.md "What resume guarantees").
extension MessageDispatcher {
    /// How long a subscribe waits for Redis before it goes on without a replay (a stalled Redis must not
    /// hold a connection's messages for ever).
    static let clusterReadTimeout = TimeAmount.seconds(2)

    func resumeFromCluster(_ request: Envelope, room: String, since: RoomPosition, _ connection: WebSocketConnection) {
        // Messages after this subscribe wait, so replies and events keep the order the client sent them in.
        hold(connection)
        let loop = connection.eventLoop
        let read = loop.makePromise(of: ClusterHistory.self)
        broker.history(room, after: since, on: loop).cascade(to: read)
        let timeout = loop.scheduleTask(in: Self.clusterReadTimeout) {
            read.fail(ProtocolError(.brokerUnavailable, "The room's history read timed out"))
        }
        let bound = NIOLoopBound(connection, eventLoop: loop)
        read.futureResult.whenComplete { [self] result in
            timeout.cancel()
            let connection = bound.value
            defer { release(connection) }
            guard !connection.isFinished, !connection.isClosing else { return }
            // Redis down: subscribe anyway (local clients keep being served), without a replay.
            let cluster = try? result.get()
            if let snapshot = cluster?.position, let newer = hub.join(room, connection, after: snapshot) {
                // Joined at the snapshot: the frames this instance got since then follow the recovered ones.
                let recovered = cluster?.envelopes.map { $0.map(ServerFrame.text) }
                confirmSubscription(
                    request, room: room, recovered: recovered != nil, replay: (recovered ?? []) + newer,
                    position: RoomPosition(seq: snapshot.seq + newer.count, epoch: snapshot.epoch), connection)
            } else {
                // The room has no events in Redis, or this instance holds only part of what followed the read.
                let joined = hub.join(room, connection, since: since)!
                let recovered = joined.replay != nil && cluster?.envelopes != nil
                confirmSubscription(
                    request, room: room, recovered: recovered, replay: recovered ? joined.replay! : [],
                    position: joined.position ?? cluster?.position, connection)
            }
        }
    }
}
