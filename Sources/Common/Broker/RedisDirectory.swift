import NIOCore
import RESP
import Synchronization

/// Who is where, across the cluster (docs/scaling.md, "Direct messages and presence"). Each instance keeps in
/// Redis, with the TTL of its presence key so a dead instance's entries expire with it:
/// - `backbone:<service>:directory:<instance>`: a hash of `c:<connection id>` → 1 and `u:<user id>` → open
///   connections;
/// - `backbone:<service>:members:<instance>:<room>`: per presence room, connection id → `{user_id, joined_at}`.
///
/// A mirror of both lives here. Every change updates the mirror and sends its command under one lock, so Redis
/// applies them in the mirror's order; after a reconnect (or if Redis lost a hash) the hashes are rewritten
/// from the mirror in one transaction. While Redis is away, only the mirror changes.
final class RedisDirectory: Sendable {
    private struct Mirror {
        var fields: [String: Int] = [:]
        var rooms: [String: [String: String]] = [:]
    }

    private let prefix: String
    private let instanceID: String
    private let ttl: RESPArgument
    private let mirror = Mutex(Mirror())

    init(service: String, instanceID: String, ttlSeconds: Int) {
        self.prefix = "backbone:\(service):"
        self.instanceID = instanceID
        self.ttl = .string(String(ttlSeconds))
    }

    func directoryKey(_ instance: String) -> String { prefix + "directory:" + instance }
    func membersKey(_ instance: String, _ room: String) -> String { prefix + "members:" + instance + ":" + room }

    /// A connection or user opened (+1) or closed (-1) here. `command` is asked under the lock (nil while
    /// Redis is away), so a change is either in the next rewrite or sent after it.
    func changed(_ target: DirectTarget, by delta: Int, command: () -> RedisConnection?) {
        let key = RESPArgument.string(directoryKey(instanceID))
        mirror.withLock { mirror in
            let count = (mirror.fields[target.field] ?? 0) + delta
            mirror.fields[target.field] = count > 0 ? count : nil
            guard let command = command() else { return }
            if count > 0 {
                _ = command.send(["HSET", key, .string(target.field), .string(String(count))])
            } else {
                _ = command.send(["HDEL", key, .string(target.field)])
            }
            _ = command.send(["EXPIRE", key, ttl])
        }
    }

    /// Presence changes of this instance.
    func changed(_ changes: [PresenceChange], command: () -> RedisConnection?) {
        mirror.withLock { mirror in
            let command = command()
            for change in changes {
                let key = RESPArgument.string(membersKey(instanceID, change.room))
                var members = mirror.rooms[change.room] ?? [:]
                for member in change.left { members[member.connectionID] = nil }
                for member in change.joined { members[member.connectionID] = Self.stored(member) }
                mirror.rooms[change.room] = members.isEmpty ? nil : members
                guard let command else { continue }
                if !change.left.isEmpty { _ = command.send(["HDEL", key] + change.left.map { .string($0.connectionID) }) }
                if !change.joined.isEmpty {
                    _ = command.send(
                        ["HSET", key] + change.joined.flatMap { [.string($0.connectionID), .string(Self.stored($0))] })
                }
                _ = command.send(["EXPIRE", key, ttl])
            }
        }
    }

    /// Writes every hash from the mirror (after a reconnect), each in one transaction.
    func rewrite(_ command: RedisConnection) {
        mirror.withLock { mirror in
            replace(directoryKey(instanceID), mirror.fields.map { ($0.key, String($0.value)) }, command)
            for (room, members) in mirror.rooms {
                replace(membersKey(instanceID, room), members.map { ($0.key, $0.value) }, command)
            }
        }
    }

    /// Keeps the hashes alive; rewrites them all if Redis lost one (it restarted, or evicted it).
    func refresh(_ command: RedisConnection) async throws {
        var lost = false
        for key in ownKeys where try await command.send(["EXPIRE", .string(key), ttl]).get().string == "0" { lost = true }
        if lost { rewrite(command) }
    }

    /// This instance's keys: refreshed, and deleted when it leaves the cluster.
    var ownKeys: [String] {
        mirror.withLock { [directoryKey(instanceID)] + $0.rooms.keys.map { membersKey(instanceID, $0) } }
    }

    private func replace(_ key: String, _ entries: [(String, String)], _ command: RedisConnection) {
        _ = command.send(["MULTI"])
        _ = command.send(["DEL", .string(key)])
        for start in stride(from: 0, to: entries.count, by: 500) {
            let chunk = entries[start..<min(start + 500, entries.count)].flatMap { [RESPArgument.string($0.0), .string($0.1)] }
            _ = command.send(["HSET", .string(key)] + chunk)
        }
        if !entries.isEmpty { _ = command.send(["EXPIRE", .string(key), ttl]) }
        _ = command.send(["EXEC"])
    }

    static func stored(_ member: RoomMember) -> String {
        JSONWriter.string(.object(["user_id": JSONValue(member.userID), "joined_at": JSONValue(member.joinedAt)]))
    }
}
