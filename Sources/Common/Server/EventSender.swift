/// The base of each service's typed broadcaster: publishes a catalogued event to the room its parameter names.
public struct EventSender: Sendable {
    public let server: RealtimeServer

    public init(_ server: RealtimeServer) { self.server = server }

    /// Publishes `spec` to its literal room (`anomalies`, `coverage`, ...).
    @discardableResult
    public func send(_ spec: EventSpec, _ fields: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        try await send(spec, "", fields)
    }

    /// Publishes `spec` to `spec.channel.room(parameter)` with `fields` first, then `extra` (e.g. metadata).
    @discardableResult
    public func send(
        _ spec: EventSpec, _ parameter: String, _ fields: JSONObject, extra: JSONObject = [:]
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        var data = fields
        for member in extra where data[member.key] == nil { data[member.key] = member.value }
        return try await server.publish(event: spec.name, room: spec.channel.room(parameter), data: data)
    }
}
