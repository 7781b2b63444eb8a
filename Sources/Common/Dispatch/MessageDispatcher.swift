import Logging
import NIOCore

/// Handles what clients send (docs/protocol.md, "Connecting" to "Room events"; docs/security.md): the delegate of every client connection. Decodes each
/// message, applies the rate budgets and the auth gate, and answers pings, subscriptions, publishes, `auth`
/// and the service's requests. Runs on the connection's event loop; its state lives in `connection.session`.
final class MessageDispatcher: ConnectionDelegate {
    let name: String
    let definition: ServiceDefinition
    let settings: Settings
    let requests: [String: RequestSpec]
    let hub: Hub
    let broker: any Broker
    let publisher: Publisher
    /// Present when `auth_enabled`; nil means every client is anonymous and trusted.
    let authenticator: Authenticator?
    let status: ServerStatus
    let statistics: Statistics
    let metrics: ServerMetrics
    let addresses: AddressCounter
    let presence: PresenceTracker
    /// Where the service's hooks run; nil when it registers none.
    let hookQueue: HookQueue?
    let logger: Logger

    init(
        definition: ServiceDefinition, settings: Settings, hub: Hub, broker: any Broker, publisher: Publisher,
        authenticator: Authenticator?, status: ServerStatus, addresses: AddressCounter, presence: PresenceTracker,
        hookQueue: HookQueue?, logger: Logger
    ) {
        self.name = definition.name
        self.definition = definition
        self.settings = settings
        self.requests = Dictionary(definition.requests.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.hub = hub
        self.broker = broker
        self.publisher = publisher
        self.authenticator = authenticator
        self.status = status
        self.statistics = status.statistics
        self.metrics = status.metrics
        self.addresses = addresses
        self.presence = presence
        self.hookQueue = hookQueue
        self.logger = logger
    }

    // MARK: Connection lifecycle

    func connectionOpened(_ connection: WebSocketConnection) {
        statistics.connectionOpened()
        metrics.connectionOpened()
        addresses.opened(connection.remoteAddress)
        logger.info("connected", metadata: ["connection_id": "\(connection.id)", "remote": "\(connection.remoteAddress)"])
        startAuthentication(connection)
    }

    func connectionClosed(_ connection: WebSocketConnection) {
        statistics.activeConnections.subtract(1, ordering: .relaxed)
        metrics.connectionClosed()
        addresses.closed(connection.remoteAddress)
        logger.info(
            "disconnected",
            metadata: [
                "connection_id": "\(connection.id)", "rooms": "\(connection.session.rooms.sorted().joined(separator: ","))",
            ])
        withdraw(connection)
    }

    func connection(_ connection: WebSocketConnection, closingWith code: CloseCode) {
        left(connection.session.rooms, connection)  // the transport takes it out of them next
        guard let label = code.label else { return }  // !failsConnection: an echoed close or shutdown
        if code == .slowConsumer { metrics.slowConsumers.increment() }
        metrics.connectionError(label)
        logger.info(
            "closing",
            metadata: [
                "connection_id": "\(connection.id)", "code": "\(code.code)", "reason": "\(code.reason)",
                "rooms": "\(connection.session.rooms.sorted().joined(separator: ","))",
            ])
    }

    /// The welcome (docs/protocol.md, "Connecting"): the reference's keys first, then our extensions.
    func welcome(for connection: WebSocketConnection) -> JSONObject {
        [
            "connection_id": .string(connection.id),
            "server": .string(name),
            "message": .string(definition.welcomeMessage),
            "authenticated": .bool(connection.session.auth.identity.isAuthenticated),
            "secure": .bool(settings.tls.enabled),
            "rate_limit": JSONValue(settings.messageRateLimit),
            "tls_mode": settings.tls.enabled ? "WSS" : "WS",
            "protocol_version": 1,
            "heartbeat_interval": JSONValue(settings.heartbeatInterval),
            "max_message_size": JSONValue(settings.maxMessageSize),
            "user_id": JSONValue(connection.session.auth.identity.userID),
        ]
    }

    // MARK: Messages

    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool) {
        if connection.session.held.active {
            // Keep order: messages sent right after a token or a resume wait until it is done.
            guard connection.session.held.messages.count < HeldMessages.limit else {
                return connection.close(.tooManyHeld)
            }
            return connection.session.held.messages.append((message, isText))
        }
        let started = NIODeadline.now()
        statistics.messagesReceived.add(1, ordering: .relaxed)
        statistics.lastActivity.store(Timestamp.currentMicroseconds(), ordering: .relaxed)
        let decoded = Result { () throws(ProtocolError) in try Envelope.decode(message) }
        if gateUnauthenticated(connection, decoded) { return }
        if case .success(let envelope) = decoded, envelope.type == .request, envelope.event == "publish",
            connection.session.auth.identity.mayPublish(service: name)
        {
            // A producer's publishes spend its publish budget, never the subscribers' message budget. Past it:
            // a retry hint, and the connection stays open.
            var budget = connection.session.publishBudget ?? TokenBucket(rate: settings.publishRateLimit)
            let allowed = budget.take(envelope.data["events"]?.arrayValue?.count ?? 1)
            connection.session.publishBudget = budget
            guard allowed else {
                metrics.rateLimited.increment()
                let limited = ProtocolError(
                    .rateLimitExceeded, "Publish rate limit exceeded. Retry after \(budget.retryAfter) seconds.")
                return reply(to: connection, error: limited, correlationID: envelope.replyCorrelationID)
            }
        } else if !connection.session.rateLimit.take() {
            metrics.rateLimited.increment()
            if connection.session.rateLimit.isAbusive { return connection.close(.rateLimitAbuse) }
            let limited = ProtocolError(
                .rateLimitExceeded, "Message rate limit exceeded. Retry after \(connection.session.rateLimit.retryAfter) seconds."
            )
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
            case PresenceMode.request where requests[PresenceMode.request] == nil: try answerPresence(request, connection)
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
        whileHolding(connection, { try await self.status.health() }) { [self] connection, result in
            switch result {
            case .success(let health): send(to: connection, .response(to: request, data: health))
            case .failure:
                reply(
                    to: connection, error: ProtocolError(.internalError, "Status is unavailable right now"),
                    correlationID: request.replyCorrelationID)
            }
            release(connection)
        }
    }
}
