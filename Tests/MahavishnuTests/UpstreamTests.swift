import Testing
import TestSupport

@testable import Mahavishnu

/// Broadcasts of the newest upstream release, written from its broadcaster helpers with the payloads they
/// build (each helper adds `timestamp` inside `data`). Every one must be accepted and delivered unchanged.
@Suite("mahavishnu: upstream broadcasts")
struct MahavishnuUpstreamTests {
    static let broadcasts: [UpstreamBroadcast] = [
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:569-585", "workflow:wf-1", "workflow.started",
            #"{"workflow_id":"wf-1","timestamp":"2026-01-01T12:00:00.123456+00:00","prompt":"Write code","adapter":"prefect"}"#),
        .init(
            "mahavishnu-0.36.0/tests/test_websocket_server.py:339", "workflow:test123", "workflow.started",
            #"{"workflow_id":"test123","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:587-607", "workflow:wf-1", "workflow.stage_completed",
            #"{"workflow_id":"wf-1","stage_name":"stage1","result":{},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:609-627", "workflow:wf-1", "workflow.completed",
            #"{"workflow_id":"wf-1","result":{},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:629-647", "workflow:wf-1", "workflow.failed",
            #"{"workflow_id":"wf-1","error":"Unknown error","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:704-725", "pool:local", "worker.status_changed",
            #"{"worker_id":"w-1","status":"busy","pool_id":"local","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:727-744", "pool:local", "pool.status_changed",
            #"{"pool_id":"local","status":{"worker_count":3,"queue_size":0},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:753-789", "settle:settle-abcd1234", "settle.transition",
            #"{"run_ref":"settle-abcd1234","worker_id":"w-xyz","from_state":"running","to_state":"applied","phase":"applied","action":"apply","timestamp":"2026-01-01T12:00:00.123456+00:00","merge":{"sha":"abc"}}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:753-789", "run:w-xyz", "settle.transition",
            #"{"run_ref":"settle-abcd1234","worker_id":"w-xyz","from_state":"running","to_state":"applied","phase":"applied","action":"apply","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:793-834", "goal-teams", "team.created",
            #"{"team_id":"team_1","team_name":"Review team","goal":"review the auth module","mode":"coordinate","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:793-834", "goal-teams:user42", "team.created",
            #"{"team_id":"team_1","team_name":"Review team","goal":"review the auth module","mode":"coordinate","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:836-880", "goal-teams", "team.parsed",
            #"{"goal":"review the auth module","intent":"review","skills":["security","python"],"confidence":0.873,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:882-919", "goal-teams", "team.execution_started",
            #"{"team_id":"team_1","task":"Review auth.py","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:921-962", "goal-teams", "team.execution_completed",
            #"{"team_id":"team_1","success":true,"duration_ms":1234.57,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:964-1004", "goal-teams", "team.error",
            #"{"team_id":"","error_code":"GOAL_TOO_SHORT","message":"Goal is too short","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:1018-1050", "adapters", "adapter.registered",
            #"{"adapter_id":"prefect","adapter_name":"Prefect","capabilities":["workflow","schedule"],"provider":"prefect","source":"entry_point","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:1052-1084", "adapters", "adapter.health_changed",
            #"{"adapter_id":"prefect","adapter_name":"Prefect","old_status":"healthy","new_status":"degraded","details":{},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:1086-1115", "adapters", "adapter.enabled",
            #"{"adapter_id":"prefect","adapter_name":"Prefect","enabled":true,"reason":null,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:1086-1115", "adapters", "adapter.disabled",
            #"{"adapter_id":"prefect","adapter_name":"Prefect","enabled":false,"reason":"maintenance","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/websocket/server.py:1117-1149", "adapters", "adapter.routing_decision",
            #"{"task_type":"workflow","selected_adapter":"prefect","capabilities_matched":["workflow"],"latency_ms":1.23,"fallback_used":false,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/workers/capabilities/_observability.py:123-143", "adapters",
            "worker.availability_changed",
            #"{"worker_type":"openhands","state":"configured","reason_bucket":"missing_credentials","probe_at":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:65-89", "pool:local", "pool.spawned",
            #"{"pool_id":"local","config":{"pool_type":"mahavishnu","min_workers":1,"max_workers":4},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:91-115", "pool:local", "pool.scaled",
            #"{"pool_id":"local","worker_count":4,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:117-144", "pool:local", "pool.status_changed",
            #"{"pool_id":"local","status":{"state":"running"},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:148-172", "pool:local", "worker.added",
            #"{"pool_id":"local","worker_id":"w-1","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:174-198", "pool:local", "worker.removed",
            #"{"pool_id":"local","worker_id":"w-1","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:200-227", "pool:local", "worker.status_changed",
            #"{"pool_id":"local","worker_id":"w-1","status":"idle","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:231-258", "pool:local", "task.assigned",
            #"{"pool_id":"local","worker_id":"w-1","task":{"prompt":"Write code"},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:260-287", "pool:local", "task.completed",
            #"{"pool_id":"local","worker_id":"w-1","result":{"success":true},"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:291-312", "pool:local", "pool.closed",
            #"{"pool_id":"local","timestamp":"2026-01-01T12:00:00.123456+00:00"}"#),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:394-426", "symbiotic:ecosystem", "learning.metrics",
            #"{"patterns_strengthened":3,"patterns_weakened":1,"model_retrains":0,"avg_confidence_score":87.5,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:428-460", "symbiotic:ecosystem", "skill.effectiveness",
            #"{"skill_name":"RefactoringAgent","success_rate":92.31,"total_attempts":13,"avg_confidence":0.81,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/pools/websocket/broadcaster.py:462-491", "symbiotic:ecosystem", "strategy.recommender",
            #"{"recommendations_made":10,"high_confidence_count":4,"avg_success_rate":75.0,"timestamp":"2026-01-01T12:00:00.123456+00:00"}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/core/health_integration.py:509-524", "global", "adapter.health_changed",
            #"{"adapter":"prefect","is_healthy":false,"status":"unhealthy","consecutive_failures":3,"timestamp":"2026-01-01T12:00:00.123456+00:00","details":{"status":"unhealthy","error":"timeout"}}"#
        ),
        .init(
            "mahavishnu-0.36.0/mahavishnu/mcp/tools/search_tools.py:432-445", "cross-repo:3f2a9c", nil,
            #"{"event_type":"cross_repo_search_result","channel":"cross-repo:3f2a9c","payload":{"query":"auth","scope":"all","query_hash":"3f2a9c","sources":{},"combined":[],"total_combined":0,"repos_seen":[],"spans_3_components":false,"mode":"hybrid","channel":"cross-repo:3f2a9c"}}"#
        ),
    ]

