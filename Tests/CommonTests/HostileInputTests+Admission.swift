import Common
import Testing
import TestSupport

extension HostileInputTests {
    /// Connections that never become (or stop being) well-behaved WebSockets: silent TCP, unanswered pings,
    /// a foreign `Origin`, too many connections from one address.
    @Suite("Admission and liveness: handshake timeout, heartbeat, Origin, per-address cap")
    struct Admission {
        typealias Op = RawWebSocket.Opcode

        @Test(
            "a TCP connection that never completes its HTTP request is dropped after handshake_timeout",
            arguments: ["", "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"])
        func handshakeTimeout(partialRequest: String) async throws {
            try await TestServer.with(configure: { $0.handshakeTimeout = 0.5 }) { server in
                let start = ContinuousClock.now
                let socket = try await RawWebSocket.connect(port: server.port)
                if !partialRequest.isEmpty { try await socket.write(Array(partialRequest.utf8)) }
                var notDropped: (any Error)?
                do { try await socket.waitForTCPClose(timeout: .seconds(5)) } catch { notDropped = error }
                let elapsed = ContinuousClock.now - start
                await socket.closeTCP()  // if it was not dropped, the server's shutdown would wait for it
                if let notDropped { throw notDropped }
                #expect(elapsed >= .milliseconds(450), "dropped after \(elapsed)")
                #expect(elapsed < .seconds(3), "dropped after \(elapsed)")
                #expect(socket.unreadByteCount == 0, "nothing is sent to a connection that said nothing")
                try await server.expectRecovered()
            }
        }

