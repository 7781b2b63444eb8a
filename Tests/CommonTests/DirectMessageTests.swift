import Common
import Testing
import TestSupport

/// Direct messages (docs/protocol.md, "Direct messages"): to one connection or every connection of a user,
/// over WebSocket or HTTP, with the permissions of publishing.
@Suite("Direct messages: to a connection or a user")
struct DirectMessageTests {
    static func connect(_ server: TestServer, user: String, permissions: [String]) async throws -> (TestClient, String) {
        let token = try await TestTokens.hs256(user: user, permissions: permissions)
        let client = try await TestClient.connect(server.wsURL + "?token=" + token)
        let welcome = try await client.next()
        return (client, try #require(welcome["data"]?["connection_id"]?.stringValue))
    }

    static func direct(_ key: String, _ target: String, event: String = "note", data: JSONObject = ["text": "hi"]) -> JSONObject {
        [
            "type": "request", "event": "publish", "id": "d",
            "data": [key: .string(target), "event": .string(event), "data": .object(data)],
        ]
    }

    @Test("over WebSocket: to a user reaches all their connections, to a connection only that one, stamped")
    func overWebSocket() async throws {
        try await TestServer.with(configure: AuthTests.authOn) { server in
            let (alice, aliceID) = try await Self.connect(server, user: "alice", permissions: ["publish"])
            let (bob1, bob1ID) = try await Self.connect(server, user: "bob", permissions: [])
            let (bob2, _) = try await Self.connect(server, user: "bob", permissions: [])

            let ack = try await alice.request(Self.direct("to_user", "bob"))
            #expect(ack["type"] == "ack", "\(ack)")
            #expect(ack["data"]?["status"] == "delivered")
            #expect(ack["data"]?["connections"] == 2)
            for bob in [bob1, bob2] {
                let text = try await bob.nextText()
                let message = try JSONParser.parse(text)
                #expect(message["type"] == "event")
                #expect(message["event"] == "note")
                #expect(message["room"] == .null)
                #expect(message["data"]?["text"] == "hi")
                #expect(message["data"]?["timestamp"]?.stringValue?.isEmpty == false)
                #expect(
                    text.contains(#""error_message":null,"publisher":"alice","from_connection":"\#(aliceID)","to_user":"bob"}"#),
                    "\(text)")
            }

            let one = try await alice.request(Self.direct("to_connection", bob1ID))
            #expect(one["data"]?["connections"] == 1)
            #expect(try await bob1.next()["to_connection"] == .string(bob1ID))
            #expect(await bob2.receivesNothing(for: .milliseconds(200)), "another connection of the same user")

            let nobody = try await alice.request(Self.direct("to_user", "carol"))
            #expect(nobody["type"] == "error")
            #expect(nobody["error_code"] == "NOT_FOUND")
            #expect(nobody["correlation_id"] == "d")
            let gone = try await alice.request(Self.direct("to_connection", "no-such-connection"))
            #expect(gone["error_code"] == "NOT_FOUND")

            let refused = try await bob1.request(Self.direct("to_user", "alice"))
            #expect(refused["error_code"] == "FORBIDDEN", "bob may not publish, so he may not send direct messages")

            await bob2.close()
            let afterClose = try await alice.request(Self.direct("to_user", "bob"))
            #expect(afterClose["data"]?["connections"] == 1, "a closed connection is no longer a target")
            _ = try await bob1.next()
            await bob1.close()
            await alice.close()
        }
    }

    @Test("bad direct messages get a clear error")
    func badInput() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let both = try await client.request([
                "type": "request", "event": "publish", "id": "b",
                "data": ["to_user": "x", "to_connection": "y", "event": "note", "data": [:]],
            ])
            #expect(both["error_code"] == "VALIDATION_ERROR")
            let empty = try await client.request(Self.direct("to_user", ""))
            #expect(empty["error_code"] == "VALIDATION_ERROR")
            let notString = try await client.request([
                "type": "request", "event": "publish", "id": "n", "data": ["to_user": 5, "event": "note"],
            ])
            #expect(notString["error_code"] == "VALIDATION_ERROR")
            let unnamed = try await client.request([
                "type": "request", "event": "publish", "id": "u", "data": ["to_user": "x", "data": [:]],
            ])
            #expect(unnamed["error_code"] == "VALIDATION_ERROR")
            let reserved = try await client.request(Self.direct("to_user", "x", event: "presence.joined"))
            #expect(reserved["error_code"] == "VALIDATION_ERROR")
            let badData = try await client.request([
                "type": "request", "event": "publish", "id": "d", "data": ["to_user": "x", "event": "note", "data": [1]],
            ])
            #expect(badData["error_code"] == "VALIDATION_ERROR")
            await client.close()
        }
    }

    @Test("over HTTP: 200 with the count, 404 for nobody, 401/403 as for publishing")
    func overHTTP() async throws {
        try await TestServer.with(configure: AuthTests.authOn) { server in
            let (bob, bobID) = try await Self.connect(server, user: "bob", permissions: [])
            let key = ["X-API-Key": "producer-key-1"]
            let body = #"{"event":"note","data":{"text":"from http"}}"#

            let toUser = try await HTTP.post(server.httpURL + "/api/users/bob/events", json: body, headers: key)
            #expect(toUser.status == 200)
            #expect(toUser.body["connections"] == 1)
            #expect(toUser.body["to_user"] == "bob")
            let message = try await bob.next()
            #expect(message["data"]?["text"] == "from http")
            #expect(message["publisher"] == .string(IdentityTests.keyName("producer-key-1")))
            #expect(message["from_connection"] == nil, "HTTP has no connection")

            let toConnection = try await HTTP.post(server.httpURL + "/api/connections/\(bobID)/events", json: body, headers: key)
            #expect(toConnection.status == 200)
            #expect(try await bob.next()["to_connection"] == .string(bobID))

            let missing = try await HTTP.post(server.httpURL + "/api/users/nobody/events", json: body, headers: key)
            #expect(missing.status == 404)
            #expect(missing.body["error_code"] == "NOT_FOUND")
            let anonymous = try await HTTP.post(server.httpURL + "/api/users/bob/events", json: body)
            #expect(anonymous.status == 401)
            let reader = try await TestTokens.hs256(user: "r", permissions: ["item:read"])
            let forbidden = try await HTTP.post(
                server.httpURL + "/api/users/bob/events", json: body, headers: ["Authorization": "Bearer \(reader)"])
            #expect(forbidden.status == 403)
            let broken = try await HTTP.post(server.httpURL + "/api/users/bob/events", json: "{", headers: key)
            #expect(broken.status == 400)
            let array = try await HTTP.post(server.httpURL + "/api/users/bob/events", json: "[]", headers: key)
            #expect(array.status == 400)
            let unnamed = try await HTTP.post(server.httpURL + "/api/users/bob/events", json: #"{"data":{}}"#, headers: key)
            #expect(unnamed.status == 422)
            #expect(await bob.receivesNothing(for: .milliseconds(200)))
            await bob.close()
        }
    }
}
