import Common
import Testing
import TestSupport

@testable import Mahavishnu

@Suite("mahavishnu: status across instances", .enabled(if: RedisProcess.isAvailable, "needs redis-server"))
struct MahavishnuClusterStatusTests {
    @Test("a workflow reported on one instance is known to every instance")
    func projectionEverywhere() async throws {
        let redis = try await RedisProcess()
        let configure: (inout Settings) -> Void = {
            $0.broker = "redis"; $0.redisURL = redis.url
        }
        let a = try await TestServer.start(Mahavishnu.definition(), configure: configure)
        let b = try await TestServer.start(Mahavishnu.definition(), configure: configure)
        try await TestClient.poll(.seconds(30), "both instances on Redis") { () async throws -> Bool? in
            let readyA = try await HTTP.get(a.httpURL + "/ready").status, readyB = try await HTTP.get(b.httpURL + "/ready").status
            return readyA == 200 && readyB == 200 ? true : nil
        }
        let broadcast = MahavishnuBroadcaster(a.server)
        try await broadcast.workflowStarted(workflowID: "wf9", adapter: "claude", prompt: "p")
        try await broadcast.workflowStageCompleted(workflowID: "wf9", stageName: "plan", result: [:])
        let client = try await b.client()
        try await TestClient.poll(.seconds(15), "b to see the events") { () async throws -> Bool? in
            try await client.ask("get_workflow_status", ["workflow_id": "wf9"])["stages_completed"] == 1 ? true : nil
        }
        await client.close()
        try await a.stop()
        try await b.stop()
    }
}
