import Common
import Synchronization

/// Who is watching each session (subscribed to `session:{id}` or `collab:{id}` on this instance), kept by the
/// server's connection hooks, for `get_session_watchers`. The subscribe hook also refuses collaboration on a
/// session that has closed.
final class SessionWatchers: Sendable {
    private struct Watcher {
        let client: ClientInfo
        /// The session's rooms it is in (`session:{id}`, `collab:{id}`).
        var rooms: Set<String>
    }

    /// Per session, its watchers by connection id.
    private let watching = Mutex<[String: [String: Watcher]]>([:])
    private let state: SessionState

    init(state: SessionState) { self.state = state }

    var hooks: ConnectionHooks {
        ConnectionHooks(
            onSubscribe: { [self] client, room throws(ProtocolError) in try watch(client, room) },
            onUnsubscribe: { [self] client, room in unwatch(client, room) })
    }

    /// The session a room belongs to, if it is one a watcher looks at.
    private static func session(of room: String) -> (id: String, collaborating: Bool)? {
        if let id = SessionBuddy.session.match(room) { return (id, false) }
        if let id = SessionBuddy.collab.match(room) { return (id, true) }
        return nil
    }

    private func watch(_ client: ClientInfo, _ room: String) throws(ProtocolError) {
        guard let (id, collaborating) = Self.session(of: room) else { return }
        if collaborating, state.sessions[id]?.status == "closed" {
            throw ProtocolError(.forbidden, "Session '\(id)' is closed: collaboration on it has ended")
        }
        watching.withLock { watching in
            watching[id, default: [:]][client.connectionID, default: Watcher(client: client, rooms: [])].rooms.insert(room)
        }
    }

    private func unwatch(_ client: ClientInfo, _ room: String) {
        guard let (id, _) = Self.session(of: room) else { return }
        watching.withLock { watching in
            watching[id]?[client.connectionID]?.rooms.remove(room)
            // Gone once it is in neither of the session's rooms.
            if watching[id]?[client.connectionID]?.rooms.isEmpty == true { watching[id]?[client.connectionID] = nil }
            if watching[id]?.isEmpty == true { watching[id] = nil }
        }
    }

    /// `get_session_watchers`: the connections watching a session here, and their users.
    func watchers(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let id = try request.string("session_id")
        let clients = watching.withLock { $0[id].map { $0.values.map(\.client) } ?? [] }.sorted {
            $0.connectionID < $1.connectionID
        }
        let users = Set(clients.compactMap(\.userID)).sorted()
        return [
            "session_id": .string(id), "count": JSONValue(clients.count),
            "watchers": .array(
                clients.map { .object(["connection_id": .string($0.connectionID), "user_id": JSONValue($0.userID)]) }),
            "users": .array(users.map { .string($0) }),
        ]
    }
}
