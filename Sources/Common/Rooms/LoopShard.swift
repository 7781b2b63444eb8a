import NIOCore

/// The connections and room memberships of one event loop.
///
/// Each event loop owns one shard and is the only thread that touches it, so the fan-out path takes no
/// lock: a broadcast is one `execute` per loop, then plain writes of the same frame buffer. Members are
/// only ever used on `eventLoop`, which makes the unchecked `Sendable` sound.
final class LoopShard: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var connections: [Int: WebSocketConnection] = [:]
    private var rooms: [String: [Int: WebSocketConnection]] = [:]
    private var unflushed: [WebSocketConnection] = []

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    var connectionCount: Int { connections.count }

    func add(_ connection: WebSocketConnection) {
        eventLoop.assertInEventLoop()
        connections[connection.slot] = connection
    }

    /// Forgets the connection and leaves each of its rooms.
    func remove(_ connection: WebSocketConnection) {
        eventLoop.assertInEventLoop()
        connections.removeValue(forKey: connection.slot)
        for room in connection.rooms { leave(room, connection) }
    }

    /// Returns false when the connection was already a member.
    @discardableResult
    func join(_ room: String, _ connection: WebSocketConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connection.rooms.insert(room).inserted else { return false }
        rooms[room, default: [:]][connection.slot] = connection
        return true
    }

    @discardableResult
    func leave(_ room: String, _ connection: WebSocketConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connection.rooms.remove(room) != nil else { return false }
        connection.resumeGuards[room] = nil
        if rooms[room]?.removeValue(forKey: connection.slot) != nil, rooms[room]?.isEmpty == true {
            rooms[room] = nil  // empty rooms go at once: the reference leaked them
        }
        return true
    }

    /// The hot path: the same frame bytes to every member, flushed once per loop tick. A member that just
    /// joined holds a guard, the last position it already has: older frames still queued here are skipped.
    func deliver(_ frame: ByteBuffer, seq: Int, to room: String) -> Int {
        guard let members = rooms[room] else { return 0 }
        var delivered = 0
        for connection in members.values {
            if !connection.resumeGuards.isEmpty, let guardSeq = connection.resumeGuards[room] {
                if seq <= guardSeq { continue }
                connection.resumeGuards[room] = nil
            }
            connection.write(frame, flush: false)
            delivered += 1
        }
        return delivered
    }

    func needsFlush(_ connection: WebSocketConnection) {
        guard !connection.pendingFlush else { return }
        connection.pendingFlush = true
        unflushed.append(connection)
        if unflushed.count == 1 {
            // Runs after the tasks already queued on this loop, so a burst of broadcasts shares one flush.
            eventLoop.execute { self.flushAll() }
        }
    }

    private func flushAll() {
        let batch = unflushed
        unflushed.removeAll(keepingCapacity: true)
        for connection in batch { connection.flush() }
    }

    /// Connection ids, and member ids per room, at most `limit` of each (for MCP status views).
    func snapshot(limit: Int) -> (connections: [String], rooms: [String: [String]]) {
        (connections.values.prefix(limit).map(\.id), rooms.mapValues { $0.values.prefix(limit).map(\.id) })
    }

    /// Members of one room on this loop.
    func memberCount(_ room: String) -> Int { rooms[room]?.count ?? 0 }

    /// Subscriber count per room on this loop.
    func roomCounts() -> [String: Int] { rooms.mapValues(\.count) }

    /// Swift dictionaries keep their capacity after removals; after a storm of connections or rooms, rebuild
    /// the tables at their current size so the memory goes back. Returns how many slots were released.
    @discardableResult
    func compact() -> Int {
        var released = 0
        if connections.capacity > 64, connections.count * 4 < connections.capacity {
            released += connections.capacity
            connections = Dictionary(uniqueKeysWithValues: connections.map { ($0.key, $0.value) })
            released -= connections.capacity
        }
        if rooms.capacity > 64, rooms.count * 4 < rooms.capacity {
            released += rooms.capacity
            rooms = Dictionary(uniqueKeysWithValues: rooms.map { ($0.key, $0.value) })
            released -= rooms.capacity
        }
        return released
    }

    func forEachConnection(_ body: (WebSocketConnection) -> Void) {
        for connection in connections.values { body(connection) }
    }
}
