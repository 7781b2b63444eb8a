import Common
import Testing
import TestSupport

@Suite("Health and graceful shutdown")
struct LifecycleTests {
    @Test("GET /health reports the snapshot")
    func health() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            _ = try await client.request(["type": "subscribe", "data": ["channel": "feed"]])
            let response = try await HTTP.get(server.httpURL + "/health")
            #expect(response.status == 200)
            let body = response.body.objectValue!
            #expect(
                body.keys == [
                    "status", "service", "host", "port", "connections", "rooms", "max_connections", "message_rate_limit",
                    "uptime_seconds", "id", "name", "capabilities", "relationships", "alerts",
                ])
            #expect(body["alerts"] == [])
            #expect(body["status"] == "healthy")
            #expect(body["service"] == "test-service")
            #expect(body["port"] == JSONValue(server.port))
            #expect(body["connections"] == 1)
            #expect(body["rooms"] == 1)
            #expect(body["max_connections"] == 1000)
            #expect((body["uptime_seconds"]?.doubleValue ?? -1) >= 0)
            await client.close()
        }
    }

    @Test("shutdown closes every connection with 1001 and stops listening")
    func gracefulShutdown() async throws {
        let server = try await TestServer.start()
        let clients = [try await server.client(), try await server.client()]
        try await server.stop()
        for client in clients {
            let closed = try await client.closed()
            #expect(closed.code == 1001)
            #expect(closed.reason == "Server shutting down")
        }
        await #expect(throws: (any Error).self) { try await TestClient.connect(server.wsURL, timeout: .seconds(2)) }
    }

    @Test("connections over max_connections are refused before the upgrade")
    func capacity() async throws {
        try await TestServer.with(configure: { $0.maxConnections = 2 }) { server in
            let a = try await server.client(), b = try await server.client()
            await #expect(throws: (any Error).self) { try await TestClient.connect(server.wsURL) }
            await a.close()
            try await TestClient.poll(.seconds(15), "a free slot") { server.server.activeConnections < 2 ? true : nil }
            let c = try await server.client()
            await b.close()
            await c.close()
        }
    }
}

@Suite("HTTP keep-alive and late upgrades")
struct LateUpgradeTests {
    @Test("an upgrade after a plain request on the same connection is redirected to a fresh connection")
    func redirect() async throws {
        try await TestServer.with { server in
            let socket = try await RawWebSocket.connect(port: server.port)
            try await socket.write(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(try await socket.readHTTPResponse().status == 200)
            let late = try await socket.upgrade(path: "/ws?x=1")
            #expect(late.status == 307)
            #expect(late.headers["location"] == "/ws?x=1")
            #expect(late.headers["connection"] == "close")
            await socket.closeTCP()
            let fresh = try await RawWebSocket.open(port: server.port)  // a new connection upgrades fine
            await fresh.closeTCP()
        }
    }
}
