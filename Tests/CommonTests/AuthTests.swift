import Common
import Foundation
import Testing
import TestSupport

@Suite("Authentication and authorization (docs/security.md)")
struct AuthTests {
    static func authOn(_ settings: inout Settings) {
        settings.auth.enabled = true
        settings.auth.jwtSecret = TestTokens.secret
        settings.auth.apiKeys = ["producer-key-1"]
    }

    /// A credential presented with the upgrade that fails: AUTH_FAILED, then close 1008, never a welcome.
    /// (Read with the raw client: WSClient can drop a message that arrives together with the close.)
    func expectRefusedUpgrade(_ server: TestServer, path: String = "/ws", headers: [(String, String)] = []) async throws {
        let socket = try await RawWebSocket.open(port: server.port, path: path, headers: headers, readWelcome: false)
        let (frames, code, reason) = try await socket.readUntilClose()
        #expect(frames.count == 1, "\(frames)")
        #expect(frames.first?.text.contains(#""error_code":"AUTH_FAILED""#) == true)
        #expect(code == 1008)
        #expect(reason == "Authentication failed")
        await socket.closeTCP()
    }

    func subscribe(_ client: TestClient, _ room: String) async throws -> JSONObject {
        try await client.request(["type": "request", "event": "subscribe", "id": "s", "data": ["channel": .string(room)]])
    }

