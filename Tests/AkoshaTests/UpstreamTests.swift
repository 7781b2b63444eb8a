import Testing
import TestSupport

@testable import Akosha

/// Broadcasts of the newest upstream release, written from its broadcaster helpers with the payloads they
/// build (each helper adds `timestamp` inside `data`). Every one must be accepted and delivered unchanged.
@Suite("akosha: upstream broadcasts")
struct AkoshaUpstreamTests {
    static let broadcasts: [UpstreamBroadcast] = [
        .init(
            "akosha-0.24.5/akosha/websocket/server.py:345-374", "patterns:code_pattern", "pattern.detected",
            #"{"pattern_id":"p-1","pattern_type":"code_pattern","description":"Repeated retry loop","confidence":0.92,"timestamp":"2026-01-01T12:00:00.123456+00:00","source":"session-buddy"}"#
        ),
        .init(
            "akosha-0.24.5/akosha/websocket/server.py:384-413", "anomalies", "anomaly.detected",
            #"{"anomaly_id":"a-1","anomaly_type":"latency_spike","severity":"high","description":"p99 doubled","metrics":{"p99_ms":420.0},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "akosha-0.24.5/akosha/websocket/server.py:423-452", "insights", "insight.generated",
            #"{"insight_id":"i-1","insight_type":"trend","title":"Tests getting slower","description":"...","data":{"delta":0.2},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "akosha-0.24.5/akosha/websocket/server.py:462-488", "metrics", "aggregation.completed",
            #"{"aggregation_id":"agg-1","aggregation_type":"hourly","record_count":1200,"summary":{"mean":1.5},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
    ]

    @Test("every broadcast the upstream release sends is accepted and delivered")
    func replay() async throws {
        try await TestServer.with(Akosha.definition()) { server in
            try await server.expectUpstreamBroadcastsAccepted(Self.broadcasts)
        }
    }
}
