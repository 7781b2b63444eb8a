/// Where the `websocket_*` tools read their answers: the running service over HTTP (`<service> mcp` on stdio,
/// `mcp call`), or the server itself in-process (`/mcp`).
protocol ToolBackend: Sendable {
    func health() async throws -> JSONObject
    func snapshot() async throws -> JSONObject
    /// `{"rooms": {room: {"subscribers": n}}, "total_rooms": n}`
    func roomList() async throws -> JSONObject
    func totals() async throws -> JSONObject
    /// The subscribers it reached; throws `ProtocolError` when the service refuses the event.
    func publish(room: String, event: String, data: JSONObject) async throws -> Int
}

/// The server answering for itself, with the identity of the MCP client (publishing needs its permission).
struct InProcessBackend: ToolBackend {
    let server: RealtimeServer
    let identity: Identity

    func health() async throws -> JSONObject { try await server.health() }
    func snapshot() async throws -> JSONObject { try await server.snapshot() }
    func roomList() async throws -> JSONObject { try await server.roomList() }
    func totals() async throws -> JSONObject { server.totals() }

    func publish(room: String, event: String, data: JSONObject) async throws -> Int {
        guard server.authenticator == nil || identity.mayPublish(service: server.name) else {
            throw ProtocolError(.forbidden, "Not authorized to publish: needs an API key or the 'publish' permission")
        }
        return try await server.publish(event: event, room: room, data: data).subscribers
    }
}
