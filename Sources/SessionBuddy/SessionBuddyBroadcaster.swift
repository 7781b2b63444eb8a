import Common

/// Typed helpers for in-process producers: one method per session-buddy event.
public struct SessionBuddyBroadcaster: Sendable {
    typealias Events = SessionBuddy.Events
    let sender: EventSender

    public init(_ server: RealtimeServer) { sender = EventSender(server) }

    @discardableResult
    public func sessionCreated(
        sessionID: String, project: String? = nil, userID: String? = nil
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        var fields: JSONObject = ["session_id": .string(sessionID)]
        if let project { fields["project"] = .string(project) }
        if let userID { fields["user_id"] = .string(userID) }
        return try await sender.send(Events.sessionCreated, sessionID, fields)
    }

    @discardableResult
    public func sessionUpdated(sessionID: String, changes: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.sessionUpdated, sessionID, ["session_id": .string(sessionID), "changes": .object(changes)])
    }

    @discardableResult
    public func sessionCheckpoint(
        sessionID: String, checkpointID: String, qualityScore: Double? = nil
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        var fields: JSONObject = ["session_id": .string(sessionID), "checkpoint_id": .string(checkpointID)]
        if let qualityScore { fields["quality_score"] = .double(qualityScore) }
        return try await sender.send(Events.sessionCheckpoint, sessionID, fields)
    }

    @discardableResult
    public func sessionClosed(sessionID: String, reason: String? = nil) async throws(ProtocolError) -> PublishReceipt {
        var fields: JSONObject = ["session_id": .string(sessionID)]
        if let reason { fields["reason"] = .string(reason) }
        return try await sender.send(Events.sessionClosed, sessionID, fields)
    }

    @discardableResult
    public func knowledgeCaptured(
        sessionID: String, captureID: String, content: String, tags: [String] = []
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.knowledgeCaptured, sessionID,
            [
                "session_id": .string(sessionID), "capture_id": .string(captureID), "content": .string(content),
                "tags": .array(tags.map { .string($0) }),
            ])
    }

    @discardableResult
    public func knowledgeSearchResult(
        sessionID: String, query: String, results: [JSONValue]
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.knowledgeSearchResult, sessionID,
            ["session_id": .string(sessionID), "query": .string(query), "results": .array(results)])
    }

    @discardableResult
    public func checkpointCreated(
        sessionID: String, checkpointID: String, summary: String? = nil
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        var fields: JSONObject = ["session_id": .string(sessionID), "checkpoint_id": .string(checkpointID)]
        if let summary { fields["summary"] = .string(summary) }
        return try await sender.send(Events.checkpointCreated, sessionID, fields)
    }

    @discardableResult
    public func checkpointRestored(sessionID: String, checkpointID: String) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.checkpointRestored, sessionID, ["session_id": .string(sessionID), "checkpoint_id": .string(checkpointID)])
    }

    @discardableResult
    public func skillInvoked(
        skillName: String, completed: Bool = true, durationSeconds: Double? = nil, sessionID: String? = nil
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        var fields: JSONObject = ["skill_name": .string(skillName), "completed": .bool(completed)]
        if let durationSeconds { fields["duration_seconds"] = .double(durationSeconds) }
        if let sessionID { fields["session_id"] = .string(sessionID) }
        return try await sender.send(Events.skillInvoked, fields)
    }

    @discardableResult
    public func skillAnomaly(
        skillName: String, anomalyType: String, deviationScore: Double
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.skillAnomaly,
            ["skill_name": .string(skillName), "anomaly_type": .string(anomalyType), "deviation_score": .double(deviationScore)])
    }
}
