/// The five `websocket_*` MCP tools of the reference (mahavishnu's `websocket_tools.py`), with its result
/// shapes, answered from the service's live state (in-process or over its HTTP endpoints): real numbers,
/// no placeholders.
struct WebSocketTools: Sendable {
    let service: String
    let host: String
    let port: Int
    let backend: any ToolBackend

    struct Spec {
        let name: String
        let description: String
        let parameters: [(name: String, type: String, description: String, required: Bool)]
    }

    static let specs: [Spec] = [
        Spec(name: "websocket_health_check", description: "Health of the service's WebSocket server", parameters: []),
        Spec(name: "websocket_get_status", description: "Connections and rooms with their members", parameters: []),
        Spec(name: "websocket_list_rooms", description: "Rooms and their subscriber counts", parameters: []),
        Spec(
            name: "websocket_broadcast_test_event",
            description: "Publish a test event (data plus timestamp and test: true) to a room",
            parameters: [
                ("event_type", "string", "Event name; any name in `global`, catalogued names elsewhere", true),
                ("room", "string", "Room to publish to, e.g. global", true),
                ("data", "object", "Payload fields", false),
            ]),
        Spec(name: "websocket_get_metrics", description: "Uptime, totals, rates and peak connections", parameters: []),
    ]

    func call(_ name: String, _ arguments: JSONObject) async -> (result: JSONObject, isError: Bool) {
        do {
            switch name {
            case "websocket_health_check": return (try await healthCheck(), false)
            case "websocket_get_status": return (try await status(), false)
            case "websocket_list_rooms": return (try await listRooms(), false)
            case "websocket_get_metrics": return (try await backend.totals(), false)
            case "websocket_broadcast_test_event": return await broadcastTestEvent(arguments)
            default: return (["status": "error", "error": .string("Unknown tool: \(name)")], true)
            }
        } catch {
            // The reference's shape for a service it cannot reach.
            return (
                [
                    "status": "stopped", "host": .string(host), "port": JSONValue(port), "connections": 0, "rooms": 0,
                    "message": .string("\(service) is not reachable: \(error)"),
                ], true
            )
        }
    }

    private func healthCheck() async throws -> JSONObject {
        let health = try await backend.health()
        var result: JSONObject = ["status": health["status"] ?? "unknown"]
        for key in ["host", "port", "connections", "rooms", "max_connections", "message_rate_limit", "uptime_seconds", "alerts"] {
            result[key] = health[key] ?? .null
        }
        return result
    }

    private func status() async throws -> JSONObject {
        let snapshot = try await backend.snapshot()
        return [
            "server": ["status": "running", "host": .string(host), "port": JSONValue(port)],
            "connections": snapshot["connections"] ?? [],
            "rooms": snapshot["rooms"] ?? [:],
            "total_connections": snapshot["total_connections"] ?? 0,
            "total_rooms": snapshot["total_rooms"] ?? 0,
        ]
    }

    private func listRooms() async throws -> JSONObject {
        let rooms = try await backend.roomList()
        return ["rooms": rooms["rooms"] ?? [:], "total_rooms": rooms["total_rooms"] ?? 0]
    }

    private func broadcastTestEvent(_ arguments: JSONObject) async -> (result: JSONObject, isError: Bool) {
        let event = arguments["event_type"]?.stringValue ?? ""
        let room = arguments["room"]?.stringValue ?? ""
        var data = arguments["data"]?.objectValue ?? [:]
        data["timestamp"] = .string(Timestamp.now())
        data["test"] = true
        let failed: (String) -> (JSONObject, Bool) = { error in
            (["status": "error", "error": .string(error), "event_type": .string(event), "room": .string(room)], true)
        }
        guard !event.isEmpty, !room.isEmpty else { return failed("event_type and room are required") }
        do {
            let subscribers = try await backend.publish(room: room, event: event, data: data)
            return (
                [
                    "status": "broadcasted", "event_type": .string(event), "room": .string(room),
                    "subscribers": JSONValue(subscribers), "message": "Test event broadcast successfully",
                ], false
            )
        } catch let refusal as ProtocolError {
            return failed(refusal.message)
        } catch {
            return failed("\(service) is not reachable: \(error)")
        }
    }
}
