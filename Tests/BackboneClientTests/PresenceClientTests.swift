import BackboneClient
import Common
import Testing
import TestSupport

/// The Swift client's side of presence and direct messages (docs/clients.md).
@Suite("Swift client: presence and direct messages")
struct PresenceClientTests {
    static func connected(_ server: TestServer, token: String? = nil) async throws -> (BackboneClient, Recorder) {
        let client = BackboneClient(ClientConfiguration(urls: [server.wsURL], token: token))
        let recorder = Recorder(client)
        await client.start()
        try await TestClient.poll(.seconds(15), "the welcome") { await client.connectionID }
        return (client, recorder)
    }

    @Test("presence lists the room's members; presence events arrive as room events; members publish to each other")
    func presence() async throws {
        try await TestServer.with(.presenceService, configure: { $0.presenceDebounce = 0.05 }) { server in
            let (alice, aliceLog) = try await Self.connected(server)
            let (bob, _) = try await Self.connected(server)
            try await alice.subscribe("desk:7")
            try await bob.subscribe("desk:7")
            let aliceID = try #require(await alice.connectionID)
            let bobID = try #require(await bob.connectionID)

            let presence = try await alice.presence(of: "desk:7")
            #expect(presence.mode == "members")
            #expect(presence.count == 2)
            #expect(Set(presence.members.map(\.connectionID)) == [aliceID, bobID])
            #expect(presence.members.allSatisfy { $0.joinedAt != nil && $0.userID == nil })
            #expect(!presence.truncated)
            #expect(try await alice.presence(of: "desk:7", limit: 1).members.count == 1)

            try await aliceLog.waitForEvents(1)
            #expect(aliceLog.events.first?.event == "presence.joined")

            // (Members publishing without the publish right is tested with auth on in CommonTests; here, the
            // stamp the client hands over.)
            try await bob.publish(room: "desk:7", event: "desk.note", data: ["text": "hi"])
            try await TestClient.poll(.seconds(15), "alice gets the note") {
                aliceLog.events.first { $0.event == "desk.note" }
            }
            let note = try #require(aliceLog.events.first { $0.event == "desk.note" })
            #expect(note.fromConnection == bobID)
            #expect(note.publisher == nil, "auth is off: nobody to name")

            do {
                _ = try await alice.presence(of: "feed")
                Issue.record("feed has no presence")
            } catch let error as ClientError {
                #expect(error.code == "VALIDATION_ERROR")
            }
            await alice.stop()
            await bob.stop()
        }
    }

    @Test("send(toUser:) reaches every connection of the user; send(toConnection:) one; NOT_FOUND for nobody")
    func direct() async throws {
        try await TestServer.with(configure: {
            $0.auth.enabled = true; $0.auth.jwtSecret = TestTokens.secret
        }) { server in
            let sender = try await TestTokens.hs256(user: "alice", permissions: ["publish"])
            let reader = try await TestTokens.hs256(user: "bob", permissions: [])
            let (alice, _) = try await Self.connected(server, token: sender)
            let (bob1, log1) = try await Self.connected(server, token: reader)
            let (bob2, log2) = try await Self.connected(server, token: reader)
            #expect(await bob1.userID == "bob")
            let aliceID = try #require(await alice.connectionID)

            #expect(try await alice.send(toUser: "bob", event: "note", data: ["text": "to both"]) == 2)
            for log in [log1, log2] {
                let message = try await TestClient.poll(.seconds(15), "the message") { log.directs.first }
                #expect(message.event == "note")
                #expect(message.data["text"] == "to both")
                #expect(message.publisher == "alice")
                #expect(message.fromConnection == aliceID)
                #expect(message.to == .user("bob"))
            }
            let bob2ID = try #require(await bob2.connectionID)
            #expect(try await alice.send(toConnection: bob2ID, event: "note", data: ["text": "to one"]) == 1)
            let one = try await TestClient.poll(.seconds(15), "the second message") { log2.directs.dropFirst().first }
            #expect(one.to == .connection(bob2ID))
            #expect(log1.directs.count == 1)

            do {
                try await alice.send(toUser: "nobody", event: "note", data: [:])
                Issue.record("nobody is there")
            } catch let error as ClientError {
                #expect(error.code == "NOT_FOUND")
            }
            do {
                try await bob1.send(toUser: "alice", event: "note", data: [:])
                Issue.record("bob may not publish")
            } catch let error as ClientError {
                #expect(error.code == "FORBIDDEN")
            }
            for client in [alice, bob1, bob2] { await client.stop() }
        }
    }
}