        @Test(
            "malformed or oversized upgrade requests get an HTTP error and no WebSocket",
            arguments: [
                (
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    400, "BAD_HANDSHAKE"
                ),
                (
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    400, "BAD_HANDSHAKE"
                ),
                (
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 8\r\n\r\n",
                    426, "BAD_HANDSHAKE"
                ),
                (
                    "GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    404, "NOT_FOUND"
                ),
                (
                    "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 13\r\n\r\n",
                    404, "NOT_FOUND"
                ),
                (
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pad: \(String(repeating: "a", count: 20_000))\r\n\r\n",
                    431, "HEADERS_TOO_LARGE"
                ),
                ("GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "a", count: 40_000))", 431, "HEADERS_TOO_LARGE"),
            ] as [(String, Int, String)])
        func badUpgrade(request: String, status: Int, code: String) async throws {
            try await TestServer.with { server in
                let socket = try await RawWebSocket.connect(port: server.port)
                try await socket.write(Array(request.utf8))
                let response = try await socket.readHTTPResponse()
                #expect(response.status == status, "\(response.body)")
                #expect(try JSONParser.parse(response.body)["error_code"] == .string(code), "\(response.body)")
                if status == 426 { #expect(response.headers["sec-websocket-version"] == "13") }
                #expect(response.headers["sec-websocket-accept"] == nil)
                try await socket.waitForTCPClose()
                #expect(server.server.activeConnections == 0)
                let metrics = try await HTTP.get(server.httpURL + "/metrics").body.stringValue ?? ""
                #expect(metrics.contains(#"error_type="\#(code.lowercased())""#), "counted in websocket_connection_errors_total")
                try await server.expectRecovered()
            }
        }

        @Test("a handshake in byte-sized pieces, and a frame sent right behind it in the same write, both work")
        func splitHandshake() async throws {
            try await TestServer.with { server in
                let request =
                    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                    + "Sec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
                let slow = try await RawWebSocket.connect(port: server.port)
                for byte in request.utf8 { try await slow.write([byte]) }
                let response = try await slow.readHTTPResponse()
                #expect(response.status == 101)
                #expect(response.headers["sec-websocket-accept"] == RawWebSocket.expectedAccept)
                #expect(String(decoding: try await slow.nextFrame().payload, as: UTF8.self).contains("session.created"))
                await slow.closeTCP()

                let eager = try await RawWebSocket.connect(port: server.port)
                let ping = RawWebSocket.frame(opcode: Op.text, payload: Array(#"{"type":"ping","id":"early"}"#.utf8))
                try await eager.write(Array(request.utf8) + ping)
                #expect(try await eager.readHTTPResponse().status == 101)
                #expect(String(decoding: try await eager.nextFrame().payload, as: UTF8.self).contains("session.created"))
                let pong = String(decoding: try await eager.nextFrame().payload, as: UTF8.self)
                #expect(pong.contains(#""type":"pong""#) && pong.contains("early"), "\(pong)")
                await eager.closeTCP()
                try await server.expectRecovered()
            }
        }

        @Test("an upgraded WebSocket is not subject to handshake_timeout")
        func upgradedOutlivesHandshakeTimeout() async throws {
            try await TestServer.with(configure: { $0.handshakeTimeout = 0.3 }) { server in
                let raw = try await RawWebSocket.open(server)
                #expect(await raw.receivesNothing(for: .seconds(1)))
                try await raw.sendJSON(["type": "ping", "id": "later"])
                #expect(try await raw.nextJSON()["correlation_id"] == "later")
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test("a client that never answers protocol pings is closed with 1011 Heartbeat timeout")
        func heartbeatTimeout() async throws {
            try await TestServer.with(configure: { $0.heartbeatInterval = 0.2 }) { server in
                let raw = try await RawWebSocket.open(server)
                let ping = try await raw.nextFrame(timeout: .seconds(2))
                let pinged = ContinuousClock.now
                #expect(ping.opcode == Op.ping)
                #expect(ping.fin && !ping.masked)
                // Not answered by the next heartbeat, one interval later: closed.
                try await raw.expectClose(1011, reason: "Heartbeat timeout", timeout: .seconds(2))
                let elapsed = ContinuousClock.now - pinged
                #expect(elapsed >= .milliseconds(150) && elapsed < .seconds(1), "closed \(elapsed) after the ping")
                try await server.expectRecovered()
            }
        }

        @Test("clients that answer pings (by hand, or by their library) stay open across many heartbeats")
        func heartbeatAnswered() async throws {
            try await TestServer.with(configure: { $0.heartbeatInterval = 0.3 }) { server in
                let raw = try await RawWebSocket.open(server)
                let library = try await server.client()
                let until = ContinuousClock.now + .milliseconds(1500)
                var pings = 0
                while ContinuousClock.now < until {
                    let frame = try await raw.nextFrame(timeout: .seconds(2))
                    #expect(frame.opcode == Op.ping, "\(frame)")
                    try await raw.send(opcode: Op.pong, payload: frame.payload)
                    pings += 1
                }
                #expect(pings >= 4)
                try await raw.sendJSON(["type": "ping", "id": "raw-alive"])
                var reply = try await raw.nextFrame()
                while reply.opcode == Op.ping { reply = try await raw.nextFrame() }  // a heartbeat may come first
                #expect(reply.text.contains("raw-alive"))
                #expect(try await library.request(["type": "ping", "id": "lib-alive"])["correlation_id"] == "lib-alive")
                #expect(server.server.activeConnections == 2)
                try await raw.closeCleanly()
                await library.close()
                try await server.expectRecovered()
            }
        }

        @Test("an Origin outside allowed_origins is refused with HTTP 403 ORIGIN_FORBIDDEN before the upgrade")
        func originForbidden() async throws {
            // swift-websocket's client (TestClient, used by expectRecovered) always sends `Origin: ws://<host>`.
            try await TestServer.with(configure: { $0.allowedOrigins = ["https://dashboard.example", "ws://127.0.0.1"] }) {
                server in
                for origin in [
                    "https://evil.example", "null", "https://dashboard.example.evil.example", "http://dashboard.example",
                ] {
                    let socket = try await RawWebSocket.connect(port: server.port)
                    let response = try await socket.upgrade(headers: [("Origin", origin)])
                    #expect(response.status == 403, "\(origin)")
                    #expect(response.headers["sec-websocket-accept"] == nil)
                    let body = try JSONParser.parse(response.body).objectValue
                    #expect(body?["error_code"] == "ORIGIN_FORBIDDEN", "\(response.body)")
                    #expect(body?["error_message"]?.stringValue?.contains(origin) == true)
                    try await socket.waitForTCPClose()
                    #expect(socket.unreadByteCount == 0, "no WebSocket frame after a refusal")
                }
                #expect(server.server.activeConnections == 0)
                // The allowed origin, and a client sending no Origin (not a browser), get in.
                let allowed = try await RawWebSocket.open(server, headers: [("Origin", "https://dashboard.example")])
                let noOrigin = try await RawWebSocket.open(server)
                try await allowed.closeCleanly()
                try await noOrigin.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test("max_connections_per_ip: the next upgrade from the address gets HTTP 503; a freed slot admits again")
        func perAddressCap() async throws {
            try await TestServer.with(configure: { $0.maxConnectionsPerIP = 3 }) { server in
                var open: [RawWebSocket] = []
                for _ in 0..<3 { open.append(try await RawWebSocket.open(server)) }
                let socket = try await RawWebSocket.connect(port: server.port)
                let response = try await socket.upgrade()
                #expect(response.status == 503)
                #expect(response.headers["retry-after"] != nil)
                #expect(
                    try JSONParser.parse(response.body)["error_code"] == "TOO_MANY_CONNECTIONS_FROM_ADDRESS", "\(response.body)")
                try await socket.waitForTCPClose()
                #expect(server.server.activeConnections == 3)
                // Plain HTTP is not a WebSocket connection and is still served.
                #expect(try await HTTP.get(server.httpURL + "/health").status == 200)
                try await open.removeFirst().closeCleanly()
                try await TestClient.poll(.seconds(15), "a freed slot") { server.server.activeConnections == 2 ? true : nil }
                open.append(try await RawWebSocket.open(server))
                for socket in open { try await socket.closeCleanly() }
                try await server.expectRecovered()
            }
        }
    }
}