    @Test("every broadcast the upstream release sends is accepted and delivered")
    func replay() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            try await server.expectUpstreamBroadcastsAccepted(Self.broadcasts)
        }
    }

    /// Upstream's own live-socket scenario (`tests/test_websocket_server.py` `test_broadcast_receives`), run
    /// against ours: subscribe to `workflow:test123`, then the three workflow helpers with empty metadata.
    @Test("upstream's test_broadcast_receives: the welcome, the subscription, then three workflow events")
    func upstreamLiveScenario() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let client = try await TestClient.connect(server.wsURL)
            #expect(try await client.next()["event"] == "session.created")
            try await client.send([
                "type": "request", "event": "subscribe", "data": ["channel": "workflow:test123"], "id": "sub_test",
            ])
            let subscribed = try await client.next()
            #expect(subscribed["type"] == "response")
            #expect(subscribed["data"]?["status"] == "subscribed")
            try await Task.sleep(for: .milliseconds(500))
            let broadcaster = MahavishnuBroadcaster(server.server)
            try await broadcaster.workflowStarted(workflowID: "test123")
            try await broadcaster.workflowStageCompleted(workflowID: "test123", stageName: "stage1", result: [:])
            try await broadcaster.workflowCompleted(workflowID: "test123", result: [:])
            var events: [String] = []
            for _ in 0..<3 { events.append(try await client.next(timeout: .seconds(2))["event"]?.stringValue ?? "") }
            #expect(events == ["workflow.started", "workflow.stage_completed", "workflow.completed"])
            await client.close()
        }
    }
}
