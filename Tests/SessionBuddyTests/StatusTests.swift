import Common
import Testing
import TestSupport

@testable import SessionBuddy

@Suite("session-buddy: session status from the events seen")
struct SessionBuddyStatusTests {
    @Test("get_session_status counts checkpoints and captures and sees the close")
    func sessionStatus() async throws {
        try await TestServer.with(SessionBuddy.definition()) { server in
            let broadcast = SessionBuddyBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_session_status", ["session_id": "s1"])["status"] == "not_found")
            try await broadcast.sessionCreated(sessionID: "s1", project: "backbone", userID: "u1")
            try await broadcast.sessionCheckpoint(sessionID: "s1", checkpointID: "c1")
            try await broadcast.checkpointCreated(sessionID: "s1", checkpointID: "c1")
            try await broadcast.sessionCheckpoint(sessionID: "s1", checkpointID: "c2")
            try await broadcast.knowledgeCaptured(sessionID: "s1", captureID: "k1", content: "x")
            var status = try await client.ask("get_session_status", ["session_id": "s1"])
            #expect(status["status"] == "active")
            #expect(status["project"] == "backbone")
            #expect(status["user_id"] == "u1")
            #expect(status["checkpoints"] == 2)
            #expect(status["last_checkpoint_id"] == "c2")
            #expect(status["knowledge_captures"] == 1)
            try await broadcast.sessionClosed(sessionID: "s1", reason: "done")
            status = try await client.ask("get_session_status", ["session_id": "s1"])
            #expect(status["status"] == "closed")
            #expect(status["closed_reason"] == "done")
            await client.close()
        }
    }
}
