import NIOCore

/// What the server reports about itself: `/health`, `/ready`, the dashboard's status, snapshots and totals
/// for the MCP tools, and the gauges computed when `/metrics` is scraped.
final class ServerStatus: Sendable {
    let name: String
    let settings: Settings
    let hub: Hub
    let broker: any Broker
    let lifecycle: Lifecycle
    let statistics: Statistics
    let monitor: Monitor
    let metrics: ServerMetrics
    private let group: any EventLoopGroup

    init(
        name: String, settings: Settings, hub: Hub, broker: any Broker, lifecycle: Lifecycle, statistics: Statistics,
        monitor: Monitor, metrics: ServerMetrics, group: any EventLoopGroup
    ) {
        self.name = name
        self.settings = settings
        self.hub = hub
        self.broker = broker
        self.lifecycle = lifecycle
        self.statistics = statistics
        self.monitor = monitor
        self.metrics = metrics
        self.group = group
    }

    var activeConnections: Int { statistics.activeConnections.load(ordering: .relaxed) }

    var uptimeSeconds: Double {
        Double(Timestamp.currentMicroseconds() - statistics.startedAt) / 1_000_000
    }

    /// Subscribers per room on this instance.
    func roomCounts() async throws -> [String: Int] {
        try await hub.roomCounts(on: group.any()).get()
    }

    /// Subscribers per room over every live instance (this one alone without Redis, or while it is down).
    func clusterRoomCounts() async throws -> [String: Int] {
        if let counts = await broker.clusterRooms() { return counts }
        return try await roomCounts()
    }

    /// `/api/rooms`: every room of the cluster with its subscriber count.
    func roomList() async throws -> JSONObject {
        let counts = try await clusterRoomCounts()
        let rooms = JSONObject(counts.sorted { $0.key < $1.key }.map { ($0.key, ["subscribers": JSONValue($0.value)]) })
        return ["rooms": .object(rooms), "total_rooms": JSONValue(counts.count)]
    }

    /// `GET /health`: liveness plus the numbers operators look at first. `degraded` while an alert is active.
    func health() async throws -> JSONObject {
        let rooms = try await clusterRoomCounts()
        var alerts = monitor.activeAlerts
        if !broker.isAvailable { alerts["broker_unavailable"] = "Redis is unreachable: publishing is suspended" }
        var health: JSONObject = [
            "status": lifecycle.isDraining ? "draining" : (alerts.isEmpty ? "healthy" : "degraded"),
            "service": .string(name),
            "host": .string(settings.host),
            "port": JSONValue(lifecycle.port ?? settings.port),
            "connections": JSONValue(activeConnections),
            "rooms": JSONValue(rooms.count),
            "max_connections": JSONValue(settings.maxConnections),
            "message_rate_limit": JSONValue(settings.messageRateLimit),
            "uptime_seconds": JSONValue((uptimeSeconds * 1000).rounded() / 1000),
        ]
        for member in describedAs { health[member.key] = member.value }
        health["alerts"] = .array(
            alerts.sorted { $0.key < $1.key }.map { ["alert": .string($0.key), "message": .string($0.value)] })
        if let described = broker.healthJSON { health["broker"] = .object(described) }
        return health
    }

    /// `GET /ready`: whether a load balancer should send traffic here.
    func readiness() -> JSONObject {
        let listening = lifecycle.port != nil, draining = lifecycle.isDraining
        let brokerReachable = broker.isAvailable
        return [
            "ready": .bool(listening && !draining && brokerReachable),
            "listening": .bool(listening),
            "draining": .bool(draining),
            "broker_available": .bool(brokerReachable),
            "connections": JSONValue(activeConnections),
            "max_connections": JSONValue(settings.maxConnections),
        ]
    }

    /// `GET /api/websocket/status`, the shape the ecosystem's dashboards read.
    func websocketStatus() -> JSONObject {
        let last = statistics.lastActivity.load(ordering: .relaxed)
        return [
            "success": true,
            "data": [
                "connected": .bool(lifecycle.isServing),
                "clients": JSONValue(activeConnections),
                "lastActivity": last > 0 ? .string(Timestamp.format(microsecondsSinceEpoch: last)) : .null,
                "uptime": JSONValue((uptimeSeconds * 1000).rounded() / 1000),
                "messageCount": JSONValue(statistics.messagesReceived.load(ordering: .relaxed)),
                "server": .object(describedAs),
            ],
        ]
    }

    /// The server description's keys (`id`, `name`, `capabilities`, `relationships`), named after the service
    /// when the settings leave them out.
    var describedAs: JSONObject {
        let description = settings.serverDescription
        return [
            "id": .string(description.id ?? name), "name": .string(description.name ?? name),
            "capabilities": .array(description.capabilities.map { .string($0) }),
            "relationships": description.relationships,
        ]
    }

    /// Connections and room members (ids capped at `snapshotLimit` per list), for `websocket_get_status`.
    static let snapshotLimit = 1000

    func snapshot() async throws -> JSONObject {
        let parts = try await hub.collect(on: group.any()) { $0.snapshot(limit: Self.snapshotLimit) }.get()
        let counts = try await roomCounts()
        var members: [String: [String]] = [:]
        for part in parts { members.merge(part.rooms, uniquingKeysWith: +) }
        let rooms = JSONObject(
            members.sorted { $0.key < $1.key }.map { room, ids in
                (
                    room,
                    [
                        "subscribers": JSONValue(counts[room] ?? ids.count),
                        "connection_ids": .array(ids.prefix(Self.snapshotLimit).map { .string($0) }),
                    ]
                )
            })
        return [
            "connections": .array(parts.flatMap(\.connections).prefix(Self.snapshotLimit).map { .string($0) }),
            "rooms": .object(rooms),
            "total_connections": JSONValue(activeConnections),
            "total_rooms": JSONValue(counts.count),
        ]
    }

    /// Totals since start, for `websocket_get_metrics` (the reference returned placeholders here).
    func totals() -> JSONObject {
        let uptime = max(uptimeSeconds, 0.001)
        let received = statistics.messagesReceived.load(ordering: .relaxed)
        let delivered = statistics.messagesSent.load(ordering: .relaxed)
        return [
            "uptime_seconds": JSONValue((uptime * 1000).rounded() / 1000),
            "total_broadcasts": JSONValue(statistics.broadcasts.load(ordering: .relaxed)),
            "total_messages_received": JSONValue(received),
            "total_deliveries": JSONValue(delivered),
            "average_message_rate": JSONValue((Double(received + delivered) / uptime * 100).rounded() / 100),
            "peak_connections": JSONValue(statistics.peakConnections.load(ordering: .relaxed)),
            "current_connections": JSONValue(activeConnections),
            "total_connections": JSONValue(statistics.totalConnections.load(ordering: .relaxed)),
        ]
    }

    /// Room and subscription gauges are computed when scraped, not kept up to date on the hot path.
    func refreshGauges() async throws {
        let rooms = try await roomCounts()
        metrics.rooms.set(to: Double(rooms.count))
        metrics.subscriptions.set(to: Double(rooms.values.reduce(0, +)))
        metrics.health.set(to: lifecycle.isServing ? 1 : 0)
        let contexts = try await hub.collect(on: group.any()) { $0.compressionContexts }.get().reduce(0, +)
        metrics.compressionContexts.set(to: Double(contexts))
        metrics.compressionContextBytes.set(to: Double(contexts * settings.compression.contextBytes))
    }
}
