import Common
import Foundation
import Testing
import TestSupport

/// Direct messages and presence over several instances sharing a real redis-server (docs/scaling.md).
@Suite("Presence and direct messages across instances", .enabled(if: RedisProcess.isAvailable, "needs redis-server"))
struct ClusterPresenceTests {
    static func clusteredWithAuth(_ redis: RedisProcess) -> (inout Settings) -> Void {
        { settings in
            ClusterTests.clustered(redis)(&settings)
            AuthTests.authOn(&settings)
            settings.presenceDebounce = 0.05
        }
    }

    static func connect(_ server: TestServer, user: String, permissions: [String]) async throws -> (TestClient, String) {
        let token = try await TestTokens.hs256(user: user, permissions: permissions)
        let client = try await TestClient.connect(server.wsURL + "?token=" + token)
        let welcome = try await client.next()
        return (client, try #require(welcome["data"]?["connection_id"]?.stringValue))
    }

    static func send(_ client: TestClient, _ target: JSONObject) async throws -> JSONObject {
        var data = target
        data["event"] = "note"
        data["data"] = ["text": "hi"]
        return try await client.request(["type": "request", "event": "publish", "id": "d", "data": .object(data)])
    }

    @Test("to a user on every instance, to a connection on another one; NOT_FOUND once it has gone")
    func directAcrossInstances() async throws {
        let redis = try await RedisProcess()
        let a = try await TestServer.start(configure: Self.clusteredWithAuth(redis))
        let b = try await TestServer.start(configure: Self.clusteredWithAuth(redis))
        try await ClusterTests().waitForCluster([a, b])
        let (alice, _) = try await Self.connect(a, user: "alice", permissions: ["publish"])
        let (bobOnA, _) = try await Self.connect(a, user: "bob", permissions: [])
        let (bobOnB, bobOnBID) = try await Self.connect(b, user: "bob", permissions: [])

        let toUser = try await TestClient.poll(.seconds(10), "bob's connections in the directory") {
            try await Task.sleep(for: .milliseconds(50))  // under the message rate limit
            let ack = try await Self.send(alice, ["to_user": "bob"])
            return ack["data"]?["connections"] == 2 ? ack : nil
        }
        #expect(toUser["type"] == "ack")
        // Polling may have delivered earlier tries (each reached someone): read until the matching count.
        for bob in [bobOnA, bobOnB] {
            let message = try await bob.next()
            #expect(message["event"] == "note")
            #expect(message["to_user"] == "bob")
            #expect(message["publisher"] == "alice")
        }
        while await !bobOnA.receivesNothing(for: .milliseconds(50)) {}
        while await !bobOnB.receivesNothing(for: .milliseconds(50)) {}

        let toConnection = try await Self.send(alice, ["to_connection": .string(bobOnBID)])
        #expect(toConnection["data"]?["connections"] == 1, "\(toConnection)")
        #expect(try await bobOnB.next()["to_connection"] == .string(bobOnBID))
        #expect(await bobOnA.receivesNothing(for: .milliseconds(200)))

        let overHTTP = try await HTTP.post(
            a.httpURL + "/api/connections/\(bobOnBID)/events", json: #"{"event":"note","data":{}}"#,
            headers: ["X-API-Key": "producer-key-1"])
        #expect(overHTTP.status == 200)
        #expect(try await bobOnB.next()["event"] == "note")

        await bobOnB.close()
        let gone = try await TestClient.poll(.seconds(10), "bob's connection on b to leave the directory") {
            try await Task.sleep(for: .milliseconds(50))
            let reply = try await Self.send(alice, ["to_connection": .string(bobOnBID)])
            return reply["error_code"] == "NOT_FOUND" ? reply : nil
        }
        #expect(gone["error_message"]?.stringValue?.contains(bobOnBID) == true)
        #expect(try await Self.send(alice, ["to_user": "nobody"])["error_code"] == "NOT_FOUND")
        await alice.close()
        await bobOnA.close()
        try await a.stop()
        try await b.stop()
    }

    @Test("the presence request and events count and list members of every instance")
    func presenceAcrossInstances() async throws {
        let redis = try await RedisProcess()
        let a = try await TestServer.start(.presenceService, configure: Self.clusteredWithAuth(redis))
        let b = try await TestServer.start(.presenceService, configure: Self.clusteredWithAuth(redis))
        try await ClusterTests().waitForCluster([a, b])
        let (alice, aliceID) = try await Self.connect(a, user: "alice", permissions: [])
        let (bob, bobID) = try await Self.connect(b, user: "bob", permissions: [])
        _ = try await alice.request(["type": "subscribe", "data": ["channel": "desk:9"]])
        let own = try await alice.next()
        #expect(own["event"] == "presence.joined")
        _ = try await bob.request(["type": "subscribe", "data": ["channel": "desk:9"]])
        let joined = try await alice.next()
        #expect(joined["event"] == "presence.joined", "b's join reaches a's member: \(joined)")
        #expect(joined["data"]?["count"] == 2)
        #expect(joined["data"]?["members"]?[0]?["user_id"] == "bob")

        for client in [alice, bob] {
            let reply = try await client.request(["type": "request", "event": "presence", "id": "p", "data": ["room": "desk:9"]])
            let listed = reply["type"] == "response" ? reply : try await client.next()  // bob may see his join first
            #expect(listed["data"]?["count"] == 2, "\(listed)")
            let ids = Set(listed["data"]?["members"]?.arrayValue?.compactMap { $0["connection_id"]?.stringValue } ?? [])
            #expect(ids == [aliceID, bobID])
        }
        await bob.close()
        let left = try await TestClient.poll(.seconds(5), "bob's leave") {
            let event = try await alice.next()
            return event["event"] == "presence.left" ? event : nil
        }
        #expect(left["data"]?["count"] == 1)
        await alice.close()
        try await a.stop()
        try await b.stop()
    }

    @Test("a killed instance's members leave the count when its keys expire")
    func killedInstance() async throws {
        let redis = try await RedisProcess()
        let spawned = try await ClusteredServiceProcess(
            "session-buddy", prefix: "SESSION_BUDDY", redis: redis, environment: ["SESSION_BUDDY_WS_METRICS_STREAM_PORT": "0"])
        // The spawned binary's name and collab channel, so both instances share its keys.
        let sessionBuddy = ServiceDefinition(
            name: "session-buddy", environmentPrefix: "SESSION_BUDDY", defaultPort: 0, welcomeMessage: "test",
            channels: [ChannelSpec("collab:{session_id}", presence: .members, "editing together")], events: [])
        let survivor = try await TestServer.start(sessionBuddy, configure: ClusterTests.clustered(redis))
        let remote = try await TestClient.connect(spawned.wsURL)
        _ = try await remote.next()
        _ = try await remote.request(["type": "subscribe", "data": ["channel": "collab:s9"]])
        let local = try await survivor.client()
        _ = try await local.request(["type": "subscribe", "data": ["channel": "collab:s9"]])
        func count() async throws -> JSONValue? {
            try await Task.sleep(for: .milliseconds(100))  // under the message rate limit
            let reply = try await local.request([
                "type": "request", "event": "presence", "id": "p", "data": ["room": "collab:s9"],
            ])
            return reply["type"] == "response" ? reply["data"]?["count"] : nil  // presence events are skipped
        }
        try await TestClient.poll(.seconds(10), "both members counted") { try await count() == 2 ? true : nil }
        spawned.kill()
        try await TestClient.poll(.seconds(15), "the killed instance's members to expire") {
            try await count() == 1 ? true : nil
        }
        await local.close()
        try await survivor.stop()
    }
}
