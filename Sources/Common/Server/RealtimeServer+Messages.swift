import NIOCore

/// Dispatch of client messages (PROTOCOL §2-§3, §7). Runs on the connection's event loop.
extension RealtimeServer {
    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool) {
        if connection.held.active {
            // Keep order: messages sent right after a token or a resume wait until it is done.
            guard connection.held.messages.count < HeldMessages.limit else {
                return connection.close(.tooManyHeld)
            }
            return connection.held.messages.append((message, isText))
        }
        let started = NIODeadline.now()
        statistics.messagesReceived.add(1, ordering: .relaxed)
        statistics.lastActivity.store(Timestamp.currentMicroseconds(), ordering: .relaxed)
        let decoded = Result { () throws(ProtocolError) in try Envelope.decode(message) }
        if gateUnauthenticated(connection, decoded) { return }
        if case .success(let envelope) = decoded, envelope.type == .request, envelope.event == "publish",
            connection.auth.identity.mayPublish(service: name)
        {
            // A producer's publishes spend its publish budget, never the subscribers' message budget. Past it:
            // a retry hint, and the connection stays open.
            var budget = connection.publishBudget ?? TokenBucket(rate: settings.publishRateLimit)
            let allowed = budget.take(envelope.data["events"]?.arrayValue?.count ?? 1)
            connection.publishBudget = budget
            guard allowed else {
                metrics.rateLimited.increment()
                let limited = ProtocolError(
                    .rateLimitExceeded, "Publish rate limit exceeded. Retry after \(budget.retryAfter) seconds.")
                return reply(to: connection, error: limited, correlationID: envelope.replyCorrelationID)
            }
        } else if !connection.rateLimit.take() {
            metrics.rateLimited.increment()
            if connection.rateLimit.isAbusive { return connection.close(.rateLimitAbuse) }
            let limited = ProtocolError(
                .rateLimitExceeded, "Message rate limit exceeded. Retry after \(connection.rateLimit.retryAfter) seconds.")
            return reply(to: connection, error: limited, correlationID: try? decoded.get().replyCorrelationID)
        }
        let request: Envelope
        switch decoded {
        case .success(let envelope): request = envelope
        case .failure(let error): return reply(to: connection, error: error, correlationID: nil)
        }
        metrics.received(request.type)
        do {
            try dispatch(request, from: connection)
        } catch {
            reply(to: connection, error: error, correlationID: request.replyCorrelationID)
        }
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        metrics.handled(request.type, seconds: seconds)
        statistics.latencyMicros.add(Int(seconds * 1e6), ordering: .relaxed)
        statistics.messagesHandled.add(1, ordering: .relaxed)
    }

    /// Every reply goes through here, so sent messages are counted by type.
    func send(to connection: WebSocketConnection, _ envelope: Envelope) {
        metrics.sent(envelope.type)
        connection.send(envelope)
    }

    func reply(to connection: WebSocketConnection, error: ProtocolError, correlationID: String?) {
        statistics.errorsSent.add(1, ordering: .relaxed)
        metrics.messageError(error.code)
        logger.debug("error reply", metadata: ["connection_id": "\(connection.id)", "code": "\(error.code.rawValue)"])
        send(to: connection, .error(error, correlationID: correlationID))
    }

    private func dispatch(_ request: Envelope, from connection: WebSocketConnection) throws(ProtocolError) {
        switch request.type {
        case .ping:
            send(to: connection, Envelope(correlationID: request.replyCorrelationID, type: .pong, event: request.event))
        case .subscribe, .unsubscribe:
            try changeSubscription(request, subscribe: request.type == .subscribe, connection)
        case .request, .event:
            switch request.event {
            case "subscribe": try changeSubscription(request, subscribe: true, connection)
            case "unsubscribe": try changeSubscription(request, subscribe: false, connection)
            case _ where request.type == .event:
                throw ProtocolError(
                    .unknownRequest, "Clients do not send events; publish with {\"type\":\"request\",\"event\":\"publish\"}")
            case "publish": try publish(request, from: connection)
            case "auth":
                authenticate(request, connection)
            case "get_status" where requests["get_status"] == nil:
                answerStatus(request, connection)
            case let name?:
                guard let spec = requests[name] else {
                    throw ProtocolError(.unknownRequest, "Unknown request event: \(name)")
                }
                let answer = try spec.handler(RequestContext(request: request, connectionID: connection.id))
                send(to: connection, .response(to: request, data: answer))
            case nil:
                throw ProtocolError(.unknownRequest, "A request needs an 'event' naming it")
            }
        case .response, .error, .pong, .ack:
            return  // a client's replies need no answer
        }
    }

    /// `get_status`, the plan's status request, for services that define no `get_status` of their own: the
    /// `/health` document. Reading room counts is asynchronous (other loops, maybe Redis), so later messages
    /// from this connection wait for the answer and replies keep their order.
    private func answerStatus(_ request: Envelope, _ connection: WebSocketConnection) {
        whileHolding(connection, { try await self.health() }) { [self] connection, result in
            switch result {
            case .success(let health): send(to: connection, .response(to: request, data: health))
            case .failure:
                reply(to: connection, error: ProtocolError(.internalError, "Status is unavailable right now"),
                      correlationID: request.replyCorrelationID)
            }
            release(connection)
        }
    }

    /// Subscribe/unsubscribe in every form old and new clients send (PROTOCOL §3).
    private func changeSubscription(_ request: Envelope, subscribe: Bool, _ connection: WebSocketConnection)
        throws(ProtocolError)
    {
        let action = subscribe ? "subscribe" : "unsubscribe"
        guard let room = (request.data["channel"] ?? request.data["room"])?.stringValue, !room.isEmpty else {
            throw ProtocolError(.invalidChannel, "\(action) requires data.channel (or data.room): a non-empty string")
        }
        guard subscribe else {
            try RoomName.validate(room)
            connection.shard.leave(room, connection)
            return send(to: connection, .response(to: request, event: action, data: ["status": "unsubscribed", "channel": .string(room)]))
        }
        try definition.catalog.validateSubscription(room)
        if let channel = definition.catalog.channel(for: room), !connection.auth.identity.maySubscribe(channel, service: name) {
            throw ProtocolError(.forbidden, "Not authorized to subscribe to \(room)")
        }
        guard connection.rooms.count < settings.maxSubscriptions || connection.rooms.contains(room) else {
            throw ProtocolError(
                .tooManySubscriptions, "A connection may be in at most \(settings.maxSubscriptions) rooms; unsubscribe first")
        }
        let since = try Self.position(request.data["since"])
        if connection.rooms.contains(room) {
            // Already subscribed: events are flowing; nothing to replay.
            return send(to: connection, .response(to: request, event: action, data: ["status": "subscribed", "channel": .string(room)]))
        }
        // Clustered, and this instance cannot replay from its own history: read the room's stream in Redis.
        guard let joined = hub.join(room, connection, since: since, onlyIfRecoverable: broker != nil) else {
            return resumeFromCluster(request, room: room, since: since!, connection)
        }
        confirmSubscription(
            request, room: room, recovered: since.map { _ in joined.replay != nil }, replay: joined.replay ?? [],
            position: joined.position, connection)
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

    /// `{"type":"request","event":"publish","data":{"room":R,"event":E,"data":{...}}}` → `ack` with the count.
    private func publish(_ request: Envelope, from connection: WebSocketConnection) throws(ProtocolError) {
        guard connection.auth.identity.mayPublish(service: name) else {
            throw ProtocolError(.forbidden, "Not authorized to publish: needs an API key or the 'publish' permission")
        }
        if case .array(let items)? = request.data["events"] {
            let reply = try publishBatch(items, resultOn: connection.eventLoop)
            let sender = NIOLoopBound(connection, eventLoop: connection.eventLoop)
            reply.whenSuccess { [self] data in
                send(to: sender.value, Envelope(correlationID: request.replyCorrelationID, type: .ack, event: "publish", data: data))
            }
            return
        }
        guard let room = request.data["room"]?.stringValue else {
            throw .validation("publish requires data.room and data.event (strings) and data.data (object), or data.events")
        }
        let event = try Self.eventName(request.data["event"])
        let payload: JSONObject
        switch request.data["data"] {
        case nil, .null?: payload = [:]
        case .object(let object)?: payload = object
        case let other?: throw .validation("publish data.data must be an object, got \(other.typeName)")
        }
        let delivered = try self.publish(event: event, room: room, data: payload, resultOn: connection.eventLoop)
        let sender = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        delivered.whenComplete { [self] result in
            switch result {
            case .success(let count):
                send(to: sender.value, 
                    Envelope(
                        correlationID: request.replyCorrelationID, type: .ack, event: "publish",
                        data: ["status": "published", "room": .string(room), "event": event.map(JSONValue.string) ?? .null,
                               "subscribers": JSONValue(count)]))
            case .failure(let error):
                let failure = error as? ProtocolError ?? ProtocolError(.internalError, "Delivery failed: \(error)")
                reply(to: sender.value, error: failure, correlationID: request.replyCorrelationID)
            }
        }
    }
}

