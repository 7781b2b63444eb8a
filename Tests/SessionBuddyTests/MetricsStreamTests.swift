import Common
import Testing
import TestSupport

@testable import SessionBuddy

/// session-buddy's flat-JSON metrics stream (upstream's `RealTimeMetricsServer` protocol), fed by `skills`.
@Suite("session-buddy: the metrics stream its real clients speak")
struct MetricsStreamTests {
    static func fast(_ settings: inout Settings) { settings.metricsStream.updateInterval = 0.1 }

    static func streamURL(_ server: TestServer) async throws -> String {
        for _ in 0..<100 {
            if let port = server.server.metricsStreamPort { return "ws://127.0.0.1:\(port)" }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestTimeout(description: "the metrics stream did not start")
    }

    /// The next message of `type`, skipping others (updates keep coming).
    static func next(_ type: String, _ client: TestClient) async throws -> JSONObject {
        while true {
            let message = try await client.next()
            if message["type"] == .string(type) { return message }
        }
    }

    @Test("welcome, subscribe, updates with upstream's keys from skill events, a filter, ping")
    func protocolAsUpstream() async throws {
        try await TestServer.with(SessionBuddy.definition(), configure: Self.fast) { server in
            let broadcast = SessionBuddyBroadcaster(server.server)
            for duration in [1.0, 3.0] { try await broadcast.skillInvoked(skillName: "pytest-run", durationSeconds: duration) }
            try await broadcast.skillInvoked(skillName: "pytest-run", completed: false)
            try await broadcast.skillInvoked(skillName: "ruff", durationSeconds: 0.5)
            try await broadcast.skillAnomaly(skillName: "ruff", anomalyType: "slow", deviationScore: 2.5)

            let url = try await Self.streamURL(server)
            let all = try await TestClient.connect(url)
            let welcome = try await all.next()
            #expect(welcome["type"] == "connected")
            #expect(welcome["message"] == "Connected to Session-Buddy real-time metrics")
            #expect(welcome["authenticated"] == false)
            #expect(welcome["timestamp"]?.stringValue != nil)
            try await all.send(["type": "subscribe", "skill": nil])
            let confirmed = try await Self.next("subscription_confirmed", all)
            #expect(confirmed["skill"] == .null)
            let update = try await Self.next("metrics_update", all)
            let top = update["data"]?["top_skills"]?.arrayValue ?? []
            #expect(top.count == 2)
            #expect(
                top.first == [
                    "skill_name": "pytest-run", "total_invocations": 3, "completion_rate": .double(200.0 / 3),
                    "avg_duration_seconds": 2.0,
                ])
            #expect(top.last?["skill_name"] == "ruff")
            let anomalies = update["data"]?["anomalies"]?.arrayValue ?? []
            #expect(anomalies.count == 1)
            #expect(anomalies.first?["anomaly_type"] == "slow")
            #expect(anomalies.first?["deviation_score"] == 2.5)

            let one = try await TestClient.connect(url)
            _ = try await one.next()
            try await one.send(["type": "subscribe", "skill": "ruff"])
            #expect(try await Self.next("subscription_confirmed", one)["skill"] == "ruff")
            let filtered = try await Self.next("metrics_update", one)
            #expect(filtered["data"]?["top_skills"]?.arrayValue?.map { $0["skill_name"] } == ["ruff"])
            #expect(filtered["data"]?["anomalies"] == [])
            try await one.send(["type": "ping"])
            #expect(try await Self.next("pong", one) == ["type": "pong"])
            await one.close()
            await all.close()
        }
    }

    @Test("with auth on, the first message carries the token; a bad one closes with 4001")
    func authentication() async throws {
        let configure: @Sendable (inout Settings) -> Void = { settings in
            Self.fast(&settings)
            settings.auth.enabled = true
            settings.auth.jwtSecret = TestTokens.secret
        }
        try await TestServer.with(SessionBuddy.definition(), configure: configure) { server in
            let url = try await Self.streamURL(server)
            let refused = try await TestClient.connect(url)
            try await refused.send(["token": "not-a-token"])
            let (code, reason) = try await refused.closed()
            #expect(code == 4001)
            #expect(reason == "Authentication failed")

            let client = try await TestClient.connect(url)
            #expect(await client.receivesNothing(for: .milliseconds(200)), "nothing before the token")
            try await client.send(["token": .string(try await TestTokens.hs256(user: "alice"))])
            let welcome = try await client.next()
            #expect(welcome["type"] == "connected")
            #expect(welcome["authenticated"] == true)
            #expect(try await Self.next("metrics_update", client)["data"]?["top_skills"] == [])
            await client.close()
        }
    }

    @Test("metrics_stream.enabled: false serves no stream")
    func off() async throws {
        try await TestServer.with(SessionBuddy.definition(), configure: { $0.metricsStream.enabled = false }) { server in
            try await Task.sleep(for: .milliseconds(200))
            #expect(server.server.metricsStreamPort == nil)
        }
    }
}
