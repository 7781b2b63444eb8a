import Common
import Synchronization
import Testing
import TestSupport

/// Connection hooks (docs/architecture.md, "Services"): run off the event loops, in order, and the
/// subscribe hook may refuse.
@Suite("Connection hooks")
struct HooksTests {
    final class Journal: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func service(_ journal: Journal) -> ServiceDefinition {
        var definition = ServiceDefinition.testService
        definition.hooks = ConnectionHooks(
            onConnect: { journal.add("connect \($0.userID ?? "-")") },
            onDisconnect: { journal.add("disconnect \($0.userID ?? "-")") },
            onSubscribe: { client, room throws(ProtocolError) in
                // Slow on purpose: the client's next message must still wait for the verdict.
                try? await Task.sleep(for: .milliseconds(50))
                if room == "item:locked" { throw ProtocolError(.forbidden, "item:locked is being edited by someone else") }
                journal.add("subscribe \(room)")
            },
            onUnsubscribe: { _, room in journal.add("unsubscribe \(room)") })
        return definition
    }

    @Test("connect, subscribe, unsubscribe and disconnect run in order; a refusal reaches the client")
    func lifecycle() async throws {
        let journal = Journal()
        try await TestServer.with(Self.service(journal), configure: AuthTests.authOn) { server in
            let token = try await TestTokens.hs256(user: "alice", permissions: ["item:read"])
            let client = try await TestClient.connect(server.wsURL + "?token=" + token)
            _ = try await client.next()
            // Sent back to back: the ping's reply must come after the subscribe's, though the hook is slow.
            try await client.send(["type": "subscribe", "id": "s1", "data": ["channel": "item:1"]])
            try await client.send(["type": "ping", "id": "p1"])
            let first = try await client.next()
            #expect(first["correlation_id"] == "s1")
            #expect(first["type"] == "response")
            #expect(try await client.next()["type"] == "pong")

            let refused = try await client.request(["type": "subscribe", "id": "s2", "data": ["channel": "item:locked"]])
            #expect(refused["type"] == "error")
            #expect(refused["error_code"] == "FORBIDDEN")
            #expect(refused["error_message"] == "item:locked is being edited by someone else")

            #expect(
                try await client.request(["type": "subscribe", "id": "s3", "data": ["channel": "feed"]])["type"] == "response")
            #expect(
                try await client.request(["type": "unsubscribe", "id": "u", "data": ["channel": "feed"]])["type"] == "response")
            // Events still flow to the room the hook let it into.
            _ = try await server.server.publish(event: "item.changed", room: "item:1", data: ["item_id": "1", "value": 1])
            #expect(try await client.next()["event"] == "item.changed")
            await client.close()
            let expected = [
                "connect alice", "subscribe item:1", "subscribe feed", "unsubscribe feed", "unsubscribe item:1",
                "disconnect alice",
            ]
            _ = try await TestClient.poll(.seconds(5), "the disconnect hook") { journal.all.count >= expected.count ? true : nil }
            #expect(journal.all == expected)
        }
    }

    @Test("a connection that drops without a close still gets its unsubscribe and disconnect hooks")
    func abruptDisconnect() async throws {
        let journal = Journal()
        try await TestServer.with(Self.service(journal)) { server in
            let socket = try await RawWebSocket.open(port: server.port)
            try await socket.sendText(#"{"type":"subscribe","id":"s","data":{"channel":"feed"}}"#)
            _ = try await socket.nextFrame()
            await socket.closeTCP()
            let expected = ["connect -", "subscribe feed", "unsubscribe feed", "disconnect -"]
            _ = try await TestClient.poll(.seconds(5), "the disconnect hook") { journal.all.count >= expected.count ? true : nil }
            #expect(journal.all == expected)
        }
    }

    @Test("a connection that goes while its subscribe hook runs still gets the unsubscribe hook for that room")
    func goneDuringSubscribeHook() async throws {
        let journal = Journal()
        try await TestServer.with(Self.service(journal)) { server in
            let socket = try await RawWebSocket.open(port: server.port)
            try await socket.sendText(#"{"type":"subscribe","id":"s","data":{"channel":"feed"}}"#)
            await socket.closeTCP()  // the hook sleeps 50 ms: the socket is gone before its verdict
            let expected = ["connect -", "subscribe feed", "unsubscribe feed", "disconnect -"]
            _ = try? await TestClient.poll(.seconds(5), "the disconnect hook") {
                journal.all.count >= expected.count ? true : nil
            }
            try await Task.sleep(for: .milliseconds(100))  // nothing more arrives
            #expect(journal.all == expected)
        }
    }
}
