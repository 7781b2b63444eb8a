import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Admission and set-up of WebSocket connections.
extension RealtimeServer {
    /// WebSocket endpoints: `/` for old clients, `/ws` for new ones.
    static let webSocketPaths: Set<Substring> = ["/", "/ws"]
    static let echoPath: Substring = "/echo"

    /// Every listener turns upgrades away like this once shutdown has begun.
    static let shuttingDown = UpgradeRefusal(
        .serviceUnavailable, code: .shuttingDown, "Server is shutting down", headers: [("Retry-After", "1")])

    static func path(of request: HTTPRequestHead) -> Substring {
        request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }

    func admit(_ request: HTTPRequestHead, _ channel: any Channel) -> UpgradeRefusal? {
        let path = Self.path(of: request)
        guard Self.webSocketPaths.contains(path) || (settings.echoEndpoint && path == Self.echoPath) else {
            return UpgradeRefusal(.notFound, code: .notFound, "WebSocket endpoints are / and /ws")
        }
        if !settings.allowedOrigins.isEmpty, let origin = request.headers.first(name: "origin"),
            !settings.allowedOrigins.contains(origin)
        {
            return UpgradeRefusal(.forbidden, code: .originForbidden, "Origin '\(origin)' is not allowed")
        }
        guard !lifecycle.isDraining else { return Self.shuttingDown }
        guard activeConnections < settings.maxConnections else {
            return UpgradeRefusal(
                .serviceUnavailable, code: .serverAtCapacity,
                "Server at maximum capacity (\(settings.maxConnections) connections)", headers: [("Retry-After", "5")])
        }
        if settings.maxConnectionsPerIP > 0, addresses.count(Self.address(of: channel)) >= settings.maxConnectionsPerIP {
            return UpgradeRefusal(
                .serviceUnavailable, code: .tooManyConnectionsFromAddress,
                "At most \(settings.maxConnectionsPerIP) connections per address", headers: [("Retry-After", "5")])
        }
        return nil
    }

    static func address(of channel: any Channel) -> String { channel.remoteAddress?.ipAddress ?? "unknown" }

    func install(_ request: HTTPRequestHead, _ channel: any Channel, deflate: PerMessageDeflate?) throws {
        try install(request, channel, deflate: deflate, delegate: Self.path(of: request) == Self.echoPath ? echo : self)
    }

    /// The transport of every WebSocket, whoever handles its messages (clients, `/echo`, a metrics stream).
    func install(
        _ request: HTTPRequestHead, _ channel: any Channel, deflate: PerMessageDeflate?, delegate: any ConnectionDelegate
    ) throws {
        let connection = WebSocketConnection(
            id: UUID4.make(), slot: hub.makeSlot(), remoteAddress: Self.address(of: channel),
            shard: hub.shard(for: channel.eventLoop), delegate: delegate, maxMessageSize: settings.maxMessageSize,
            messageRate: settings.messageRateLimit, drain: drainPolicy, deflate: deflate)
        connection.auth.credential = Credential.from(
            headers: request.headers.map { (name: $0.name, value: $0.value) }, uri: request.uri)
        // Past the high-water mark the channel turns unwritable and the connection closes as a slow consumer.
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark, value: .init(low: settings.maxOutboundBuffer / 2, high: settings.maxOutboundBuffer))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketDecoder(WebSocketFrameDecoder(maxFrameSize: settings.maxMessageSize)))
        try channel.pipeline.syncOperations.addHandler(connection)
    }
}

extension RealtimeServer: ConnectionDelegate {
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
            metadata: ["connection_id": "\(connection.id)", "rooms": "\(connection.rooms.sorted().joined(separator: ","))"])
    }

    func connection(_ connection: WebSocketConnection, closingWith code: CloseCode) {
        guard let label = code.label else { return }  // an echoed close or shutdown: not an error
        if code == .slowConsumer { metrics.slowConsumers.increment() }
        metrics.connectionError(label)
        logger.info(
            "closing",
            metadata: [
                "connection_id": "\(connection.id)", "code": "\(code.code)", "reason": "\(code.reason)",
                "rooms": "\(connection.rooms.sorted().joined(separator: ","))",
            ])
    }

    /// The welcome (PROTOCOL §2): the reference's keys first, then our extensions.
    func welcome(for connection: WebSocketConnection) -> JSONObject {
        [
            "connection_id": .string(connection.id),
            "server": .string(name),
            "message": .string(definition.welcomeMessage),
            "authenticated": .bool(connection.auth.identity.isAuthenticated),
            "secure": .bool(settings.tls.enabled),
            "rate_limit": JSONValue(settings.messageRateLimit),
            "tls_mode": settings.tls.enabled ? "WSS" : "WS",
            "protocol_version": 1,
            "heartbeat_interval": JSONValue(settings.heartbeatInterval),
            "max_message_size": JSONValue(settings.maxMessageSize),
        ]
    }
}
