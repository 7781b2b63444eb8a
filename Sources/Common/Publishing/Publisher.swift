import NIOCore

/// The one way in for events, from every producer (the typed broadcasters, a client's `publish`, `POST
/// /api/events`, the MCP tool): each event is validated against the catalogue once, stamped, encoded once, and
/// handed to the broker, which orders it and brings it to the fan-out.
final class Publisher: Sendable {
    private let catalog: EventCatalog
    private let broker: any Broker
    /// `publish_batch_max`.
    private let batchMax: Int

    init(catalog: EventCatalog, broker: any Broker, batchMax: Int) {
        self.catalog = catalog
        self.broker = broker
        self.batchMax = batchMax
    }

    /// The future (on `loop`) holds how many subscribers of this instance the event was handed to.
    func publish(_ item: PublishItem, resultOn loop: any EventLoop) throws(ProtocolError) -> EventLoopFuture<Int> {
        broker.publish([try prepare(item)], on: loop)[0]
    }

    /// A batch: each event validated on its own, the valid ones ordered in one step, so a room's events of the
    /// batch have consecutive positions and arrive in batch order; one result per event, in order.
    func publish(batch items: [PublishItem], resultOn loop: any EventLoop) -> [Result<EventLoopFuture<Int>, ProtocolError>] {
        let prepared = items.map { item in Result { () throws(ProtocolError) in try prepare(item) } }
        let valid = prepared.compactMap { try? $0.get() }
        var delivered = (valid.isEmpty ? [] : broker.publish(valid, on: loop)).makeIterator()
        return prepared.map { result in result.map { _ in delivered.next()! } }
    }

    /// An event the server itself sends (presence), which the catalogue refuses from producers.
    func publishServerEvent(_ event: String, room: String, data: JSONObject, resultOn loop: any EventLoop) -> EventLoopFuture<Int>
    {
        broker.publish([encode(PublishItem(event: event, room: room, data: data))], on: loop)[0]
    }

    /// A direct message (docs/protocol.md, "Direct messages"): a named event with an object payload, stamped
    /// like a room event, for one connection or every connection of one user, on any instance. The future
    /// fails with `NOT_FOUND` when nobody is there; else it holds how many connections it reached.
    func publishDirect(_ message: DirectMessage, resultOn loop: any EventLoop) -> EventLoopFuture<Int> {
        let target = message.target
        var payload = message.data
        if payload["timestamp"] == nil { payload["timestamp"] = .string(Timestamp.now()) }
        var envelope = Envelope.event(message.event, data: payload, room: nil)
        envelope.extensions = PublishItem.stamp(publisher: message.publisher, fromConnection: message.fromConnection)
        envelope.extensions[target.key] = .string(target.value)
        var buffer = ByteBuffer()
        envelope.encode(into: &buffer)
        return broker.direct(buffer, to: target, on: loop).flatMapThrowing { reached in
            guard reached > 0 else { throw target.notFound }
            return reached
        }
    }

    /// Validates, then encodes.
    private func prepare(_ item: PublishItem) throws(ProtocolError) -> PreparedEvent {
        let (payload, channel) = try catalog.check(event: item.event, room: item.room, data: item.data)
        // `from_connection` only where clients talk to each other: elsewhere it would add ~55 bytes to every
        // delivery of a producer's event and tell its subscribers nothing they can use.
        let fromConnection = channel.clientsPublish ? item.fromConnection : nil
        return encode(
            PublishItem(
                event: item.event, room: item.room, data: payload, publisher: item.publisher, fromConnection: fromConnection))
    }

    /// Stamps `timestamp` into a named event's payload if absent, and encodes the envelope once.
    private func encode(_ item: PublishItem) -> PreparedEvent {
        var payload = item.data
        // Upstream's helpers stamp named events; its unnamed messages go out as built.
        if item.event != nil, payload["timestamp"] == nil { payload["timestamp"] = .string(Timestamp.now()) }
        var envelope = Envelope.event(item.event, data: payload, room: item.room)
        envelope.extensions = PublishItem.stamp(publisher: item.publisher, fromConnection: item.fromConnection)
        var open = broker.envelopeBuffer()
        envelope.encodeOpen(into: &open)
        return PreparedEvent(event: item.event, room: item.room, payload: payload, open: open)
    }

