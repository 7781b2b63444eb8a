import Common
import Testing
import TestSupport

@testable import SessionBuddy

/// `collab:{session_id}`: a client-to-client room with presence, and the watchers session-buddy keeps with its
/// connection hooks (docs/services/session-buddy.md, docs/security.md "Client-to-client rooms").
@Suite("session-buddy: editing a session together")
struct CollaborationTests {
    static let room = "collab:s1"

    static func authOn(_ settings: inout Settings) {
        settings.auth.enabled = true
        settings.auth.jwtSecret = TestTokens.secret
    }

    /// A reader (no publish right) and its connection id.
    static func reader(_ server: TestServer, _ user: String) async throws -> (TestClient, String) {
        let token = try await TestTokens.hs256(user: user, permissions: ["session-buddy:read"])
        let client = try await TestClient.connect(server.wsURL + "?token=" + token)
        let welcome = try await client.next()
        return (client, try #require(welcome["data"]?["connection_id"]?.stringValue))
    }

    static func subscribe(_ client: TestClient, _ room: String) async throws -> JSONObject {
        try await client.request(["type": "request", "event": "subscribe", "id": "s", "data": ["channel": .string(room)]])
    }

    static func edit(_ client: TestClient, _ data: JSONObject, room: String = room) async throws -> JSONObject {
        try await client.request([
            "type": "request", "event": "publish", "id": "e",
            "data": ["room": .string(room), "event": "collab.edit", "data": .object(data)],
        ])
    }

    /// The publisher's ack and its own copy of the event (members receive what they publish; either may come first).
    static func ackAndEcho(_ client: TestClient, _ first: JSONObject) async throws -> (ack: JSONObject, echo: JSONObject) {
        let second = try await client.next()
        return first["type"] == "ack" ? (first, second) : (second, first)
    }

    /// Presence events until one reports `count` members in the room (joins may arrive in one event or two).
    static func presence(_ client: TestClient, _ event: String, count: Int) async throws -> JSONObject {
        while true {
            let message = try await client.next()
            #expect(message["event"] == .string(event), "\(message)")
            if message["data"]?["count"] == .int(Int64(count)) { return message }
        }
    }

    @Test("two readers edit together, stamped; others are refused; watchers and presence follow who is there")
    func editTogether() async throws {
        try await TestServer.with(SessionBuddy.definition(), configure: Self.authOn) { server in
            let broadcast = SessionBuddyBroadcaster(server.server)
            try await broadcast.sessionCreated(sessionID: "s1", project: "backbone", userID: "alice")
            let (alice, aliceID) = try await Self.reader(server, "alice")
            let (bob, bobID) = try await Self.reader(server, "bob")
            let (carol, _) = try await Self.reader(server, "carol")

            #expect(try await Self.subscribe(alice, Self.room)["data"]?["status"] == "subscribed")
            #expect(try await Self.subscribe(bob, Self.room)["data"]?["status"] == "subscribed")
            let joined = try await Self.presence(alice, "presence.joined", count: 2)
            #expect(joined["data"]?["members"]?.arrayValue?.contains { $0["user_id"] == "bob" } == true)
            _ = try await Self.presence(bob, "presence.joined", count: 2)

            let watchers = try await carol.ask("get_session_watchers", ["session_id": "s1"])
            #expect(watchers["count"] == 2)
            #expect(watchers["users"] == ["alice", "bob"])

            // A member publishes without the publish right: validated, stamped, delivered to the room.
            let (ack, echoed) = try await Self.ackAndEcho(
                alice, try await Self.edit(alice, ["ops": [["insert": "hello"]], "version": 1, "session_id": "s1"]))
            #expect(ack["type"] == "ack", "\(ack)")
            #expect(ack["data"]?["subscribers"] == 2)
            #expect(echoed["event"] == "collab.edit")
            let edit = try await bob.next()
            #expect(edit["event"] == "collab.edit")
            #expect(edit["data"]?["ops"] == [["insert": "hello"]])
            #expect(edit["publisher"] == "alice")
            #expect(edit["from_connection"] == .string(aliceID))
            let (cursor, ownCursor) = try await Self.ackAndEcho(
                bob,
                try await bob.request([
                    "type": "request", "event": "publish", "id": "c",
                    "data": ["room": .string(Self.room), "event": "collab.cursor", "data": ["position": ["line": 3]]],
                ]))
            #expect(cursor["type"] == "ack", "\(cursor)")
            #expect(ownCursor["event"] == "collab.cursor")
            #expect(try await alice.next()["from_connection"] == .string(bobID))

            // Same validation as any publish; the member right stops at the room's own events.
            let broken = try await Self.edit(bob, ["version": 2])
            #expect(broken["error_code"] == "VALIDATION_ERROR", "\(broken)")
            let notHers = try await alice.request([
                "type": "request", "event": "publish", "id": "u",
                "data": ["room": "session:s1", "event": "session.updated", "data": ["session_id": "s1"]],
            ])
            #expect(notHers["error_code"] == "FORBIDDEN", "\(notHers)")
            let outsider = try await Self.edit(carol, ["ops": []])
            #expect(outsider["error_code"] == "FORBIDDEN")
            #expect(outsider["error_message"]?.stringValue?.contains("Subscribe to 'collab:s1'") == true)
            #expect(await alice.receivesNothing(for: .milliseconds(100)), "refused edits reach nobody")

            // Leaving: the others see it, and the watchers follow.
            await bob.close()
            let left = try await Self.presence(alice, "presence.left", count: 1)
            #expect(left["data"]?["members"]?[0]?["connection_id"] == .string(bobID))
            let after = try await carol.ask("get_session_watchers", ["session_id": "s1"])
            #expect(after["count"] == 1)
            #expect(after["watchers"]?[0]?["user_id"] == "alice")

            // A closed session takes no new collaborators.
            try await broadcast.sessionClosed(sessionID: "s1", reason: "done")
            let refused = try await Self.subscribe(carol, Self.room)
            #expect(refused["error_code"] == "FORBIDDEN")
            #expect(refused["error_message"]?.stringValue?.contains("closed") == true)
            #expect(try await carol.ask("get_session_watchers", ["session_id": "s1"])["count"] == 1)
            await alice.close()
            await carol.close()
        }
    }
}
