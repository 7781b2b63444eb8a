import Common
import Testing
import TestSupport

@Suite("Rooms and fan-out over real sockets")
struct RoomsTests {
    func subscribe(_ client: TestClient, _ room: String) async throws {
        let reply = try await client.request(["type": "request", "event": "subscribe", "data": ["channel": .string(room)]])
        #expect(reply["data"]?["status"] == "subscribed")
    }

    @Test("a broadcast reaches exactly the room's members, in publish order")
    func exactMembers() async throws {
        try await TestServer.with { server in
            let a = try await server.client(), b = try await server.client(), c = try await server.client()
            try await subscribe(a, "item:1")
            try await subscribe(b, "item:1")
            try await subscribe(c, "item:2")
            for value in 0..<20 {
                let receipt = try await server.server.publish(
                    event: "item.changed", room: "item:1", data: ["item_id": "1", "value": JSONValue(value)])
                #expect(receipt.subscribers == 2)
            }
            for client in [a, b] {
                for value in 0..<20 {
                    let event = try await client.next()
                    #expect(event["type"] == "event")
                    #expect(event["event"] == "item.changed")
                    #expect(event["room"] == "item:1")
                    #expect(event["data"]?["value"] == JSONValue(value))
                    #expect(event["data"]?["timestamp"]?.stringValue?.hasSuffix("+00:00") == true)
                }
            }
            #expect(await c.receivesNothing())
            for client in [a, b, c] { await client.close() }
        }
    }

    @Test("one connection in many rooms; disconnect leaves all of them")
    func multiRoomCleanup() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let rooms = ["item:1", "item:2", "feed", "global"]
            for room in rooms { try await subscribe(client, room) }
            let counts = try await server.server.roomCounts()
            #expect(counts == Dictionary(uniqueKeysWithValues: rooms.map { ($0, 1) }))
            let listed = try await HTTP.get(server.httpURL + "/api/rooms")
            #expect(listed.body["total_rooms"] == 4)
            #expect(listed.body["rooms"]?["feed"]?["subscribers"] == 1)
            await client.close()
            try await TestClient.poll(.seconds(15), "rooms to empty") {
                try await server.server.roomCounts().isEmpty ? true : nil
            }
            #expect(server.server.activeConnections == 0)
        }
    }

    @Test("subscribing twice is idempotent; subscriber counts are per connection")
    func idempotent() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await subscribe(client, "feed")
            try await subscribe(client, "feed")
            #expect(try await server.server.publish(event: "feed.entry", room: "feed", data: ["text": "once"]).subscribers == 1)
            _ = try await client.next()
            #expect(await client.receivesNothing())
            await client.close()
        }
    }

    @Test("many subscribers across event loops all receive every event in order")
    func fanOut() async throws {
        try await TestServer.with(configure: { $0.eventLoopThreads = 2 }) { server in
            var clients: [TestClient] = []
            for _ in 0..<40 {
                let client = try await server.client()
                try await subscribe(client, "global")
                clients.append(client)
            }
            for n in 0..<50 {
                #expect(
                    try await server.server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)]).subscribers == 40)
            }
            for client in clients {
                for n in 0..<50 { #expect(try await client.next()["data"]?["n"] == JSONValue(n)) }
                await client.close()
            }
        }
    }
}
