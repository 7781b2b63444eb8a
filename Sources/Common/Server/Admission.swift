import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Whether an upgrade request may become a WebSocket: path, origin, draining, and the connection limits.
/// A refusal is answered with its HTTP status and a JSON body before any WebSocket exists.
struct Admission: Sendable {
    let settings: Settings
    let lifecycle: Lifecycle
    let statistics: Statistics
    let addresses: AddressCounter

    /// WebSocket endpoints: `/` for old clients, `/ws` for new ones.
    static let webSocketPaths: Set<Substring> = ["/", "/ws"]
    static let echoPath: Substring = "/echo"

    /// Every listener turns upgrades away like this once shutdown has begun.
    static let shuttingDown = UpgradeRefusal(
        .serviceUnavailable, code: .shuttingDown, "Server is shutting down", headers: [("Retry-After", "1")])

    static func path(of request: HTTPRequestHead) -> Substring {
        request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }

    static func address(of channel: any Channel) -> String { channel.remoteAddress?.ipAddress ?? "unknown" }

    func refusal(for request: HTTPRequestHead, on channel: any Channel) -> UpgradeRefusal? {
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
        guard statistics.activeConnections.load(ordering: .relaxed) < settings.maxConnections else {
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
}

/// Turns an upgraded channel into a `WebSocketConnection` on its loop's shard, with the handler of its
/// messages: the dispatcher for clients, the echo at `/echo`, or a service's metrics stream.
struct ConnectionInstaller: Sendable {
    let hub: Hub
    let settings: Settings
    let drainPolicy: LingeringClose.Policy
    let clients: MessageDispatcher
    let echo = EchoDelegate()

    func install(_ request: HTTPRequestHead, _ channel: any Channel, deflate: PerMessageDeflate?) throws {
        let delegate: any ConnectionDelegate = Admission.path(of: request) == Admission.echoPath ? echo : clients
        try install(request, channel, deflate: deflate, delegate: delegate)
    }

    /// The transport of every WebSocket, whoever handles its messages.
    func install(
        _ request: HTTPRequestHead, _ channel: any Channel, deflate: PerMessageDeflate?, delegate: any ConnectionDelegate
    ) throws {
        let connection = WebSocketConnection(
            id: UUID4.make(), slot: hub.makeSlot(), remoteAddress: Admission.address(of: channel),
            shard: hub.shard(for: channel.eventLoop), delegate: delegate, maxMessageSize: settings.maxMessageSize,
            messageRate: settings.messageRateLimit, drain: drainPolicy, deflate: deflate)
        connection.session.auth.credential = Credential.from(
            headers: request.headers.map { (name: $0.name, value: $0.value) }, uri: request.uri)
        // Past the high-water mark the channel turns unwritable and the connection closes as a slow consumer.
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark, value: .init(low: settings.maxOutboundBuffer / 2, high: settings.maxOutboundBuffer))
        try channel.pipeline.syncOperations.addHandler(
            WebSocketDecoder(WebSocketFrameDecoder(maxFrameSize: settings.maxMessageSize)))
        try channel.pipeline.syncOperations.addHandler(connection)
    }
}
