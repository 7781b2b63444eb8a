import Common
import Foundation
import MCP
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("MCP over HTTP: /mcp with the swift-sdk's client, and every refusal")
struct MCPHTTPTests {
    static let tools = [
        "websocket_broadcast_test_event", "websocket_get_metrics", "websocket_get_status",
        "websocket_health_check", "websocket_list_rooms",
    ]

    @Test("the swift-sdk's HTTP client transport lists and calls the five tools, answered from the live server")
    func sdkClient() async throws {
        try await TestServer.with { server in
            let subscriber = try await server.client()
            _ = try await subscriber.request(["type": "subscribe", "data": ["channel": "global"]])
            let client = Client(name: "mcp-http-test", version: "1.0")
            _ = try await client.connect(transport: HTTPClientTransport(endpoint: URL(string: server.httpURL + "/mcp")!))
            let listed = try await client.listTools().tools.map(\.name).sorted()
            #expect(listed == Self.tools)

            let health = try await Self.call(client, "websocket_health_check")
            #expect(health.result["status"] == "healthy" && health.result["connections"] == 1 && !health.isError)
            let sent = try await Self.call(
                client, "websocket_broadcast_test_event", ["event_type": "mcp.http", "room": "global"])
            #expect(sent.result["status"] == "broadcasted" && sent.result["subscribers"] == 1)
            let event = try await subscriber.next()
            #expect(event["event"] == "mcp.http" && event["data"]?["test"] == true)
            #expect(try await Self.call(client, "websocket_list_rooms").result["rooms"]?["global"]?["subscribers"] == 1)
            #expect(try await Self.call(client, "websocket_get_status").result["total_connections"] == 1)
            #expect(try await Self.call(client, "websocket_get_metrics").result["total_broadcasts"] == 1)
            let refused = try await Self.call(client, "websocket_broadcast_test_event", ["event_type": "x", "room": "nowhere"])
            #expect(refused.isError && refused.result["error"]?.stringValue?.hasPrefix("Unknown channel") == true)
            await client.disconnect()
            await subscriber.close()
        }
    }

