import NIOCore

/// A client's `publish` request: one event, a batch in `data.events`, or a direct message (`data.to_connection`
/// or `data.to_user`), answered with an `ack`. Producers (`Identity.mayPublish`) publish anywhere the catalogue
/// allows; any other client only to the client-to-client rooms it is in (docs/security.md).
extension MessageDispatcher {
    /// `{"type":"request","event":"publish","data":{"room":R,"event":E,"data":{...}}}` → `ack` with the count.
    func publish(_ request: Envelope, from connection: WebSocketConnection) throws(ProtocolError) {
        let identity = connection.session.auth.identity
        let producer = identity.mayPublish(service: name)
        if let target = try Self.directTarget(request.data) {
            guard producer else { throw Publisher.notAllowed }
            let message = try Publisher.parseDirect(
                request.data, to: target, publisher: identity.publisher, fromConnection: connection.id)
            return acknowledge(request, connection, publisher.publishDirect(message, resultOn: connection.eventLoop)) {
                ["status": "delivered", target.key: .string(target.value), "connections": JSONValue($0)]
            }
        }
        if case .array(let items)? = request.data["events"] {
            let reply = try publisher.publishBatch(
                items, publisher: identity.publisher, fromConnection: connection.id,
                mayPublish: { room in producer || clientsPublish(to: room, connection) }, resultOn: connection.eventLoop)
            return acknowledge(request, connection, reply) { $0 }
        }
        guard let room = request.data["room"]?.stringValue else {
            throw .validation("publish requires data.room and data.event (strings) and data.data (object), or data.events")
        }
        guard producer || clientsPublish(to: room, connection) else {
            guard definition.catalog.channel(for: room)?.clientsPublish == true else { throw Publisher.notAllowed }
            throw ProtocolError(.forbidden, "Subscribe to '\(room)' before publishing to it")
        }
        let event = try Publisher.eventName(request.data["event"])
        let payload = try Publisher.payload(request.data["data"], named: "publish data.data")
        let item = PublishItem(
            event: event, room: room, data: payload, publisher: identity.publisher, fromConnection: connection.id)
        acknowledge(request, connection, try publisher.publish(item, resultOn: connection.eventLoop)) { count in
            [
                "status": "published", "room": .string(room), "event": event.map(JSONValue.string) ?? .null,
                "subscribers": JSONValue(count),
            ]
        }
    }

    /// A client-to-client room the connection is in: its members publish to each other.
    private func clientsPublish(to room: String, _ connection: WebSocketConnection) -> Bool {
        connection.session.rooms.contains(room) && definition.catalog.channel(for: room)?.clientsPublish == true
    }

    /// The `ack` once the outcome is known, or the error.
    private func acknowledge<T: Sendable>(
        _ request: Envelope, _ connection: WebSocketConnection, _ outcome: EventLoopFuture<T>,
        _ data: @escaping @Sendable (T) -> JSONObject
    ) {
        let sender = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        outcome.whenComplete { [self] result in
            switch result {
            case .success(let value):
                send(
                    to: sender.value,
                    Envelope(correlationID: request.replyCorrelationID, type: .ack, event: "publish", data: data(value)))
            case .failure(let error):
                reply(to: sender.value, error: Publisher.failure(error), correlationID: request.replyCorrelationID)
            }
        }
    }

    /// `data.to_connection` or `data.to_user` (not both): the target of a direct message, if this is one.
    static func directTarget(_ data: JSONObject) throws(ProtocolError) -> DirectTarget? {
        switch (data["to_connection"], data["to_user"]) {
        case (nil, nil): return nil
        case (.string(let id)?, nil) where !id.isEmpty: return .connection(id)
        case (nil, .string(let id)?) where !id.isEmpty: return .user(id)
        case (_?, _?): throw .validation("A direct message goes to_connection or to_user, not both")
        default: throw .validation("to_connection and to_user must be non-empty strings")
        }
    }
}
