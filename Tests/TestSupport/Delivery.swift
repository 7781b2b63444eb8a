import Common
import Testing

/// One expected delivery: the event name, its room and payload fields that must be there.
public struct ExpectedEvent: Sendable {
    public let event: String
    public let room: String
    public let fields: JSONObject

    public init(_ event: String, in room: String, _ fields: JSONObject) {
        self.event = event
        self.room = room
        self.fields = fields
    }
}

extension TestServer {
    /// Subscribes one client to every room named in `expected`, runs `publish`, and checks that each
    /// expected event arrives in that order with its room, its fields and a `timestamp`.
    public func expectDeliveries(_ expected: [ExpectedEvent], publish: () async throws -> Void) async throws {
        let client = try await client()
        for room in Set(expected.map(\.room)).sorted() {
            let reply = try await client.request(["type": "request", "event": "subscribe", "data": ["channel": .string(room)]])
            #expect(reply["data"]?["status"] == "subscribed", "subscribe \(room): \(reply)")
        }
        try await publish()
        for want in expected {
            let got = try await client.next()
            #expect(got["type"] == "event")
            #expect(got["event"] == .string(want.event))
            #expect(got["room"] == .string(want.room))
            let data = got["data"]?.objectValue ?? [:]
            for field in want.fields { #expect(data[field.key] == field.value, "\(want.event).\(field.key)") }
            #expect(data["timestamp"]?.stringValue?.hasSuffix("+00:00") == true)
        }
        #expect(await client.receivesNothing(for: .milliseconds(100)))
        await client.close()
    }
}

extension TestClient {
    /// Sends a service request and returns the reply's `data`, checking it is a `response` to it.
    public func ask(_ event: String, _ data: JSONObject = [:]) async throws -> JSONObject {
        let reply = try await request(["type": "request", "event": .string(event), "id": "q", "data": .object(data)])
        #expect(reply["type"] == "response", "\(event): \(reply)")
        #expect(reply["event"] == .string(event))
        #expect(reply["correlation_id"] == "q")
        return reply["data"]?.objectValue ?? [:]
    }
}
