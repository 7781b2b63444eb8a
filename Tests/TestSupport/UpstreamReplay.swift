import Common
import Testing

/// One broadcast as an upstream Python service sends it: the room, the event name and the payload its
/// helper builds (with the helper's own `timestamp`), and where in upstream's source it comes from.
/// `event` nil is a message upstream sends with `event: null`.
public struct UpstreamBroadcast: Sendable {
    public let source: String
    public let room: String
    public let event: String?
    public let data: String

    public init(_ source: String, _ room: String, _ event: String?, _ data: String) {
        self.source = source
        self.room = room
        self.event = event
        self.data = data
    }
}

extension TestServer {
    /// Publishes every recorded upstream broadcast over `POST /api/events`, as an upstream producer would,
    /// and expects each accepted and delivered to a subscriber of its room with its payload unchanged.
    public func expectUpstreamBroadcastsAccepted(_ broadcasts: [UpstreamBroadcast]) async throws {
        let subscriber = try await client()
        for room in Set(broadcasts.map(\.room)).sorted() {
            let reply = try await subscriber.request(["type": "subscribe", "data": ["channel": .string(room)]])
            #expect(reply["data"]?["status"] == "subscribed", "subscribe \(room): \(reply)")
        }
        for broadcast in broadcasts {
            let data = try JSONParser.parse(broadcast.data).objectValue ?? [:]
            let name = broadcast.event.map(JSONValue.string) ?? .null
            let body: JSONObject = ["room": .string(broadcast.room), "event": name, "data": .object(data)]
            let http = try await HTTP.post(httpURL + "/api/events", json: JSONWriter.string(body))
            #expect(http.status == 200, "\(broadcast.event ?? "null") in \(broadcast.room) (\(broadcast.source)): \(http.body)")
            guard http.status == 200 else { continue }
            let event = try await subscriber.next()
            #expect(event["event"] == name)
            #expect(event["room"] == .string(broadcast.room))
            let delivered = event["data"]?.objectValue ?? [:]
            for member in data { #expect(delivered[member.key] == member.value, "\(name).\(member.key)") }
            if broadcast.event == nil { #expect(delivered == data, "an unnamed event is delivered as sent") }
        }
        await subscriber.close()
    }
}
