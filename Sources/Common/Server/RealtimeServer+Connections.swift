import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Admission and set-up of WebSocket connections.
extension RealtimeServer {
    /// WebSocket endpoints: `/` for old clients, `/ws` for new ones.
    static let webSocketPaths: Set<Substring> = ["/", "/ws"]

    func admit(_ request: HTTPRequestHead, _ channel: any Channel) -> UpgradeRefusal? {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard Self.webSocketPaths.contains(path) else {
            return UpgradeRefusal(.notFound, code: "NOT_FOUND", "WebSocket endpoints are / and /ws")
        }
        guard !lifecycle.isDraining else {
            return UpgradeRefusal(
                .serviceUnavailable, code: "SHUTTING_DOWN", "Server is shutting down", headers: [("Retry-After", "1")])
        }
        guard activeConnections < settings.maxConnections else {
            return UpgradeRefusal(
                .serviceUnavailable, code: "SERVER_AT_CAPACITY",
                "Server at maximum capacity (\(settings.maxConnections) connections)", headers: [("Retry-After", "5")])
        }
        return nil
    }

    func install(_ request: HTTPRequestHead, _ channel: any Channel) throws {
        let connection = WebSocketConnection(
            id: UUID4.make(), slot: hub.makeSlot(), remoteAddress: channel.remoteAddress?.description ?? "unknown",
            shard: hub.shard(for: channel.eventLoop), delegate: self, maxMessageSize: settings.maxMessageSize)
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: settings.maxMessageSize)))
        try channel.pipeline.syncOperations.addHandler(connection)
    }
}

extension RealtimeServer: ConnectionDelegate {
    func connectionOpened(_ connection: WebSocketConnection) {
        statistics.activeConnections.add(1, ordering: .relaxed)
        statistics.totalConnections.add(1, ordering: .relaxed)
        logger.info("connected", metadata: ["connection_id": "\(connection.id)", "remote": "\(connection.remoteAddress)"])
        connection.send(Envelope.event("session.created", data: welcome(for: connection), room: nil))
    }

    func connectionClosed(_ connection: WebSocketConnection) {
        statistics.activeConnections.subtract(1, ordering: .relaxed)
        logger.info(
            "disconnected",
            metadata: ["connection_id": "\(connection.id)", "rooms": "\(connection.rooms.sorted().joined(separator: ","))"])
    }

    /// The welcome (PROTOCOL §2): the reference's keys first, then our extensions.
    func welcome(for connection: WebSocketConnection) -> JSONObject {
        [
            "connection_id": .string(connection.id),
            "server": .string(name),
            "message": .string(definition.welcomeMessage),
            "authenticated": false,
            "secure": false,
            "rate_limit": JSONValue(settings.messageRateLimit),
            "tls_mode": "WS",
            "protocol_version": 1,
            "heartbeat_interval": JSONValue(settings.heartbeatInterval),
            "max_message_size": JSONValue(settings.maxMessageSize),
        ]
    }
}
