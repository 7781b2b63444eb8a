import Common
import Testing
import TestSupport

/// Presence (docs/protocol.md, "Presence"): opt-in per channel, a `presence` request, and debounced,
/// coalesced `presence.joined` / `presence.left` events.
@Suite("Presence: who is in a room")
struct PresenceTests {
    static func fast(_ settings: inout Settings) { settings.presenceDebounce = 0.05 }

    static func subscribe(_ client: TestClient, _ room: String) async throws {
        let reply = try await client.request(["type": "subscribe", "id": "s", "data": ["channel": .string(room)]])
        #expect(reply["type"] == "response", "\(reply)")
    }

    /// The next presence event, skipping nothing else (there is nothing else in these rooms).
    static func presenceEvent(_ client: TestClient) async throws -> JSONObject {
        let event = try await client.next()
        #expect(event["type"] == "event")
        #expect(event["event"]?.stringValue?.hasPrefix("presence.") == true, "\(event)")
        return event
    }

    @Test("members: joins and leaves are announced with who and the count, and the request lists members")
    func members() async throws {
        try await TestServer.with(.presenceService, configure: Self.fast) { server in
            let alice = try await server.client()
            try await Self.subscribe(alice, "desk:1")
            let first = try await Self.presenceEvent(alice)
            #expect(first["event"] == "presence.joined")
            #expect(first["room"] == "desk:1")
            #expect(first["data"]?["count"] == 1)
            #expect(first["data"]?["joined"] == 1)
            #expect(first["seq"] == 1, "an ordered room event like any other")
            let aliceID = try #require(first["data"]?["members"]?[0]?["connection_id"]?.stringValue)

            let bob = try await server.client()
            try await Self.subscribe(bob, "desk:1")
            let second = try await Self.presenceEvent(alice)
            #expect(second["event"] == "presence.joined")
            #expect(second["data"]?["count"] == 2)
            let bobMember = try #require(second["data"]?["members"]?[0])
            #expect(bobMember["user_id"] == .null)
            #expect(bobMember["joined_at"]?.stringValue?.isEmpty == false)
            #expect(try await Self.presenceEvent(bob)["event"] == "presence.joined", "bob sees his own arrival too")

            let listed = try await alice.request(["type": "request", "event": "presence", "id": "p", "data": ["room": "desk:1"]])
            #expect(listed["type"] == "response")
            #expect(listed["event"] == "presence")
            #expect(listed["data"]?["count"] == 2)
            #expect(listed["data"]?["mode"] == "members")
            #expect(listed["data"]?["truncated"] == false)
            let ids = Set(listed["data"]?["members"]?.arrayValue?.compactMap { $0["connection_id"]?.stringValue } ?? [])
            #expect(ids.contains(aliceID) && ids.count == 2)

            let capped = try await alice.request([
                "type": "request", "event": "presence", "id": "p2", "data": ["room": "desk:1", "limit": 1],
            ])
            #expect(capped["data"]?["members"]?.arrayValue?.count == 1)
            #expect(capped["data"]?["count"] == 2)
            #expect(capped["data"]?["truncated"] == true)

            await bob.close()
            let left = try await Self.presenceEvent(alice)
            #expect(left["event"] == "presence.left")
            #expect(left["data"]?["left"] == 1)
            #expect(left["data"]?["count"] == 1)
            #expect(left["data"]?["members"]?[0]?["connection_id"] != .string(aliceID))
            await alice.close()
        }
    }

