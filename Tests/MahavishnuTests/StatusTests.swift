import Common
import Testing
import TestSupport

@testable import Mahavishnu

@Suite("mahavishnu: status from the events seen")
struct MahavishnuStatusTests {
    @Test("a workflow with started and two completed stages reports them")
    func workflowStatus() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let broadcast = MahavishnuBroadcaster(server.server)
            let client = try await server.client()
            #expect(
                try await client.ask("get_workflow_status", ["workflow_id": "wf1"]) == [
                    "workflow_id": "wf1", "status": "not_found",
                ])
            try await broadcast.workflowStarted(workflowID: "wf1", adapter: "claude", prompt: "p", metadata: ["total_stages": 4])
            try await broadcast.workflowStageCompleted(workflowID: "wf1", stageName: "plan", result: [:])
            try await broadcast.workflowStageCompleted(workflowID: "wf1", stageName: "build", result: [:])
            var status = try await client.ask("get_workflow_status", ["workflow_id": "wf1"])
            #expect(status["status"] == "running")
            #expect(status["stages_completed"] == 2)
            #expect(status["total_stages"] == 4)
            #expect(status["stages"] == ["plan", "build"])
            #expect(status["adapter"] == "claude")
            try await broadcast.workflowFailed(workflowID: "wf1", error: "boom")
            status = try await client.ask("get_workflow_status", ["workflow_id": "wf1"])
            #expect(status["status"] == "failed")
            #expect(status["error"] == "boom")
            await client.close()
        }
    }

    @Test("a pool reports its workers and scale from pool and worker events")
    func poolStatus() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let broadcast = MahavishnuBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_pool_status", ["pool_id": "p1"])["status"] == "not_found")
            try await broadcast.poolSpawned(poolID: "p1", config: ["size": 2])
            try await broadcast.workerAdded(poolID: "p1", workerID: "w1")
            try await broadcast.workerAdded(poolID: "p1", workerID: "w2")
            try await broadcast.taskAssigned(poolID: "p1", workerID: "w2", task: ["id": "t"])
            try await broadcast.poolScaled(poolID: "p1", workerCount: 2)
            var status = try await client.ask("get_pool_status", ["pool_id": "p1"])
            #expect(status["status"] == "active")
            #expect(status["worker_count"] == 2)
            #expect(status["config"] == ["size": 2])
            #expect(status["workers"] == [["worker_id": "w1", "status": "idle"], ["worker_id": "w2", "status": "busy"]])
            try await broadcast.workerRemoved(poolID: "p1", workerID: "w1")
            try await broadcast.poolStatusChanged(poolID: "p1", status: ["state": "degraded"])
            status = try await client.ask("get_pool_status", ["pool_id": "p1"])
            #expect(status["status"] == "degraded")
            #expect(status["workers"]?.arrayValue?.count == 1)
            try await broadcast.poolClosed(poolID: "p1")
            #expect(try await client.ask("get_pool_status", ["pool_id": "p1"])["status"] == "closed")
            await client.close()
        }
    }

    @Test("a status request without its id is VALIDATION_ERROR")
    func missingParameter() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let client = try await server.client()
            let reply = try await client.request(["type": "request", "event": "get_pool_status", "id": "r", "data": [:]])
            #expect(reply["error_code"] == "VALIDATION_ERROR")
            #expect(reply["correlation_id"] == "r")
            await client.close()
        }
    }
}
