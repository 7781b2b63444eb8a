/// One connection in a presence room, as `presence` replies and events list it (docs/protocol.md, "Presence").
struct RoomMember: Sendable, Equatable {
    let connectionID: String
    /// The token's user; nil for anonymous connections and API keys.
    let userID: String?
    /// When it joined (ISO 8601); nil in a `presence.left`, which needs only who left.
    let joinedAt: String?

    var json: JSONValue {
        var object: JSONObject = ["connection_id": .string(connectionID), "user_id": JSONValue(userID)]
        if let joinedAt { object["joined_at"] = .string(joinedAt) }
        return .object(object)
    }

    init(connectionID: String, userID: String?, joinedAt: String?) {
        self.connectionID = connectionID
        self.userID = userID
        self.joinedAt = joinedAt
    }

    /// Read back from the cluster's presence hash (`{"user_id": ..., "joined_at": ...}` under the connection id).
    init(connectionID: String, stored: JSONValue) {
        self.init(connectionID: connectionID, userID: stored["user_id"]?.stringValue, joinedAt: stored["joined_at"]?.stringValue)
    }
}

/// What changed in one presence room over a debounce window, after joins and leaves of one connection
/// cancelled out.
struct PresenceChange: Sendable {
    let room: String
    var joined: [RoomMember] = []
    var left: [RoomMember] = []
}
