import NIOCore

/// A client's `publish` request: one event, or a batch in `data.events`, answered with an `ack`.
extension MessageDispatcher {
    /// `{"type":"request","event":"publish","data":{"room":R,"event":E,"data":{...}}}` → `ack` with the count.
    func publish(_ request: Envelope, from connection: WebSocketConnection) throws(ProtocolError) {
        guard connection.session.auth.identity.mayPublish(service: name) else {
            throw Publisher.notAllowed
        }
        if case .array(let items)? = request.data["events"] {
            let reply = try publisher.publishBatch(
                items, publisher: connection.session.auth.identity.publisher, resultOn: connection.eventLoop)
            let sender = NIOLoopBound(connection, eventLoop: connection.eventLoop)
            reply.whenSuccess { [self] data in
                send(
                    to: sender.value,
                    Envelope(correlationID: request.replyCorrelationID, type: .ack, event: "publish", data: data))
            }
            return
        }
        guard let room = request.data["room"]?.stringValue else {
            throw .validation("publish requires data.room and data.event (strings) and data.data (object), or data.events")
        }
        let event = try Publisher.eventName(request.data["event"])
        let payload: JSONObject
        switch request.data["data"] {
        case nil, .null?: payload = [:]
        case .object(let object)?: payload = object
        case let other?: throw .validation("publish data.data must be an object, got \(other.typeName)")
        }
        let delivered = try publisher.publish(
            PublishItem(event: event, room: room, data: payload, publisher: connection.session.auth.identity.publisher),
            resultOn: connection.eventLoop)
        let sender = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        delivered.whenComplete { [self] result in
            switch result {
            case .success(let count):
                send(
                    to: sender.value,
                    Envelope(
                        correlationID: request.replyCorrelationID, type: .ack, event: "publish",
                        data: [
                            "status": "published", "room": .string(room), "event": event.map(JSONValue.string) ?? .null,
                            "subscribers": JSONValue(count),
                        ]))
            case .failure(let error):
                reply(to: sender.value, error: Publisher.failure(error), correlationID: request.replyCorrelationID)
            }
        }
    }
}