    @Test(
        "refusals: no credential 401, a non-admin token 403, a foreign Origin 403, too large 413, no session 400, unknown session 404"
    )
    func refusals() async throws {
        try await TestServer.with(configure: {
            $0.auth.enabled = true
            $0.auth.jwtSecret = TestTokens.secret
            $0.auth.apiKeys = ["mcp-key"]
            $0.maxMessageSize = 4096
        }) { server in
            let url = server.httpURL + "/mcp"
            let reader = try await TestTokens.hs256(permissions: ["item:read"])
            let admin = try await TestTokens.hs256(permissions: ["admin"])
            let cases: [(headers: [String: String], body: String, status: Int, message: String)] = [
                ([:], Self.initialize, 401, "needs X-API-Key"),
                (["Authorization": "Bearer not-a-token"], Self.initialize, 401, "Unauthorized"),
                (["Authorization": "Bearer \(reader)"], Self.initialize, 403, "API key or a token with 'admin'"),
                (["X-API-Key": "mcp-key", "Origin": "http://evil.example"], Self.initialize, 403, "Origin"),
                (["X-API-Key": "mcp-key"], String(repeating: " ", count: 5000) + Self.initialize, 413, "max_message_size"),
                (["X-API-Key": "mcp-key"], #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, 400, "Session-Id header"),
                (
                    ["X-API-Key": "mcp-key", "Mcp-Session-Id": "nope"], #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, 404,
                    "not found"
                ),
            ]
            for c in cases {
                let reply = try await Self.post(url, c.body, headers: c.headers)
                #expect(reply.status == c.status, "\(c.headers)")
                #expect(reply.error?.contains(c.message) == true, "\(c.headers): \(reply.error ?? reply.text)")
            }
            for credential in [
                ["X-API-Key": "mcp-key"], ["Authorization": "Bearer mcp-key"], ["Authorization": "Bearer \(admin)"],
                ["X-API-Key": "mcp-key", "Origin": "http://localhost:3000"],
            ] {
                let opened = try await Self.post(url, Self.initialize, headers: credential)
                #expect(opened.status == 200 && opened.session != nil, "\(credential): \(opened.text)")
            }
        }
    }

    @Test("sessions are capped (503 beyond mcp_max_sessions) and a DELETE frees one")
    func sessionCap() async throws {
        try await TestServer.with(configure: { $0.mcpMaxSessions = 1 }) { server in
            let url = server.httpURL + "/mcp"
            let first = try await Self.post(url, Self.initialize)
            let session = try #require(first.session)
            let second = try await Self.post(url, Self.initialize)
            #expect(second.status == 503 && second.error?.contains("mcp_max_sessions") == true)
            var delete = URLRequest(url: URL(string: url)!)
            delete.httpMethod = "DELETE"
            delete.setValue(session, forHTTPHeaderField: "Mcp-Session-Id")
            let (_, deleted) = try await URLSession.shared.data(for: delete)
            #expect((deleted as? HTTPURLResponse)?.statusCode == 200)
            #expect(try await Self.post(url, Self.initialize).status == 200)
        }
    }

    @Test("a session unused for mcp_session_timeout is closed: its id then gets 404")
    func idleExpiry() async throws {
        try await TestServer.with(configure: { $0.mcpSessionTimeout = 1 }) { server in
            let url = server.httpURL + "/mcp"
            let session = try #require(try await Self.post(url, Self.initialize).session)
            let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
            let headers = ["Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"]
            #expect(try await Self.post(url, list, headers: headers).status == 200)
            try await Task.sleep(for: .milliseconds(1300))
            let expired = try await Self.post(url, list, headers: headers)
            #expect(expired.status == 404 && expired.error?.contains("expired") == true)
        }
    }

    @Test("mcp_port serves /mcp and /health only; the service port keeps /mcp")
    func mcpPort() async throws {
        let port = try await RedisProcess.freePort()
        try await TestServer.with(configure: { $0.mcpPort = port }) { server in
            var opened: (status: Int, error: String?, session: String?, text: String)?
            for _ in 0..<50 {  // the second listener may come up a moment after the first
                if let reply = try? await Self.post("http://127.0.0.1:\(port)/mcp", Self.initialize) { opened = reply; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(opened?.status == 200 && opened?.session != nil)
            #expect(opened?.text.contains("\"serverInfo\"") == true, "a JSON answer: \(opened?.text ?? "")")
            #expect(try await HTTP.get("http://127.0.0.1:\(port)/health").body["status"] == "healthy")
            #expect(try await HTTP.get("http://127.0.0.1:\(port)/api/catalog").status == 404)
            #expect(try await Self.post(server.httpURL + "/mcp", Self.initialize).status == 200)
        }
    }

    // MARK: Helpers

    static let initialize =
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    static func call(
        _ client: Client, _ name: String, _ arguments: [String: MCP.Value] = [:]
    ) async throws
        -> (result: JSONValue, isError: Bool)
    {
        let (content, isError) = try await client.callTool(name: name, arguments: arguments)
        guard case .text(let text, _, _)? = content.first else { return (.null, true) }
        return (try JSONParser.parse(text), isError ?? false)
    }

    /// A raw POST: the status, the JSON-RPC error message if any, and the session the server assigned.
    static func post(
        _ url: String, _ body: String, headers: [String: String] = [:]
    ) async throws
        -> (status: Int, error: String?, session: String?, text: String)
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        let text = String(decoding: data, as: UTF8.self)
        let error = (try? JSONParser.parse(text))?["error"]?["message"]?.stringValue
        return (http?.statusCode ?? 0, error, http?.value(forHTTPHeaderField: "Mcp-Session-Id"), text)
    }
}
