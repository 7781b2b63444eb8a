import Common
import Testing
import TestSupport

@testable import SessionBuddy

@Suite("session-buddy: typed broadcaster")
struct SessionBuddyBroadcasterTests {
    @Test("every helper publishes its event to its room")
    func helpers() async throws {
        try await TestServer.with(SessionBuddy.definition()) { server in
            let broadcast = SessionBuddyBroadcaster(server.server)
            try await server.expectDeliveries([
                .init("checkpoint.created", in: "checkpoint:s1", ["session_id": "s1", "checkpoint_id": "c1", "summary": "sum"]),
                .init("checkpoint.restored", in: "checkpoint:s1", ["checkpoint_id": "c1"]),
                .init("knowledge.captured", in: "knowledge:s1", ["capture_id": "k1", "content": "fact", "tags": ["a"]]),
                .init("knowledge.search_result", in: "knowledge:s1", ["query": "q", "results": [["id": "k1"]]]),
                .init("session.created", in: "session:s1", ["session_id": "s1", "project": "proj"]),
                .init("session.updated", in: "session:s1", ["changes": ["title": "x"]]),
                .init("session.checkpoint", in: "session:s1", ["checkpoint_id": "c1", "quality_score": 0.8]),
                .init("session.closed", in: "session:s1", ["reason": "done"]),
                .init("skill.invoked", in: "skills", ["skill_name": "pytest-run", "completed": false, "duration_seconds": 1.5]),
                .init(
                    "skill.anomaly", in: "skills", ["skill_name": "pytest-run", "anomaly_type": "slow", "deviation_score": 2.5]),
            ]) {
                try await broadcast.checkpointCreated(sessionID: "s1", checkpointID: "c1", summary: "sum")
                try await broadcast.checkpointRestored(sessionID: "s1", checkpointID: "c1")
                try await broadcast.knowledgeCaptured(sessionID: "s1", captureID: "k1", content: "fact", tags: ["a"])
                try await broadcast.knowledgeSearchResult(sessionID: "s1", query: "q", results: [["id": "k1"]])
                try await broadcast.sessionCreated(sessionID: "s1", project: "proj")
                try await broadcast.sessionUpdated(sessionID: "s1", changes: ["title": "x"])
                try await broadcast.sessionCheckpoint(sessionID: "s1", checkpointID: "c1", qualityScore: 0.8)
                try await broadcast.sessionClosed(sessionID: "s1", reason: "done")
                try await broadcast.skillInvoked(skillName: "pytest-run", completed: false, durationSeconds: 1.5)
                try await broadcast.skillAnomaly(skillName: "pytest-run", anomalyType: "slow", deviationScore: 2.5)
            }
        }
    }
}