    /// A batch of `{room, event, data}` items (the `publish` request's `data.events`, or the array posted to
    /// `/api/events`): each is checked on its own, the valid ones are delivered in order even when others are
    /// refused, and the reply says per item what happened:
    /// `{"status": "published"|"partial"|"refused", "count": accepted, "refused": n, "results": [...]}`.
    func publishBatch(
        _ items: [JSONValue], publisher: String?, fromConnection: String? = nil, mayPublish: (String) -> Bool = { _ in true },
        resultOn loop: any EventLoop
    ) throws(ProtocolError)
        -> EventLoopFuture<JSONObject>
    {
        guard items.count <= batchMax else {
            throw .validation("A batch holds at most \(batchMax) events (publish_batch_max), got \(items.count)")
        }
        let parsed = items.map { item in
            Result { () throws(ProtocolError) in
                var event = try Self.parseEvent(item, publisher: publisher)
                guard mayPublish(event.room) else { throw Self.notAllowed }
                event.fromConnection = fromConnection
                return event
            }
        }
        var outcomes = publish(batch: parsed.compactMap { try? $0.get() }, resultOn: loop).makeIterator()
        let futures: [EventLoopFuture<JSONObject>] = parsed.enumerated().map { index, item in
            let refused = { @Sendable (error: ProtocolError) -> JSONObject in
                [
                    "index": JSONValue(index), "status": "refused", "error_code": .string(error.code.rawValue),
                    "error_message": .string(error.message),
                ]
            }
            let event: PublishItem
            switch item {
            case .failure(let error): return loop.makeSucceededFuture(refused(error))
            case .success(let parsed): event = parsed
            }
            switch outcomes.next()! {
            case .failure(let error): return loop.makeSucceededFuture(refused(error))
            case .success(let delivered):
                return delivered.map { count -> JSONObject in
                    [
                        "index": JSONValue(index), "status": "published", "room": .string(event.room),
                        "event": event.event.map(JSONValue.string) ?? .null, "subscribers": JSONValue(count),
                    ]
                }.recover { error in refused(Self.failure(error)) }
            }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { results in
            let accepted = results.filter { $0["status"] == "published" }.count
            let status = accepted == results.count ? "published" : accepted == 0 ? "refused" : "partial"
            return [
                "status": .string(status), "count": JSONValue(accepted), "refused": JSONValue(results.count - accepted),
                "results": .array(results.map { .object($0) }),
            ]
        }
    }

    /// A producer whose identity may not publish (`Identity.mayPublish`), on every way in.
    static let notAllowed = ProtocolError(
        .forbidden, "Not authorized to publish: needs an API key or the 'publish' permission")

    /// A delivery that failed, as the error a producer gets back.
    static func failure(_ error: any Error) -> ProtocolError {
        error as? ProtocolError ?? ProtocolError(.internalError, "Delivery failed: \(error)")
    }

    /// A publish's event name: a string, or null/absent for an unnamed event (which the catalogue accepts only
    /// in rooms that declare one).
    static func eventName(_ value: JSONValue?) throws(ProtocolError) -> String? {
        switch value {
        case nil, .null?: nil
        case .string(let name)?: name
        case let other?: throw .validation("'event' must be a string or null, got \(other.typeName)")
        }
    }

    /// A direct message's `{event, data}` (the HTTP body, or a WS `publish` with `to_connection`/`to_user`).
    static func parseDirect(
        _ object: JSONObject, to target: DirectTarget, publisher: String?, fromConnection: String? = nil
    ) throws(ProtocolError) -> DirectMessage {
        guard let event = try eventName(object["event"]), !event.isEmpty else {
            throw .validation("A direct message needs a name (event)")
        }
        guard !PresenceMode.isReserved(event) else {
            throw .validation("'\(event)' is the server's own presence event; producers may not send it")
        }
        return DirectMessage(
            target: target, event: event, data: try payload(object["data"], named: "'data'"), publisher: publisher,
            fromConnection: fromConnection)
    }

    /// One `{room, event, data}` item of a batch or an HTTP body.
    static func parseEvent(_ item: JSONValue, publisher: String?) throws(ProtocolError) -> PublishItem {
        guard case .object(let object) = item else {
            throw ProtocolError(.decodeError, "each event must be an object {room, event, data}")
        }
        guard let room = object["room"]?.stringValue else { throw .validation("'room' (string) is required") }
        let event = try eventName(object["event"])
        return PublishItem(event: event, room: room, data: try payload(object["data"], named: "'data'"), publisher: publisher)
    }

    /// An event's payload: an object, or nothing (null or absent) for an empty one.
    static func payload(_ value: JSONValue?, named name: String) throws(ProtocolError) -> JSONObject {
        switch value {
        case nil, .null?: [:]
        case .object(let data)?: data
        case let other?: throw .validation("\(name) must be an object, got \(other.typeName)")
        }
    }
}