    @Test("first-frame auth: the response, then the welcome, then normal service")
    func firstFrame() async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            let client = try await TestClient.connect(server.wsURL)
            #expect(await client.receivesNothing(for: .milliseconds(150)), "no welcome before authentication")
            let token = try await TestTokens.hs256(user: "alice", permissions: ["item:read"])
            let reply = try await client.request([
                "type": "request", "event": "auth", "id": "a", "correlation_id": "c1", "data": ["token": .string(token)],
            ])
            #expect(reply["type"] == "response")
            #expect(reply["correlation_id"] == "c1")
            #expect(reply["data"] == ["status": "authenticated", "user_id": "alice"])
            let welcome = try await client.next()
            #expect(welcome["event"] == "session.created")
            #expect(welcome["data"]?["authenticated"] == true)
            #expect(try await subscribe(client, "item:1")["type"] == "response")
            await client.close()
        }
    }

    @Test(
        "a token in ?token= or Authorization: Bearer, or an API key in X-API-Key or Authorization: Bearer, authenticates the upgrade"
    )
    func upgradeCredentials() async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            let token = try await TestTokens.hs256(permissions: ["item:read"])
            let clients = [
                try await TestClient.connect(server.wsURL + "?token=" + token),
                try await TestClient.connect(server.wsURL, headers: ["Authorization": "Bearer " + token]),
                try await TestClient.connect(server.wsURL, headers: ["X-API-Key": "producer-key-1"]),
                try await TestClient.connect(server.wsURL, headers: ["Authorization": "Bearer producer-key-1"]),
            ]
            for client in clients {
                let welcome = try await client.next()
                #expect(welcome["event"] == "session.created")
                #expect(welcome["data"]?["authenticated"] == true)
                #expect(try await subscribe(client, "item:1")["type"] == "response")
                await client.close()
            }
        }
    }

    struct BadToken: Sendable, CustomTestStringConvertible {
        let name: String
        let make: @Sendable () async throws -> String
        var testDescription: String { name }
    }

    @Test(
        "bad tokens get AUTH_FAILED and close 1008, never a welcome",
        arguments: [
            BadToken(name: "expired") { try await TestTokens.hs256(expiresIn: -5) },
            BadToken(name: "not yet valid") { try await TestTokens.hs256(notBefore: 60) },
            BadToken(name: "issued in the future") { try await TestTokens.hs256(issuedAt: 60) },
            BadToken(name: "wrong secret") { try await TestTokens.hs256(secret: "another-secret") },
            BadToken(name: "HS512 when HS256 is configured") { try await TestTokens.hs256(digest: .sha512) },
            BadToken(name: "audience of another service") { try await TestTokens.hs256(audience: "akosha") },
            BadToken(name: "garbage") { "not.a.token" },
        ])
    func badTokens(_ bad: BadToken) async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            let token = try await bad.make()
            let client = try await TestClient.connect(server.wsURL)
            let reply = try await client.request([
                "type": "request", "event": "auth", "id": "a", "data": ["token": .string(token)],
            ])
            #expect(reply["error_code"] == "AUTH_FAILED")
            #expect(reply["error_message"] == "Invalid or expired token")
            #expect(reply["correlation_id"] == "a")
            let closed = try await client.closed()
            #expect(closed.code == 1008)
            #expect(closed.reason == "Authentication failed")
            // The same token presented with the upgrade fails the same way.
            try await expectRefusedUpgrade(server, path: "/ws?token=" + token)
            try await expectRefusedUpgrade(server, headers: [("Authorization", "Bearer " + token)])
        }
    }

    @Test("a missing token, a non-auth first frame and silence are refused with 1008")
    func refusals() async throws {
        // The default auth timeout, so a busy test machine cannot turn the first two cases into the third.
        try await TestServer.with(configure: Self.authOn) { server in
            let missing = try await TestClient.connect(server.wsURL)
            let reply = try await missing.request(["type": "request", "event": "auth", "id": "a", "data": [:]])
            #expect(reply["error_code"] == "AUTH_FAILED")
            #expect(reply["error_message"] == "Missing or malformed auth token")
            #expect(try await missing.closed().code == 1008)

            let eager = try await TestClient.connect(server.wsURL)
            let refused = try await eager.request(["type": "request", "event": "subscribe", "data": ["channel": "feed"]])
            #expect(refused["error_code"] == "AUTH_REQUIRED")
            #expect(try await eager.closed() == (1008, "Authentication required"))

            try await expectRefusedUpgrade(server, headers: [("X-API-Key", "wrong")])
        }
        try await TestServer.with(configure: {
            Self.authOn(&$0); $0.auth.timeout = 0.3
        }) { server in
            let silent = try await TestClient.connect(server.wsURL)
            #expect(try await silent.next()["error_code"] == "AUTH_REQUIRED")
            #expect(try await silent.closed().code == 1008)
        }
    }

    @Test("channel permissions: FORBIDDEN without them; admin and <service>:admin see everything")
    func channelPermissions() async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            for (permissions, allowed) in [
                ([], false), (["other:read"], false), (["item:read"], true),
                (["admin"], true), (["test-service:admin"], true), ([" ITEM:READ"], true),
            ] {
                let token = try await TestTokens.hs256(permissions: permissions)
                let client = try await TestClient.connect(server.wsURL + "?token=" + token)
                _ = try await client.next()
                let reply = try await subscribe(client, "item:7")
                if allowed {
                    #expect(reply["type"] == "response", "\(permissions)")
                } else {
                    #expect(reply["error_code"] == "FORBIDDEN", "\(permissions)")
                    #expect(reply["error_message"] == "Not authorized to subscribe to item:7")
                }
                // Channels without a permission take any authenticated client.
                #expect(try await subscribe(client, "feed")["type"] == "response")
                await client.close()
            }
        }
    }

    @Test("publishing needs an API key or the publish permission, over WebSocket and HTTP")
    func publishPermission() async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            let readOnly = try await TestClient.connect(
                server.wsURL + "?token=" + (try await TestTokens.hs256(permissions: ["item:read"])))
            _ = try await readOnly.next()
            let publish: JSONObject = [
                "type": "request", "event": "publish", "id": "p",
                "data": ["room": "feed", "event": "feed.entry", "data": ["text": "x"]],
            ]
            #expect(try await readOnly.request(publish)["error_code"] == "FORBIDDEN")
            let writer = try await TestClient.connect(
                server.wsURL + "?token=" + (try await TestTokens.hs256(permissions: ["publish"])))
            _ = try await writer.next()
            #expect(try await writer.request(publish)["type"] == "ack")

            let body = #"{"room":"feed","event":"feed.entry","data":{"text":"x"}}"#
            #expect(try await HTTP.post(server.httpURL + "/api/events", json: body).status == 401)
            let url = server.httpURL + "/api/events"
            #expect(try await HTTP.post(url, json: body, headers: ["X-API-Key": "producer-key-1"]).status == 200)
            #expect(try await HTTP.post(url, json: body, headers: ["Authorization": "Bearer producer-key-1"]).status == 200)
            #expect(try await HTTP.post(url, json: body, headers: ["Authorization": "Bearer producer-key-2"]).status == 401)
            let reader = "Bearer " + (try await TestTokens.hs256(permissions: ["item:read"]))
            let forbidden = try await HTTP.post(url, json: body, headers: ["Authorization": reader])
            #expect(forbidden.status == 403)
            #expect(forbidden.body["error_code"] == "FORBIDDEN")
            let expired = "Bearer " + (try await TestTokens.hs256(expiresIn: -1))
            #expect(try await HTTP.post(url, json: body, headers: ["Authorization": expired]).status == 401)
            #expect(try await HTTP.post(url, json: body, headers: ["X-API-Key": "wrong"]).status == 401)
            await readOnly.close()
            await writer.close()
        }
    }

    @Test("an expiring token closes the connection with 4003 unless it is refreshed")
    func expiryAndRefresh() async throws {
        try await TestServer.with(configure: Self.authOn) { server in
            let short = try await TestTokens.hs256(expiresIn: 4)  // room for a busy machine to connect and refresh first
            let lapsing = try await TestClient.connect(server.wsURL + "?token=" + short)
            let refreshed = try await TestClient.connect(server.wsURL + "?token=" + short)
            _ = try await lapsing.next()
            _ = try await refreshed.next()
            let long = try await TestTokens.hs256(user: "alice", expiresIn: 3600)
            let reply = try await refreshed.request([
                "type": "request", "event": "auth", "id": "r", "data": ["token": .string(long)],
            ])
            #expect(reply["data"]?["status"] == "authenticated")
            #expect(await refreshed.receivesNothing(for: .milliseconds(50)), "a refresh sends no second welcome")
            #expect(try await lapsing.closed(timeout: .seconds(10)) == (4003, "Token expired"))
            #expect(try await refreshed.request(["type": "ping", "id": "alive"])["type"] == "pong")
            // A bad refresh is refused, and the connection keeps its current token.
            let bad = try await refreshed.request(["type": "request", "event": "auth", "id": "r2", "data": ["token": "nope"]])
            #expect(bad["error_code"] == "AUTH_FAILED")
            #expect(try await refreshed.request(["type": "ping", "id": "still"])["type"] == "pong")
            await refreshed.close()
        }
    }

    @Test("ES256 tokens verify against a configured public key")
    func es256() async throws {
        let (token, pem) = try await TestTokens.es256(permissions: ["item:read"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("es256-\(UUID4.make()).pem").path
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        try await TestServer.with(configure: {
            $0.auth.enabled = true
            $0.auth.jwtAlgorithm = "ES256"
            $0.auth.jwtPublicKeyFile = path
        }) { server in
            let client = try await TestClient.connect(server.wsURL + "?token=" + token)
            #expect(try await client.next()["data"]?["authenticated"] == true)
            await client.close()
            try await expectRefusedUpgrade(server, path: "/ws?token=" + (try await TestTokens.hs256()))
        }
    }

    @Test("the reference's environment names configure auth; enabled without a key is refused")
    func environment() throws {
        let settings = try SettingsLoader.load(
            service: .testService, configPath: nil,
            environment: ["TEST_SERVICE_AUTH_ENABLED": "true", "TEST_SERVICE_JWT_SECRET": "s3cret"], flags: [:])
        #expect(settings.auth.enabled)
        #expect(settings.auth.jwtSecret == "s3cret")
        var withAlias = ServiceDefinition.testService
        withAlias.environmentAliases = ["BODAI_SHARED_SECRET": "jwt_secret"]
        let shared = try SettingsLoader.load(
            service: withAlias, configPath: nil,
            environment: ["TEST_SERVICE_AUTH_ENABLED": "1", "BODAI_SHARED_SECRET": "shared"], flags: [:])
        #expect(shared.auth.jwtSecret == "shared")
        #expect(throws: SettingsError.self) {
            try SettingsLoader.load(
                service: .testService, configPath: nil, environment: ["TEST_SERVICE_AUTH_ENABLED": "yes"], flags: [:])
        }
    }
}

import Crypto

@Suite("HMAC key padding")
struct HMACPaddingTests {
    @Test("zero-padding a short secret to 32 bytes leaves HMAC-SHA256/384/512 unchanged")
    func equivalence() {
        let message = Array("header.payload".utf8)
        for secret in ["test-secret", "dev-secret-change-in-production", "x"] {
            let short = SymmetricKey(data: Array(secret.utf8))
            let padded = Authenticator.hmacKey(secret, length: 64)
            #expect(padded.bitCount == 512)
            #expect(
                Data(HMAC<SHA256>.authenticationCode(for: message, using: short))
                    == Data(HMAC<SHA256>.authenticationCode(for: message, using: padded)))
            #expect(
                Data(HMAC<SHA512>.authenticationCode(for: message, using: short))
                    == Data(HMAC<SHA512>.authenticationCode(for: message, using: padded)))
        }
    }
}
