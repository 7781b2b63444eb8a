import Hummingbird
import NIOCore

/// HTTP endpoints on the service port, beside the WebSocket.
extension RealtimeServer {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Read-only endpoints allow any origin, so one dashboard can watch all four services.
        router.add(middleware: CORSMiddleware(allowOrigin: .all, allowHeaders: [.contentType], allowMethods: [.get]))
        addProbes(to: router)
        router.get("/ready") { _, _ in
            let ready = self.readiness()
            return Self.json(ready, status: ready["ready"] == true ? .ok : .serviceUnavailable)
        }
        router.get("/api/websocket/status") { _, _ in Self.json(self.websocketStatus()) }
        router.get("/api/websocket/history") { _, _ in
            Self.json(["interval_seconds": .double(Monitor.interval),
                       "samples": .array(self.monitor.history.newestFirst().reversed().map(\.json))])
        }
        router.get("/api/catalog") { _, _ in Self.json(self.definition.catalogJSON) }
        addMCP(to: router)
        router.get("/dashboard") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/client.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: JavaScriptClient.source)))
        }
        router.get("/api/dashboard/services") { _, _ in
            Self.json(["self": .string(self.name), "services": .array(self.settings.dashboardServices.map { .string($0) })])
        }
        router.get("/api/websocket/snapshot") { _, _ in try await Self.json(self.snapshot()) }
        router.get("/api/websocket/metrics") { _, _ in Self.json(self.totals()) }
        router.get("/api/rooms") { _, _ in try await Self.json(self.roomList()) }
        router.post("/api/events") { request, _ in
            if let refusal = await self.refuseUnauthorizedPublisher(request) { return refusal }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: self.settings.maxMessageSize)
            } catch {
                return Self.error(.contentTooLarge, .messageTooLarge, "Body larger than \(self.settings.maxMessageSize) bytes")
            }
            return await self.publishFromHTTP(body)
        }
        return router
    }

    /// `/health` and `/metrics`: on the service port, and alone on `metrics_port` when that is set.
    func addProbes(to router: Router<BasicRequestContext>) {
        addHealth(to: router)
        router.get("/metrics") { _, _ in
            try await self.refreshGauges()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
        }
    }

    func addHealth(to router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in try await Self.json(self.health()) }
    }

    /// With auth on, HTTP publishers need `X-API-Key` or a bearer token with `publish` (or admin) rights.
    func refuseUnauthorizedPublisher(_ request: Request) async -> Response? {
        guard let authenticator else { return nil }
        do {
            guard let identity = try await Self.presentedIdentity(request, authenticator) else {
                return Self.error(.unauthorized, .authRequired, "Publishing needs X-API-Key or Authorization: Bearer <token>")
            }
            guard identity.mayPublish(service: name) else {
                return Self.error(.forbidden, .forbidden, "Not authorized to publish: needs an API key or the 'publish' permission")
            }
            return nil
        } catch {
            return Self.error(.unauthorized, error.code, error.message)
        }
    }

    /// The credential an HTTP request presents (`X-API-Key`, `Authorization: Bearer`, `?token=`), verified;
    /// nil when it presents none.
    static func presentedIdentity(_ request: Request, _ authenticator: Authenticator) async throws(ProtocolError) -> Identity? {
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        guard let credential = Credential.from(headers: headers, uri: request.uri.description) else { return nil }
        return try await authenticator.identity(credential: credential)
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
        if let broker, !broker.isAvailable { alerts["broker_unavailable"] = "Redis is unreachable: publishing is suspended" }
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
        health["alerts"] = .array(alerts.sorted { $0.key < $1.key }.map { ["alert": .string($0.key), "message": .string($0.value)] })
        if let broker {
            health["broker"] = ["type": "redis", "available": .bool(broker.isAvailable), "instance": .string(broker.instanceID)]
        }
        return health
    }

    /// `GET /ready`: whether a load balancer should send traffic here.
    func readiness() -> JSONObject {
        let listening = lifecycle.port != nil, draining = lifecycle.isDraining
        let brokerReachable = broker?.isAvailable ?? true
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
        let rooms = JSONObject(members.sorted { $0.key < $1.key }.map { room, ids in
            (room, ["subscribers": JSONValue(counts[room] ?? ids.count),
                    "connection_ids": .array(ids.prefix(Self.snapshotLimit).map { .string($0) })])
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

    /// `POST /api/events` with `{room, event, data}`, or an array of them (a batch: each item checked on its
    /// own, the valid ones delivered in order, a result per item; see `publishBatch`).
    func publishFromHTTP(_ body: ByteBuffer) async -> Response {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            return Self.error(.badRequest, .decodeError, error.description)
        }
        if case .array(let items) = document {
            do {
                return Self.json(try await publishBatch(items, resultOn: group.any()).get())
            } catch {
                let failure = error as? ProtocolError ?? ProtocolError(.internalError, "\(error)")
                return Self.error(.unprocessableContent, failure.code, failure.message)
            }
        }
        do {
            let event = try Self.parseEvent(document)
            let receipt = try await publish(event: event.event, room: event.room, data: event.data)
            return Self.json(["status": "published", "event": receipt.event.map(JSONValue.string) ?? .null,
                              "room": .string(receipt.room), "subscribers": JSONValue(receipt.subscribers)])
        } catch {
            let status: HTTPResponse.Status = switch error.code {
            case .decodeError: .badRequest
            case .brokerUnavailable: .serviceUnavailable
            case .internalError: .internalServerError
            default: .unprocessableContent
            }
            return Self.error(status, error.code, error.message)
        }
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

    static func parseEvent(_ item: JSONValue) throws(ProtocolError) -> (event: String?, room: String, data: JSONObject) {
        guard case .object(let object) = item else {
            throw ProtocolError(.decodeError, "each event must be an object {room, event, data}")
        }
        guard let room = object["room"]?.stringValue else { throw .validation("'room' (string) is required") }
        let event = try eventName(object["event"])
        switch object["data"] {
        case nil, .null?: return (event, room, [:])
        case .object(let data)?: return (event, room, data)
        case let other?: throw .validation("'data' must be an object, got \(other.typeName)")
        }
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        JSONWriter.write(object, into: &buffer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func error(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String) -> Response {
        json(["error_code": .string(code.rawValue), "error_message": .string(message)], status: status)
    }
}
