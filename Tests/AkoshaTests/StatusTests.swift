import Common
import Testing
import TestSupport

@testable import Akosha

@Suite("akosha: recent patterns and anomalies")
struct AkoshaStatusTests {
    @Test("get_patterns returns the patterns seen, newest first, by category")
    func patterns() async throws {
        try await TestServer.with(Akosha.definition()) { server in
            let broadcast = AkoshaBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_patterns") == ["category": "all", "patterns": [], "count": 0, "total_seen": 0])
            try await broadcast.patternDetected(patternID: "p1", patternType: "temporal", description: "a", confidence: 0.5)
            try await broadcast.patternDetected(patternID: "p2", patternType: "spatial", description: "b", confidence: 0.7)
            try await broadcast.patternDetected(patternID: "p3", patternType: "temporal", description: "c", confidence: 0.9)
            let all = try await client.ask("get_patterns")
            #expect(all["count"] == 3)
            #expect(all["patterns"]?.arrayValue?.map { $0["pattern_id"] } == ["p3", "p2", "p1"])
            let temporal = try await client.ask("get_patterns", ["category": "temporal", "limit": 1])
            #expect(temporal["category"] == "temporal")
            #expect(temporal["count"] == 2)
            #expect(temporal["patterns"]?.arrayValue?.map { $0["pattern_id"] } == ["p3"])
            await client.close()
        }
    }

    @Test("get_anomalies returns the anomalies seen, filterable by severity")
    func anomalies() async throws {
        try await TestServer.with(Akosha.definition()) { server in
            let broadcast = AkoshaBroadcaster(server.server)
            let client = try await server.client()
            for (id, severity) in [("a1", "low"), ("a2", "high")] {
                try await broadcast.anomalyDetected(
                    anomalyID: id, anomalyType: "spike", severity: severity, description: "d", metrics: [:])
            }
            #expect(try await client.ask("get_anomalies")["count"] == 2)
            let high = try await client.ask("get_anomalies", ["severity": "high"])
            #expect(high["anomalies"]?.arrayValue?.map { $0["anomaly_id"] } == ["a2"])
            let bad = try await client.request(["type": "request", "event": "get_anomalies", "data": ["limit": 0]])
            #expect(bad["error_code"] == "VALIDATION_ERROR")
            await client.close()
        }
    }

    @Test("memory stays bounded: only the newest items are kept")
    func bounded() {
        let items = RecentItems<Int>(capacity: 3)
        for n in 1...5 { items.append(n) }
        #expect(items.newestFirst() == [5, 4, 3])
        #expect(items.totalSeen == 5)
    }
}
