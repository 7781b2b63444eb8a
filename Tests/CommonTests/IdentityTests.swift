import Common
import Crypto
import Foundation
import Testing
import TestSupport

/// Server-stamped identity (docs/protocol.md, "Connecting" and "Room events"): the welcome names the user, and events a client publishes carry a
/// `publisher` the server sets from the credential, after the nine envelope keys, whatever the client sends.
@Suite("Identity: user_id in the welcome, publisher on published events")
struct IdentityTests {
    static let publish: JSONObject = [
        "type": "request", "event": "publish", "id": "p",
        // A forged publisher, at the top of the message and beside the event: both must be ignored.
        "publisher": "mallory",
        "data": ["room": "feed", "event": "feed.entry", "data": ["text": "x"], "publisher": "mallory"],
    ]

    @Test("with auth on: the welcome carries user_id, and the publisher is the token's user or the API key's name")
    func stampedWithAuth() async throws {
        try await TestServer.with(configure: AuthTests.authOn) { server in
            let reader = try await TestClient.connect(server.wsURL, headers: ["X-API-Key": "producer-key-1"])
            let readerWelcome = try await reader.next()
            #expect(readerWelcome["data"]?["user_id"] == .null, "an API key names no user")
            #expect(try await reader.request(["type": "subscribe", "data": ["channel": "feed"]])["type"] == "response")

            let token = try await TestTokens.hs256(user: "alice", permissions: ["publish"])
            let alice = try await TestClient.connect(server.wsURL + "?token=" + token)
            let aliceWelcome = try await alice.next()
            #expect(aliceWelcome["data"]?["user_id"] == "alice")
            let aliceID = try #require(aliceWelcome["data"]?["connection_id"]?.stringValue)
            #expect(try await alice.request(Self.publish)["type"] == "ack")

            let text = try await reader.nextText()
            #expect(text.contains(#""error_message":null,"publisher":"alice","seq":1,"#), "\(text)")
            #expect(!text.contains(aliceID), "from_connection is for client-to-client rooms only")
            let event = try JSONParser.parse(text)
            #expect(event["publisher"] == "alice")
            #expect(event["data"]?["publisher"] == nil, "the catalogue's fields only: \(text)")

            let body = #"{"room":"feed","event":"feed.entry","data":{"text":"y"}}"#
            let posted = try await HTTP.post(
                server.httpURL + "/api/events", json: body, headers: ["X-API-Key": "producer-key-1"])
            #expect(posted.status == 200)
            let fromHTTP = try await reader.next()
            #expect(fromHTTP["publisher"] == .string(Self.keyName("producer-key-1")))
            #expect(fromHTTP["publisher"]?.stringValue?.contains("producer") == false, "the key itself never shows")
            await alice.close()
            await reader.close()
        }
    }

    @Test("with auth off: user_id is null and events carry no publisher")
    func unstampedWithoutAuth() async throws {
        try await TestServer.with { server in
            let client = try await TestClient.connect(server.wsURL)
            let welcome = try await client.next()
            #expect(welcome["data"]?["user_id"] == .null)
            #expect(try await client.request(["type": "subscribe", "data": ["channel": "feed"]])["type"] == "response")
            let producer = try await TestClient.connect(server.wsURL)
            _ = try await producer.next()
            #expect(try await producer.request(Self.publish)["type"] == "ack")
            let event = try await client.next()
            #expect(event["event"] == "feed.entry")
            #expect(event["publisher"] == nil)
            await producer.close()
            await client.close()
        }
    }

    /// What the server names an API key: `api_key:` and the first 8 hex digits of its SHA-256.
    static func keyName(_ key: String) -> String {
        "api_key:" + SHA256.hash(data: Data(key.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }
}