extension RealtimeServer {
    /// A batch of `{room, event, data}` items (the `publish` request's `data.events`, or the array posted to
    /// `/api/events`): each is checked on its own, the valid ones are delivered in order even when others are
    /// refused, and the reply says per item what happened:
    /// `{"status": "published"|"partial"|"refused", "count": accepted, "refused": n, "results": [...]}`.
    func publishBatch(_ items: [JSONValue], resultOn loop: any EventLoop) throws(ProtocolError) -> EventLoopFuture<JSONObject> {
        guard items.count <= settings.publishBatchMax else {
            throw .validation("A batch holds at most \(settings.publishBatchMax) events (publish_batch_max), got \(items.count)")
        }
        let parsed = items.map { item in
            Result { () throws(ProtocolError) in
                let event = try Self.parseEvent(item)
                return PublishItem(event: event.event, room: event.room, data: event.data)
            }
        }
        let valid = parsed.compactMap { try? $0.get() }
        var outcomes = publish(batch: valid, resultOn: loop).makeIterator()
        let futures: [EventLoopFuture<JSONObject>] = parsed.enumerated().map { index, item in
            let refused = { @Sendable (error: ProtocolError) -> JSONObject in
                ["index": JSONValue(index), "status": "refused", "error_code": .string(error.code.rawValue),
                 "error_message": .string(error.message)]
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
                    ["index": JSONValue(index), "status": "published", "room": .string(event.room),
                     "event": event.event.map(JSONValue.string) ?? .null, "subscribers": JSONValue(count)]
                }.recover { error in refused(error as? ProtocolError ?? ProtocolError(.internalError, "Delivery failed: \(error)")) }
            }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop).map { results in
            let accepted = results.filter { $0["status"] == "published" }.count
            let status = accepted == results.count ? "published" : accepted == 0 ? "refused" : "partial"
            return ["status": .string(status), "count": JSONValue(accepted), "refused": JSONValue(results.count - accepted),
                    "results": .array(results.map { .object($0) })]
        }
    }
}