    @Test("a join and a leave inside one debounce window cancel out; many joins make one event")
    func coalesced() async throws {
        // A window long enough for a loaded CI machine to fit each step's requests inside it.
        try await TestServer.with(.presenceService, configure: { $0.presenceDebounce = 1 }) { server in
            let watcher = try await server.client()
            try await Self.subscribe(watcher, "desk:2")
            _ = try await Self.presenceEvent(watcher)  // its own join

            let passing = try await server.client()
            try await Self.subscribe(passing, "desk:2")
            let unsubscribed = try await passing.request(["type": "unsubscribe", "id": "u", "data": ["channel": "desk:2"]])
            #expect(unsubscribed["data"]?["status"] == "unsubscribed")
            #expect(await watcher.receivesNothing(for: .milliseconds(1300)), "came and went within the window: nothing")

            var crowd: [TestClient] = []
            for _ in 0..<3 { crowd.append(try await server.client()) }
            for client in crowd { try await Self.subscribe(client, "desk:2") }
            let joined = try await Self.presenceEvent(watcher)
            #expect(joined["data"]?["joined"] == 3, "\(joined)")
            #expect(joined["data"]?["members"]?.arrayValue?.count == 3)
            #expect(joined["data"]?["count"] == 4)
            #expect(await watcher.receivesNothing(for: .milliseconds(600)))
            for client in crowd { await client.close() }
            let left = try await Self.presenceEvent(watcher)
            #expect(left["data"]?["left"] == 3)
            #expect(left["data"]?["count"] == 1)
            await passing.close()
            await watcher.close()
        }
    }

    @Test("count mode: counts only, in the request and the events")
    func countOnly() async throws {
        try await TestServer.with(.presenceService, configure: Self.fast) { server in
            let a = try await server.client()
            try await Self.subscribe(a, "hall")
            let event = try await Self.presenceEvent(a)
            #expect(event["data"]?["count"] == 1)
            #expect(event["data"]?["members"] == nil)
            let reply = try await a.request(["type": "request", "event": "presence", "id": "p", "data": ["room": "hall"]])
            #expect(reply["data"]?["mode"] == "count")
            #expect(reply["data"]?["count"] == 1)
            #expect(reply["data"]?["members"] == nil)
            await a.close()
        }
    }

    @Test("rooms without presence: no events, the request is refused, and nobody may publish presence events")
    func optIn() async throws {
        try await TestServer.with(.presenceService, configure: Self.fast) { server in
            let a = try await server.client()
            try await Self.subscribe(a, "feed")
            let b = try await server.client()
            try await Self.subscribe(b, "feed")
            #expect(await a.receivesNothing(for: .milliseconds(300)))
            let refused = try await a.request(["type": "request", "event": "presence", "id": "p", "data": ["room": "feed"]])
            #expect(refused["error_code"] == "VALIDATION_ERROR")
            #expect(refused["error_message"]?.stringValue?.contains("no presence") == true)
            let unknown = try await a.request(["type": "request", "event": "presence", "id": "q", "data": ["room": "nowhere"]])
            #expect(unknown["error_code"] == "INVALID_CHANNEL")
            let missing = try await a.request(["type": "request", "event": "presence", "id": "r", "data": [:]])
            #expect(missing["error_code"] == "VALIDATION_ERROR")
            let badLimit = try await a.request([
                "type": "request", "event": "presence", "id": "l", "data": ["room": "hall", "limit": 0],
            ])
            #expect(badLimit["error_code"] == "VALIDATION_ERROR")
            let forged = try await a.request([
                "type": "request", "event": "publish", "id": "f",
                "data": ["room": "desk:9", "event": "presence.joined", "data": ["room": "desk:9", "count": 1, "joined": 1]],
            ])
            #expect(forged["error_code"] == "VALIDATION_ERROR")
            await a.close()
            await b.close()
        }
    }

    @Test("with auth on: the request needs the channel's permission")
    func permission() async throws {
        let guarded = ServiceDefinition(
            name: "guarded", environmentPrefix: "GUARDED", defaultPort: 0, welcomeMessage: "Connected",
            channels: [ChannelSpec("desk:{desk_id}", permission: "desk:read", presence: .members, "guarded desk")], events: [])
        try await TestServer.with(guarded, configure: AuthTests.authOn) { server in
            let token = try await TestTokens.hs256(user: "eve", permissions: ["other"])
            let eve = try await TestClient.connect(server.wsURL + "?token=" + token)
            _ = try await eve.next()
            let reply = try await eve.request(["type": "request", "event": "presence", "id": "p", "data": ["room": "desk:1"]])
            #expect(reply["error_code"] == "FORBIDDEN")
            await eve.close()
        }
    }
}
