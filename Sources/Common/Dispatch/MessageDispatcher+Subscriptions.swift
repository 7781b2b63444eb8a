import NIOCore

/// Subscribe and unsubscribe (docs/protocol.md, "Client messages"), with resume from a position (`data.since`).
extension MessageDispatcher {
    /// Subscribe/unsubscribe in every form old and new clients send (docs/protocol.md, "Client messages").
    func changeSubscription(
        _ request: Envelope, subscribe: Bool, _ connection: WebSocketConnection
    )
        throws(ProtocolError)
    {
        let action = subscribe ? "subscribe" : "unsubscribe"
        guard let room = (request.data["channel"] ?? request.data["room"])?.stringValue, !room.isEmpty else {
            throw ProtocolError(.invalidChannel, "\(action) requires data.channel (or data.room): a non-empty string")
        }
        guard subscribe else {
            try RoomName.validate(room)
            if hub.shard(for: connection.eventLoop).leave(room, connection) { left([room], connection) }
            return send(
                to: connection, .response(to: request, event: action, data: ["status": "unsubscribed", "channel": .string(room)]))
        }
        try definition.catalog.validateSubscription(room)
        if let channel = definition.catalog.channel(for: room),
            !connection.session.auth.identity.maySubscribe(channel, service: name)
        {
            throw ProtocolError(.forbidden, "Not authorized to subscribe to \(room)")
        }
        guard connection.session.rooms.count < settings.maxSubscriptions || connection.session.rooms.contains(room) else {
            throw ProtocolError(
                .tooManySubscriptions, "A connection may be in at most \(settings.maxSubscriptions) rooms; unsubscribe first")
        }
        let since = try Self.position(request.data["since"])
        if connection.session.rooms.contains(room) {
            // Already subscribed: events are flowing; nothing to replay.
            return send(
                to: connection, .response(to: request, event: action, data: ["status": "subscribed", "channel": .string(room)]))
        }
        guard let onSubscribe = definition.hooks.onSubscribe, let hookQueue else {
            join(request, room: room, since: since, connection)
            return
        }
        // The service's hook may refuse; later messages wait for its verdict.
        let client = ClientInfo(connection)
        let pending = SubscribeVerdict(room: room)
        connection.session.subscribeHook = pending
        // Queued here, on the loop, so it runs before any hook of this connection's later messages or close.
        let hook = hookQueue.submit(on: connection.eventLoop) {
            try await onSubscribe(client, room)
            pending.accept()
        }
        whileHolding(connection, { try await hook.get() }) { [self] connection, verdict in
            // A connection that went meanwhile is balanced by `withdraw` (the unsubscribe hook if accepted).
            guard !connection.isFinished, !connection.isClosing else { return release(connection) }
            connection.session.subscribeHook = nil
            switch verdict {
            case .success:
                if join(request, room: room, since: since, connection) { release(connection) }
            case .failure(let error):
                reply(
                    to: connection,
                    error: error as? ProtocolError ?? ProtocolError(.internalError, "The subscribe hook failed: \(error)"),
                    correlationID: request.replyCorrelationID)
                release(connection)
            }
        }
    }

    /// Joins the room and confirms, replaying from `since`; returns false when that waits for the cluster's
    /// history (which then confirms and releases the connection's held messages itself).
    @discardableResult
    func join(_ request: Envelope, room: String, since: RoomPosition?, _ connection: WebSocketConnection) -> Bool {
        // Clustered, and this instance cannot replay from its own history: read the room's stream in Redis.
        guard let joined = hub.join(room, connection, since: since, onlyIfRecoverable: broker.sharesHistory) else {
            resumeFromCluster(request, room: room, since: since!, connection)
            return false
        }
        confirmSubscription(
            request, room: room, recovered: since.map { _ in joined.replay != nil }, replay: joined.replay ?? [],
            position: joined.position, connection)
        return true
    }

    /// The subscribe reply, then the replayed frames (before any live one: the guard set at join holds those).
    func confirmSubscription(
        _ request: Envelope, room: String, recovered: Bool?, replay: [ByteBuffer], position: RoomPosition?,
        _ connection: WebSocketConnection
    ) {
        var reply: JSONObject = ["status": "subscribed", "channel": .string(room)]
        if let position {
            reply["seq"] = JSONValue(position.seq)
            reply["epoch"] = .string(position.epoch)
        }
        if let recovered { reply["recovered"] = .bool(recovered) }
        joined(room, connection)
        send(to: connection, .response(to: request, event: "subscribe", data: reply))
        for frame in replay { connection.write(frame, flush: false) }
        if !replay.isEmpty { connection.flush() }
    }

    /// `data.since`: `{"seq": N, "epoch": "E"}`, the last event the client has from this room.
    static func position(_ value: JSONValue?) throws(ProtocolError) -> RoomPosition? {
        guard let value, value != .null else { return nil }
        guard let seq = value["seq"]?.intValue, seq >= 0, let epoch = value["epoch"]?.stringValue else {
            throw .validation("data.since must be {\"seq\": <integer >= 0>, \"epoch\": <string>}")
        }
        return RoomPosition(seq: Int(seq), epoch: epoch)
    }
}
