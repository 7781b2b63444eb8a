import Common

/// What session-buddy knows of each session from its events, for `get_session_status`.
final class SessionState: Sendable {
    struct Session: Sendable {
        var status = "active"
        var project: JSONValue = .null
        var userID: JSONValue = .null
        var createdAt: String?
        var updatedAt = ""
        var checkpoints = 0
        var lastCheckpoint: JSONValue = .null
        var knowledgeCaptures = 0
        var closedReason: JSONValue = .null
    }

    let sessions = KeyedStore<Session>(capacity: 10_000)

    func observe(_ event: PublishedEvent) {
        guard let id = event.data["session_id"]?.stringValue else { return }
        let data = event.data
        let at = data["timestamp"]?.stringValue ?? ""
        sessions.update(id, default: Session()) { session in
            session.updatedAt = at
            switch event.event {
            case "session.created":
                session.createdAt = at
                session.project = data["project"] ?? session.project
                session.userID = data["user_id"] ?? session.userID
            case "session.closed":
                session.status = "closed"
                session.closedReason = data["reason"] ?? .null
            case "session.checkpoint", "checkpoint.created":
                // One checkpoint may be announced in both rooms; count each id once.
                if data["checkpoint_id"] != session.lastCheckpoint { session.checkpoints += 1 }
                session.lastCheckpoint = data["checkpoint_id"] ?? .null
            case "knowledge.captured":
                session.knowledgeCaptures += 1
            default: break
            }
        }
    }

    func sessionStatus(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let id = try request.string("session_id")
        guard let session = sessions[id] else { return ["session_id": .string(id), "status": "not_found"] }
        return [
            "session_id": .string(id),
            "status": .string(session.status),
            "project": session.project,
            "user_id": session.userID,
            "created_at": JSONValue(session.createdAt),
            "updated_at": .string(session.updatedAt),
            "checkpoints": JSONValue(session.checkpoints),
            "last_checkpoint_id": session.lastCheckpoint,
            "knowledge_captures": JSONValue(session.knowledgeCaptures),
            "closed_reason": session.closedReason,
        ]
    }
}
