import Common
import Foundation
import Testing
import TestSupport

/// What the real ecosystem expects of every service beyond the envelope: its dashboards' metric names, a
/// metrics port, the server description in `/health`.
@Suite("Ecosystem: Grafana metric names, metrics_port, server description")
struct EcosystemTests {
    /// Every metric upstream's Grafana dashboard (mahavishnu `docs/grafana/WebSocket_Monitoring.json`) queries,
    /// one expression per panel target, as written there.
    static let upstreamPanels = [
        #"sum(websocket_health{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"}) or vector(0)"#,
        #"websocket_connections{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"}"#,
        #"rate(websocket_messages_total{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"}[5m])"#,
        #"histogram_quantile(0.99, websocket_broadcast_duration_seconds{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"})"#,
        #"rate(websocket_errors_total{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"}[5m])"#,
        #"websocket_connections{server="mahavishnu"}"#,
        #"sum(rate(websocket_messages_total{server="mahavishnu"}[5m]))"#,
        #"websocket_health{server=~"$mahavishnu|dhara|akosha|crackerjack|excalidraw|fastblocks"}"#,
    ]

    /// The shipped dashboard's expressions.
    static func shippedPanels() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("deploy/grafana/backbone-dashboard.json"), encoding: .utf8)
        return try JSONParser.parse(text)["panels"]?.arrayValue?.flatMap { panel in
            panel["targets"]?.arrayValue?.compactMap { $0["expr"]?.stringValue } ?? []
        } ?? []
    }

    /// Metric names in a PromQL expression: identifiers followed by a selector. `up` is Prometheus's own.
    static func metricNames(_ expression: String) -> [String] {
        let regex = try! Regex(#"([a-zA-Z_:][a-zA-Z0-9_:]*)\{"#)
        return expression.matches(of: regex).compactMap { match in
            match.output[1].substring.map(String.init)
        }.filter { $0 != "up" }
    }

    @Test("every metric of upstream's Grafana dashboard and of ours has a series for the service")
    func grafanaPanels() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            _ = try await client.request(["type": "ping", "id": "p"])
            let exposition = try await HTTP.getText(server.httpURL + "/metrics")
            let panels = Self.upstreamPanels + (try Self.shippedPanels())
            #expect(panels.count > Self.upstreamPanels.count + 10)
            for expression in panels {
                let names = Self.metricNames(expression)
                #expect(!names.isEmpty || expression.hasPrefix("up{"), "\(expression)")
                for name in names {
                    let base = name.hasSuffix("_bucket") ? String(name.dropLast(7)) : name
                    let found = [base, base + "_bucket", base + "_count"].contains {
                        TestServer.sample(exposition, $0, ["server": "test-service"]) != nil
                    }
                    #expect(found, "no series of \(name) (from \(expression))")
                }
            }
            #expect(TestServer.sample(exposition, "websocket_connections", ["server": "test-service"]) == 1)
            #expect(TestServer.sample(exposition, "websocket_health", ["server": "test-service"]) == 1)
            #expect(TestServer.sample(exposition, "websocket_errors_total", ["error_type": "rate_limit_exceeded"]) != nil)
            await client.close()
        }
    }

    @Test("websocket_errors_total counts message and connection errors under their labels")
    func errorsTotal() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            _ = try await client.request(["type": "request", "event": "nope", "id": "x"])
            #expect(server.metric("websocket_errors_total", ["error_type": "unknown_request"]) == 1)
            #expect(server.metric("websocket_message_errors_total", ["error_type": "unknown_request"]) == 1)
            await client.close()
        }
    }

    @Test("metrics_port serves /metrics and /health only; WebSocket upgrades there get 404")
    func metricsPort() async throws {
        let port = try await RedisProcess.freePort()
        try await TestServer.with(configure: { $0.metricsPort = port }) { server in
            let base = "http://127.0.0.1:\(port)"
            var exposition = ""
            for _ in 0..<50 {  // the second listener may come up a moment after the first
                if let text = try? await HTTP.getText(base + "/metrics") { exposition = text; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(TestServer.sample(exposition, "websocket_connections_active", ["server": "test-service"]) == 0)
            #expect(try await HTTP.get(base + "/health").body["status"] == "healthy")
            #expect(try await HTTP.get(base + "/api/catalog").status == 404)
            let socket = try await RawWebSocket.connect(port: port)
            #expect(try await socket.upgrade(path: "/ws").status == 404)
            await socket.closeTCP()
            #expect(try await HTTP.get(server.httpURL + "/metrics").status == 200, "the main port keeps /metrics")
        }
    }

    @Test("/health and the status API report the server description, named after the service by default")
    func description() async throws {
        try await TestServer.with { server in
            let health = try await HTTP.get(server.httpURL + "/health").body
            #expect(health["id"] == "test-service")
            #expect(health["name"] == "test-service")
            #expect(health["capabilities"] == [])
            #expect(health["relationships"] == .object([:]))
        }
        try await TestServer.with(configure: {
            $0.serverDescription.id = "orch-1"
            $0.serverDescription.name = "Orchestrator"
            $0.serverDescription.capabilities = ["workflows"]
            $0.serverDescription.relationships = ["depends_on": ["akosha"]]
        }) { server in
            let health = try await HTTP.get(server.httpURL + "/health").body
            #expect(health["id"] == "orch-1")
            #expect(health["name"] == "Orchestrator")
            #expect(health["capabilities"] == ["workflows"])
            #expect(health["relationships"] == ["depends_on": ["akosha"]])
            let status = try await HTTP.get(server.httpURL + "/api/websocket/status").body
            #expect(status["data"]?["server"]?["id"] == "orch-1")
        }
    }
}
