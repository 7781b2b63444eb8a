import Common
import Testing
import TestSupport

@testable import Akosha

@Suite("akosha: typed broadcaster")
struct AkoshaBroadcasterTests {
    @Test("every helper publishes its event to its room")
    func helpers() async throws {
        try await TestServer.with(Akosha.definition()) { server in
            let broadcast = AkoshaBroadcaster(server.server)
            try await server.expectDeliveries([
                .init(
                    "pattern.detected", in: "patterns:temporal",
                    ["pattern_id": "p1", "pattern_type": "temporal", "confidence": 0.9, "source": "x"]),
                .init("anomaly.detected", in: "anomalies", ["anomaly_id": "a1", "severity": "high", "metrics": ["z": 3.5]]),
                .init("insight.generated", in: "insights", ["insight_id": "i1", "title": "T", "data": [:]]),
                .init("aggregation.completed", in: "metrics", ["aggregation_id": "g1", "record_count": 10, "summary": ["n": 1]]),
            ]) {
                try await broadcast.patternDetected(
                    patternID: "p1", patternType: "temporal", description: "d", confidence: 0.9, metadata: ["source": "x"])
                try await broadcast.anomalyDetected(
                    anomalyID: "a1", anomalyType: "spike", severity: "high", description: "d", metrics: ["z": 3.5])
                try await broadcast.insightGenerated(
                    insightID: "i1", insightType: "trend", title: "T", description: "d", data: [:])
                try await broadcast.aggregationCompleted(
                    aggregationID: "g1", aggregationType: "hourly", recordCount: 10, summary: ["n": 1])
            }
        }
    }
}
