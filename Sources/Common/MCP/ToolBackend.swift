import NIOCore

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

/// The server answering for itself, with the identity of the MCP client (publishing needs its permission,
/// and what it publishes is stamped with it).
struct InProcessBackend: ToolBackend {
    let service: String
    let status: ServerStatus
    let publisher: Publisher
    let group: any EventLoopGroup
    let identity: Identity

    func health() async throws -> JSONObject { try await status.health() }
    func snapshot() async throws -> JSONObject { try await status.snapshot() }
    func roomList() async throws -> JSONObject { try await status.roomList() }
    func totals() async throws -> JSONObject { status.totals() }

    func publish(room: String, event: String, data: JSONObject) async throws -> Int {
        guard identity.mayPublish(service: service) else { throw Publisher.notAllowed }
        do {
            return try await publisher.publish(
                PublishItem(event: event, room: room, data: data, publisher: identity.publisher), resultOn: group.any()
            ).get()
        } catch {
            throw Publisher.failure(error)
        }
    }
}
