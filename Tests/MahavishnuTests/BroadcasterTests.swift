import Common
import Testing
import TestSupport

@testable import Mahavishnu

@Suite("mahavishnu: typed broadcaster")
struct MahavishnuBroadcasterTests {
    @Test("every helper publishes its event to its room")
    func helpers() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let broadcast = MahavishnuBroadcaster(server.server)
            try await server.expectDeliveries([
                .init(
                    "workflow.started", in: "workflow:wf1",
                    ["workflow_id": "wf1", "adapter": "claude", "prompt": "go", "owner": "ops"]),
                .init("workflow.stage_completed", in: "workflow:wf1", ["stage_name": "plan", "result": ["ok": true]]),
                .init("workflow.completed", in: "workflow:wf1", ["result": "done"]),
                .init("workflow.failed", in: "workflow:wf1", ["error": "boom"]),
                .init("pool.spawned", in: "pool:p1", ["pool_id": "p1", "config": ["size": 2]]),
                .init("pool.scaled", in: "pool:p1", ["worker_count": 3]),
                .init("pool.status_changed", in: "pool:p1", ["status": ["state": "running"]]),
                .init("worker.added", in: "pool:p1", ["worker_id": "w1"]),
                .init("worker.status_changed", in: "pool:p1", ["worker_id": "w1", "status": "busy", "pool_id": "p1"]),
                .init("worker.status_changed", in: "worker:w1", ["worker_id": "w1", "status": "busy"]),
                .init("task.assigned", in: "pool:p1", ["task": ["id": "t1"]]),
                .init("task.assigned", in: "worker:w1", ["task": ["id": "t1"]]),
                .init("task.completed", in: "pool:p1", ["result": "ok"]),
                .init("task.completed", in: "worker:w1", ["result": "ok"]),
                .init("worker.removed", in: "pool:p1", ["worker_id": "w1"]),
                .init("pool.closed", in: "pool:p1", ["pool_id": "p1"]),
                .init("orchestrator.ready", in: "global", ["version": "1"]),
            ]) {
                try await broadcast.workflowStarted(
                    workflowID: "wf1", adapter: "claude", prompt: "go", metadata: ["owner": "ops"])
                try await broadcast.workflowStageCompleted(workflowID: "wf1", stageName: "plan", result: ["ok": true])
                try await broadcast.workflowCompleted(workflowID: "wf1", result: "done")
                try await broadcast.workflowFailed(workflowID: "wf1", error: "boom")
                try await broadcast.poolSpawned(poolID: "p1", config: ["size": 2])
                try await broadcast.poolScaled(poolID: "p1", workerCount: 3)
                try await broadcast.poolStatusChanged(poolID: "p1", status: ["state": "running"])
                try await broadcast.workerAdded(poolID: "p1", workerID: "w1")
                try await broadcast.workerStatusChanged(poolID: "p1", workerID: "w1", status: "busy")
                try await broadcast.taskAssigned(poolID: "p1", workerID: "w1", task: ["id": "t1"])
                try await broadcast.taskCompleted(poolID: "p1", workerID: "w1", result: "ok")
                try await broadcast.workerRemoved(poolID: "p1", workerID: "w1")
                try await broadcast.poolClosed(poolID: "p1")
                try await broadcast.announce("orchestrator.ready", data: ["version": "1"])
            }
        }
    }

    @Test("the catalogue's rooms accept subscriptions; others are INVALID_CHANNEL")
    func channels() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let client = try await server.client()
            for room in ["workflow:a", "pool:b", "worker:c", "global"] {
                #expect(
                    try await client.request(["type": "subscribe", "data": ["channel": .string(room)]])["type"] == "response")
            }
            #expect(
                try await client.request(["type": "subscribe", "data": ["channel": "anomalies"]])["error_code"]
                    == "INVALID_CHANNEL")
            await client.close()
        }
    }
}
