import NIOCore

/// Who is connected and in which rooms, as presence, the cluster's directory and the service's hooks see it.
extension MessageDispatcher {
    /// After the welcome: the connection can be found by id (and by user), and the connect hook runs.
    func announce(_ connection: WebSocketConnection) {
        connection.session.announced = true
        let user = connection.session.auth.identity.userID
        hub.shard(for: connection.eventLoop).identify(connection, previousUser: nil, user: user)
        broker.directoryChanged(.connection(connection.id), by: 1)
        if let user { broker.directoryChanged(.user(user), by: 1) }
        if let onConnect = definition.hooks.onConnect, let hookQueue {
            let client = ClientInfo(connection)
            hookQueue.enqueue { await onConnect(client) }
        }
    }

    /// A token refresh named another user: direct messages to either follow.
    func reidentify(_ connection: WebSocketConnection, from previous: String?) {
        let user = connection.session.auth.identity.userID
        guard connection.session.announced, previous != user else { return }
        hub.shard(for: connection.eventLoop).identify(connection, previousUser: previous, user: user)
        if let previous { broker.directoryChanged(.user(previous), by: -1) }
        if let user { broker.directoryChanged(.user(user), by: 1) }
    }

    /// The connection is gone: it leaves the rooms it was still in (and one its subscribe hook was deciding),
    /// then the directory, then the disconnect hook runs.
    func withdraw(_ connection: WebSocketConnection) {
        left(connection.session.rooms, connection)
        if let pending = connection.session.subscribeHook, let onUnsubscribe = definition.hooks.onUnsubscribe, let hookQueue {
            // It went while its subscribe hook ran: if the hook let it in, the service hears it leave.
            connection.session.subscribeHook = nil
            let client = ClientInfo(connection)
            hookQueue.enqueue { if pending.isAccepted { await onUnsubscribe(client, pending.room) } }
        }
        guard connection.session.announced else { return }
        connection.session.announced = false
        broker.directoryChanged(.connection(connection.id), by: -1)
        if let user = connection.session.auth.identity.userID { broker.directoryChanged(.user(user), by: -1) }
        if let onDisconnect = definition.hooks.onDisconnect, let hookQueue {
            let client = ClientInfo(connection)
            hookQueue.enqueue { await onDisconnect(client) }
        }
    }

    /// The connection joined `room`: presence records it (if the room's channel has presence).
    func joined(_ room: String, _ connection: WebSocketConnection) {
        guard presence.mode(of: room) != .off else { return }
        let now = Timestamp.now()
        connection.session.presenceJoinedAt[room] = now
        presence.joined(
            room, RoomMember(connectionID: connection.id, userID: connection.session.auth.identity.userID, joinedAt: now))
    }

    /// The connection left these rooms (or is about to, as it closes): presence and the unsubscribe hook hear it.
    func left<Rooms: Sequence<String>>(_ rooms: Rooms, _ connection: WebSocketConnection) {
        let client = ClientInfo(connection)
        for room in rooms {
            if connection.session.presenceJoinedAt.removeValue(forKey: room) != nil {
                presence.left(room, RoomMember(connectionID: client.connectionID, userID: client.userID, joinedAt: nil))
            }
            if let onUnsubscribe = definition.hooks.onUnsubscribe, let hookQueue {
                hookQueue.enqueue { await onUnsubscribe(client, room) }
            }
        }
    }
}

extension MessageDispatcher {
    /// `{"type":"request","event":"presence","data":{"room":R,"limit":N}}` (docs/protocol.md, "Presence").
    func answerPresence(_ request: Envelope, _ connection: WebSocketConnection) throws(ProtocolError) {
        guard let room = (request.data["room"] ?? request.data["channel"])?.stringValue, !room.isEmpty else {
            throw .validation("presence requires data.room: a non-empty string")
        }
        try definition.catalog.validateSubscription(room)
        guard let channel = definition.catalog.channel(for: room), channel.presence != .off else {
            throw .validation("'\(room)' has no presence: its channel does not report who is in it")
        }
        guard connection.session.auth.identity.maySubscribe(channel, service: name) else {
            throw ProtocolError(.forbidden, "Not authorized to see who is in \(room)")
        }
        let limit = try RequestContext(request: request, connectionID: connection.id)
            .integer("limit", in: 1...presence.maxMembers, default: presence.maxMembers)
        whileHolding(connection, { try await self.presence.reply(for: room, limit: limit) }) { [self] connection, result in
            switch result {
            case .success(let data): send(to: connection, .response(to: request, data: data))
            case .failure:
                reply(
                    to: connection, error: ProtocolError(.internalError, "Presence is unavailable right now"),
                    correlationID: request.replyCorrelationID)
            }
            release(connection)
        }
    }
}

extension ClientInfo {
    init(_ connection: WebSocketConnection) {
        self.init(connectionID: connection.id, userID: connection.session.auth.identity.userID)
    }
}
