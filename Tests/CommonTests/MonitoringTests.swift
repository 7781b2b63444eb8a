import Testing
import TestSupport

@testable import Common

@Suite("Monitoring: /metrics, /ready, status, alerts")
struct MonitoringTests {
    @Test("/metrics exports the reference's names, with room patterns as labels")
    func prometheus() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            _ = try await client.request(["type": "subscribe", "data": ["channel": "item:42"]])
            _ = try await server.server.publish(event: "item.changed", room: "item:42", data: ["item_id": "42", "value": 1])
            _ = try await client.next()
            try await client.send("not json")
            _ = try await client.next()
            let text = try await HTTP.get(server.httpURL + "/metrics").body.stringValue ?? ""
            let expected = [
                #"websocket_connections_total{server="test-service",tls_mode="ws"} 1"#,
                #"websocket_connections_active{server="test-service"} 1"#,
                #"websocket_broadcast_total{server="test-service",channel="item:*"} 1"#,
                #"websocket_messages_total{server="test-service",message_type="event",direction="sent"} 2"#,
                #"websocket_messages_total{server="test-service",message_type="subscribe",direction="received"} 1"#,
                #"websocket_message_errors_total{server="test-service",error_type="decode_error"} 1"#,
                #"websocket_rooms{server="test-service"} 1"#,
                #"websocket_subscriptions{server="test-service"} 1"#,
                #"websocket_broadcast_duration_seconds_count{server="test-service",channel="item:*"} 1"#,
                #"websocket_latency_seconds_count{server="test-service",message_type="subscribe"} 1"#,
            ]
            for line in expected { #expect(text.contains(line), "missing: \(line)") }
            #expect(!text.contains("item:42"), "raw room names must not become labels")
            await client.close()
        }
    }

    @Test("a fresh server exposes every label known in advance at 0, so rate() and alerts see the first increment")
    func labelsStartAtZero() async throws {
        try await TestServer.with { server in
            let text = try await HTTP.get(server.httpURL + "/metrics").body.stringValue ?? ""
            func zero(_ name: String, _ labels: [String: String]) {
                #expect(TestServer.sample(text, name, labels) == 0, "\(name) \(labels) should start at 0")
            }
            for label in [
                "protocol_error", "invalid_utf8", "message_too_big", "heartbeat_timeout", "rate_limit_abuse",
                "held_messages_overflow", "auth_failed", "auth_required", "token_expired", "slow_consumer",
                "server_at_capacity", "too_many_connections_from_address", "origin_forbidden", "not_found",
                "bad_handshake", "headers_too_large", "shutting_down",
            ] {
                zero("websocket_connection_errors_total", ["error_type": label])
            }
            for code in ErrorCode.allCases { zero("websocket_message_errors_total", ["error_type": code.rawValue.lowercased()]) }
            for type in MessageType.allCases {
                zero("websocket_messages_total", ["message_type": type.rawValue, "direction": "received"])
            }
            for outcome in ["peer_closed", "timeout", "byte_limit"] { zero("websocket_close_drains_total", ["outcome": outcome]) }
            for alert in ["connection_limit", "error_rate", "message_latency", "connection_latency"] {
                zero("websocket_alert_active", ["alert": alert])
            }
        }
    }

    @Test("refused upgrades count as connection errors")
    func connectionErrors() async throws {
        try await TestServer.with(configure: { $0.maxConnections = 1 }) { server in
            let client = try await server.client()
            await #expect(throws: (any Error).self) { try await TestClient.connect(server.wsURL) }
            let text = try await HTTP.get(server.httpURL + "/metrics").body.stringValue ?? ""
            #expect(text.contains(#"websocket_connection_errors_total{server="test-service",error_type="server_at_capacity"} 1"#))
            await client.close()
        }
    }

    @Test("/ready and /api/websocket/status")
    func readyAndStatus() async throws {
        try await TestServer.with { server in
            let ready = try await HTTP.get(server.httpURL + "/ready")
            #expect(ready.status == 200)
            #expect(ready.body["ready"] == true)
            let client = try await server.client()
            _ = try await client.request(["type": "ping"])
            let status = try await HTTP.get(server.httpURL + "/api/websocket/status").body
            #expect(status["success"] == true)
            #expect(status["data"]?["connected"] == true)
            #expect(status["data"]?["clients"] == 1)
            #expect(status["data"]?["messageCount"] == 1)
            #expect(status["data"]?["lastActivity"]?.stringValue?.hasSuffix("+00:00") == true)
            await client.close()
        }
    }

    @Test("crossing a threshold degrades /health, sets the alert metric, and clears again")
    func alerts() async throws {
        try await TestServer.with(configure: {
            $0.maxConnections = 4; $0.alertThresholds.connectionLimit = 0.5
        }) { server in
            let realtime = server.server
            func sample() {
                realtime.monitor.sample(
                    realtime.statistics, settings: realtime.settings, metrics: realtime.metrics, logger: realtime.logger)
            }
            sample()
            let clients = [try await server.client(), try await server.client(), try await server.client()]
            for client in clients { try await client.send("bad") }  // 3 errors in 3 messages: error rate 100%
            for client in clients { _ = try await client.next() }
            sample()
            var health = try await HTTP.get(server.httpURL + "/health").body
            #expect(health["status"] == "degraded")
            #expect(health["alerts"]?.arrayValue?.compactMap { $0["alert"]?.stringValue } == ["connection_limit", "error_rate"])
            let metrics = try await HTTP.get(server.httpURL + "/metrics").body.stringValue ?? ""
            #expect(metrics.contains(#"websocket_alert_active{server="test-service",alert="connection_limit"} 1"#))
            let history = try await HTTP.get(server.httpURL + "/api/websocket/history").body
            #expect(history["samples"]?.arrayValue?.last?["connections"] == 3)
            for client in clients { await client.close() }
            try await TestClient.poll(.seconds(15), "connections to close") { realtime.activeConnections == 0 ? true : nil }
            sample()
            health = try await HTTP.get(server.httpURL + "/health").body
            #expect(health["status"] == "healthy")
            #expect(health["alerts"] == [])
        }
    }
}
