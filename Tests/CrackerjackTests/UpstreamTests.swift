import Testing
import TestSupport

@testable import Crackerjack

/// Broadcasts of the newest upstream release, written from its broadcaster helpers with the payloads they
/// build (each helper adds `timestamp` inside `data`). Every one must be accepted and delivered unchanged.
@Suite("crackerjack: upstream broadcasts")
struct CrackerjackUpstreamTests {
    static let broadcasts: [UpstreamBroadcast] = [
        .init(
            "crackerjack-0.91.1/crackerjack/websocket/server.py:273-286", "test:run-1", "test.started",
            #"{"run_id":"run-1","test_suite":"unit","total_tests":120,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "crackerjack-0.91.1/crackerjack/websocket/server.py:288-306", "test:run-1", "test.completed",
            #"{"run_id":"run-1","tests_completed":118,"tests_failed":2,"duration_seconds":12.5,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "crackerjack-0.91.1/crackerjack/websocket/server.py:308-322", "test:run-1", "test.failed",
            #"{"run_id":"run-1","test_name":"test_login","error":"AssertionError","traceback":"Traceback (most recent call last): ...","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "crackerjack-0.91.1/crackerjack/websocket/server.py:324-369", "quality:crackerjack", "quality_gate.checked",
            #"{"project":"crackerjack","gate_name":"coverage","status":"passed","score":87.5,"threshold":80.0,"quality_gate_report":{"fast_hooks":true,"tests":true,"comprehensive":true,"coverage":87.5,"errors":[],"checks":[{"name":"coverage","passed":true,"severity":"required","score":87.5,"threshold":80.0,"message":"","details":{},"duration_ms":null}],"repository":"crackerjack","profile":"","source":"crackerjack","generated_at":"2026-01-01T12:00:00.123456+00:00","metadata":{},"passed":true,"all_passed":true,"blocking_failure":false,"warnings":[],"required_check_failures":[]},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "crackerjack-0.91.1/crackerjack/websocket/server.py:371-389", "quality:crackerjack", "coverage.updated",
            #"{"project":"crackerjack","line_coverage":87.5,"branch_coverage":80.1,"path_coverage":70.0,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
    ]

    @Test("every broadcast the upstream release sends is accepted and delivered")
    func replay() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            try await server.expectUpstreamBroadcastsAccepted(Self.broadcasts)
        }
    }
}
