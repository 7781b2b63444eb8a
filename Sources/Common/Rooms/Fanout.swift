import NIOCore
import Synchronization

// The fan-out path, top to bottom: the `Hub` orders an event in its room (position, history) and hands the
// finished frame to every event loop; each loop's `LoopShard` adds it to that pass's `RoomBatch` for the room;
// at the end of the pass the batch is written once to every member (a resume guard skips what a member
// already has) and each connection is flushed once. Unit tests: Tests/CommonTests/FanoutTests.swift.

/// All shards of one server: routes a broadcast to every event loop and aggregates room statistics.
final class Hub: Sendable {
    let shards: [LoopShard]
    private let shardByLoop: [ObjectIdentifier: LoopShard]
    /// Orders events: under this lock a room's next position is assigned, the event kept in its history and
    /// handed to the loops, so positions, history and delivery order agree (each loop runs its tasks first in,
    /// first out).
    private let ordered: Mutex<RoomHistories>
    private let nextSlot = Atomic<Int>(0)
    /// Whether a broadcast carries a `SharedCompression` for subscribers that negotiated permessage-deflate.
    private let compresses: Bool

    init(
        group: any EventLoopGroup, history: RoomHistories = RoomHistories(size: 0, ttl: .seconds(0), maxRooms: 1),
        compression: CompressionSettings = CompressionSettings()
    ) {
        self.ordered = Mutex(history)
        self.compresses = compression.mode != .off
        var shards: [LoopShard] = []
        for loop in group.makeIterator() { shards.append(LoopShard(eventLoop: loop, compression: compression)) }
        self.shards = shards
        self.shardByLoop = Dictionary(uniqueKeysWithValues: shards.map { (ObjectIdentifier($0.eventLoop), $0) })
    }

    func shard(for loop: any EventLoop) -> LoopShard {
        guard let shard = shardByLoop[ObjectIdentifier(loop)] else {
            preconditionFailure("connection on an event loop outside the server's group")
        }
        return shard
    }

    func makeSlot() -> Int { nextSlot.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Orders an event in its room: `open` is a frame buffer (`ServerFrame.begin`) holding the envelope without
    /// its closing brace; its `seq` and `epoch` are appended, the frame finished once, kept in history and handed
    /// to each loop's members. The future (on `loop`) holds how many received it.
    func broadcast(open: ByteBuffer, to room: String, resultOn loop: any EventLoop) -> EventLoopFuture<Int> {
        total(ordered.withLock { order(open, to: room, in: &$0) }, on: loop)
    }

    /// Orders a batch in one step, so each room's events of the batch get consecutive positions.
    func broadcast(batch: [(open: ByteBuffer, room: String)], resultOn loop: any EventLoop) -> [EventLoopFuture<Int>] {
        let deliveries = ordered.withLock { history in batch.map { order($0.open, to: $0.room, in: &history) } }
        return deliveries.map { total($0, on: loop) }
    }

    private func order(_ open: ByteBuffer, to room: String, in history: inout RoomHistories) -> [EventLoopFuture<Int>] {
        let position = history.next(room)
        var buffer = open
        Envelope.closeWithPosition(&buffer, seq: position.seq, epoch: position.epoch)
        let frame = ServerFrame.finish(buffer)
        history.append(room, seq: position.seq, frame: frame)
        return handOff(frame, seq: position.seq, to: room)
    }

    /// Delivers a frame ordered elsewhere (Redis assigned its position), keeping it in history.
    func broadcast(
        frame: ByteBuffer, at position: RoomPosition, to room: String, resultOn loop: any EventLoop
    ) -> EventLoopFuture<Int> {
        let deliveries = ordered.withLock { history in
            history.record(room, at: position, frame: frame)
            return handOff(frame, seq: position.seq, to: room)
        }
        return total(deliveries, on: loop)
    }

    /// How many subscribers `room` has on this instance, over every loop (what a clustered publish reports).
    func memberCount(_ room: String, on loop: any EventLoop) -> EventLoopFuture<Int> {
        collect(on: loop) { $0.memberCount(room) }.map { $0.reduce(0, +) }
    }

    private func handOff(_ frame: ByteBuffer, seq: Int, to room: String) -> [EventLoopFuture<Int>] {
        let shared = compresses ? SharedCompression(plain: frame) : nil
        return shards.map { shard in shard.eventLoop.submit { shard.deliver(frame, shared: shared, seq: seq, to: room) } }
    }

    private func total(_ deliveries: [EventLoopFuture<Int>], on loop: any EventLoop) -> EventLoopFuture<Int> {
        if deliveries.count == 1 { return deliveries[0].hop(to: loop) }
        return EventLoopFuture.reduce(0, deliveries, on: loop, +)
    }

    /// Joins `connection` to `room`, replaying what it missed after `since` when the history still holds all of
    /// it. Runs on the connection's loop: events ordered before this call are either in the returned replay or
    /// already delivered to the loop's queue (the connection's guard then drops them); events ordered after it
    /// arrive live. Returns the replayed frames (nil: not recoverable) and the room's position; with
    /// `onlyIfRecoverable`, returns nil without joining when `since` cannot be replayed from here.
    func join(
        _ room: String, _ connection: WebSocketConnection, since: RoomPosition?, onlyIfRecoverable: Bool = false
    )
        -> (replay: [ByteBuffer]?, position: RoomPosition?)?
    {
        let (entries, position) = ordered.withLock { history in
            (since.flatMap { history.frames(room, after: $0) }, history.position(room))
        }
        if onlyIfRecoverable, since != nil, entries == nil { return nil }
        // Already a member: its events are flowing, and a new guard could drop some still queued.
        guard shard(for: connection.eventLoop).join(room, connection) else { return (nil, position) }
        // Anything up to here is covered by the replay (or by the client itself, when it is up to date).
        if let entries, let since {
            connection.session.resumeGuards[room] = entries.last?.seq ?? since.seq
        } else if let position {
            connection.session.resumeGuards[room] = position.seq
        }
        return (entries?.map(\.frame), position)
    }

    /// Joins `connection` to `room` after a replay read elsewhere (from Redis) up to `snapshot`: returns the
    /// frames this instance already holds after it (events ordered since the read), nil if it holds some but
    /// not all of them. Events still on their way here arrive live, past the guard at the replay's end.
    func join(_ room: String, _ connection: WebSocketConnection, after snapshot: RoomPosition) -> [ByteBuffer]? {
        let entries = ordered.withLock { history -> [RoomHistories.Entry]? in
            guard let local = history.position(room), local.epoch == snapshot.epoch, local.seq > snapshot.seq else { return [] }
            return history.frames(room, after: snapshot)
        }
        guard let entries else { return nil }
        shard(for: connection.eventLoop).join(room, connection)
        connection.session.resumeGuards[room] = entries.last?.seq ?? snapshot.seq
        return entries.map(\.frame)
    }

    /// Drops every room's history (the broker reconnected: what this instance holds may have holes).
    func forgetHistory() {
        ordered.withLock { $0.removeAll() }
    }

    /// Runs `body` on every loop with its shard and collects the results.
    func collect<T: Sendable>(on loop: any EventLoop, _ body: @escaping @Sendable (LoopShard) -> T) -> EventLoopFuture<[T]> {
        EventLoopFuture.whenAllSucceed(shards.map { shard in shard.eventLoop.submit { body(shard) } }, on: loop)
    }

    /// Writes a direct message's frame to its target's connections on every loop; the future holds how many.
    func direct(_ frame: ByteBuffer, to target: DirectTarget, resultOn loop: any EventLoop) -> EventLoopFuture<Int> {
        collect(on: loop) { $0.deliver(direct: frame, to: target) }.map { $0.reduce(0, +) }
    }

    /// A room's members on this instance: the exact count, and at most `limit` of those whose join was
    /// recorded for presence.
    func members(of room: String, limit: Int, on loop: any EventLoop) -> EventLoopFuture<(count: Int, members: [RoomMember])> {
        collect(on: loop) { $0.members(of: room, limit: limit) }.map { perLoop in
            (perLoop.reduce(0) { $0 + $1.count }, Array(perLoop.flatMap(\.members).prefix(limit)))
        }
    }

    /// Subscribers per room, summed over the loops.
    func roomCounts(on loop: any EventLoop) -> EventLoopFuture<[String: Int]> {
        collect(on: loop) { $0.roomCounts() }.map { perLoop in
            perLoop.reduce(into: [:]) { total, counts in total.merge(counts, uniquingKeysWith: +) }
        }
    }
}

/// The connections and room memberships of one event loop.
///
/// Each event loop owns one shard and is the only thread that touches it, so the fan-out path takes no
/// lock: a broadcast is one task per loop, then plain writes of the same bytes. Members are only ever used
/// on `eventLoop`, which makes the unchecked `Sendable` sound.
///
/// Broadcasts are batched per loop pass: consecutive frames for one room are joined into one buffer, built
/// once, and each member gets one write of it per pass instead of one per frame (a channel write costs far
/// more than copying a few hundred bytes once). Anything else written to a connection (a reply, a pong, a
/// close) first writes out the pending batches, so every connection still sees one total order.
final class LoopShard: ConnectionScheduler, @unchecked Sendable {
    let eventLoop: any EventLoop
    private var connections: [Int: WebSocketConnection] = [:]
    /// Open connections by id, and authenticated ones by user, for direct messages.
    private var connectionsByID: [String: WebSocketConnection] = [:]
    private var connectionsByUser: [String: [Int: WebSocketConnection]] = [:]
    private var rooms: [String: [Int: WebSocketConnection]] = [:]
    private var unflushed: [WebSocketConnection] = []
    /// Frames not yet written, in the order they were ordered: runs of one room each.
    private var batches: [RoomBatch] = []
    private var flushScheduled = false

    /// Present unless `compression: off`: this loop's zlib streams.
    let compression: LoopCompression?

    init(eventLoop: any EventLoop, compression: CompressionSettings = CompressionSettings()) {
        self.eventLoop = eventLoop
        self.compression = compression.mode == .off ? nil : LoopCompression(settings: compression)
    }

    var connectionCount: Int { connections.count }

    /// Dedicated compression contexts (`compression: dedicated`) held by this loop's connections.
    private(set) var compressionContexts = 0

    func compressionContextsChanged(by delta: Int) { compressionContexts += delta }

    func add(_ connection: WebSocketConnection) {
        eventLoop.assertInEventLoop()
        connections[connection.slot] = connection
        connectionsByID[connection.id] = connection
    }

    /// Forgets the connection and leaves each of its rooms.
    func remove(_ connection: WebSocketConnection) {
        eventLoop.assertInEventLoop()
        connections.removeValue(forKey: connection.slot)
        connectionsByID.removeValue(forKey: connection.id)
        identify(connection, previousUser: connection.session.auth.identity.userID, user: nil)
        leaveAll(connection)
    }

    /// Leaves every room of the connection (it is closing).
    func leaveAll(_ connection: WebSocketConnection) {
        for room in connection.session.rooms { leave(room, connection) }
    }

    /// Returns false when the connection was already a member.
    @discardableResult
    func join(_ room: String, _ connection: WebSocketConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connection.session.rooms.insert(room).inserted else { return false }
        rooms[room, default: [:]][connection.slot] = connection
        // Frames of this room still batched were ordered before the join: not for this member. (The hub sets
        // the guard from the room's position right after; this covers a room whose position was evicted.)
        if let pending = batches.last(where: { $0.room == room })?.frames.last {
            connection.session.resumeGuards[room] = pending.seq
        }
        return true
    }

    @discardableResult
    func leave(_ room: String, _ connection: WebSocketConnection) -> Bool {
        eventLoop.assertInEventLoop()
        guard connection.session.rooms.remove(room) != nil else { return false }
        connection.session.resumeGuards[room] = nil
        if rooms[room]?.removeValue(forKey: connection.slot) != nil, rooms[room]?.isEmpty == true {
            rooms[room] = nil  // empty rooms go at once: the reference leaked them
        }
        return true
    }

    /// The hot path: adds the frame to this pass's batch for the room; the batch is written to the members at
    /// the end of the pass. `shared` holds its compressed forms (nil with compression off). Returns the members
    /// it will reach.
    func deliver(_ frame: ByteBuffer, shared: SharedCompression?, seq: Int, to room: String) -> Int {
        guard let members = rooms[room] else { return 0 }
        if batches.last?.room == room {
            batches[batches.count - 1].append(frame, shared: shared, seq: seq)
        } else {
            batches.append(RoomBatch(room: room, joined: frame, frames: [(seq, frame, shared)]))
            scheduleFlush()
        }
        return members.count
    }

    /// Before anything else is written to `connection`: the batched frames of its rooms go first, so it sees
    /// everything in the order it happened. (Connections in none of those rooms, such as a publisher, leave
    /// the batches alone to grow until the end of the pass.)
    func writeBatches(before connection: WebSocketConnection) {
        guard !batches.isEmpty, !connection.session.rooms.isEmpty,
            batches.contains(where: { connection.session.rooms.contains($0.room) })
        else { return }
        writeBatches(flushing: false)
    }

    /// Writes the pending batches to their rooms' members. With `flushing` (at the end of the pass) a one-frame
    /// batch is flushed member by member, so at low rates the first subscribers' bytes leave while the rest are
    /// still being written; bigger batches are flushed after all writes (flushing each at once costs
    /// throughput under load).
    private func writeBatches(flushing: Bool) {
        guard !batches.isEmpty else { return }
        let pending = batches
        batches.removeAll(keepingCapacity: true)
        for var batch in pending {
            guard let members = rooms[batch.room] else { continue }
            let flush = flushing && batch.frames.count == 1
            for connection in members.values {
                if !connection.session.resumeGuards.isEmpty, let guardSeq = connection.session.resumeGuards[batch.room] {
                    // Joined with a position: skip what it already has, one frame at a time (rare).
                    for (seq, frame, _) in batch.frames where seq > guardSeq { connection.write(encoded: frame, flush: flush) }
                    if batch.frames.last!.seq > guardSeq { connection.session.resumeGuards[batch.room] = nil }
                    continue
                }
                switch connection.deflate {
                case nil:
                    connection.writeFrame(batch.joined, flush: flush)
                case let deflate? where deflate.serverNoContextTakeover:
                    let joined = batch.compressedJoined(windowBits: deflate.serverWindowBits, compression: compression!)
                    connection.writeFrame(joined, flush: flush)
                case _?:
                    // Its own context: compressed for it alone, frame by frame, in order.
                    for (_, frame, _) in batch.frames { connection.write(encoded: frame, flush: flush) }
                }
            }
        }
    }

    func needsFlush(_ connection: WebSocketConnection) {
        guard !connection.pendingFlush else { return }
        connection.pendingFlush = true
        unflushed.append(connection)
        scheduleFlush()
    }

    /// Runs `flushAll` once after the tasks and I/O already queued on this loop, so a burst of broadcasts and
    /// replies shares one batch and one flush per connection.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        writeBatches(flushing: true)
        // Cleared only now: the batch writes above mark their connections for this flush, not for another pass.
        flushScheduled = false
        let batch = unflushed
        unflushed.removeAll(keepingCapacity: true)
        for connection in batch { connection.flush() }
    }

    /// The connection's user changed (it authenticated, or refreshed its token as someone else).
    func identify(_ connection: WebSocketConnection, previousUser: String?, user: String?) {
        guard previousUser != user else { return }
        if let previousUser, connectionsByUser[previousUser]?.removeValue(forKey: connection.slot) != nil,
            connectionsByUser[previousUser]?.isEmpty == true
        {
            connectionsByUser[previousUser] = nil
        }
        if let user { connectionsByUser[user, default: [:]][connection.slot] = connection }
    }

    /// Writes a direct message to its target's connections on this loop (after what was broadcast to them
    /// before); returns how many.
    func deliver(direct frame: ByteBuffer, to target: DirectTarget) -> Int {
        var delivered = 0
        let send = { (connection: WebSocketConnection) in
            guard !connection.isClosing else { return }
            connection.write(frame, flush: false)
            delivered += 1
        }
        switch target {
        case .connection(let id): connectionsByID[id].map(send)
        case .user(let id): connectionsByUser[id]?.values.forEach(send)
        }
        return delivered
    }

    /// The room's member count on this loop, and up to `limit` members whose join was recorded for presence.
    func members(of room: String, limit: Int) -> (count: Int, members: [RoomMember]) {
        guard let members = rooms[room] else { return (0, []) }
        var listed: [RoomMember] = []
        for connection in members.values where listed.count < limit {
            guard let joinedAt = connection.session.presenceJoinedAt[room] else { continue }
            listed.append(
                RoomMember(connectionID: connection.id, userID: connection.session.auth.identity.userID, joinedAt: joinedAt))
        }
        return (members.count, listed)
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
        if connectionsByID.capacity > 64, connectionsByID.count * 4 < connectionsByID.capacity {
            released += connectionsByID.capacity
            connectionsByID = Dictionary(uniqueKeysWithValues: connectionsByID.map { ($0.key, $0.value) })
            released -= connectionsByID.capacity
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

/// A run of consecutive frames for one room: their bytes joined (for members without a resume guard)
/// and one by one (for the few with a guard, who skip what they already have, and for compression contexts).
private struct RoomBatch {
    let room: String
    var joined: ByteBuffer
    var frames: [(seq: Int, frame: ByteBuffer, shared: SharedCompression?)]
    /// The joined compressed forms, per window size, made when the first member that wants one is written.
    var compressed: [(windowBits: Int, joined: ByteBuffer)] = []

    /// Joins another frame: the first append copies the first frame into a buffer of its own (the original
    /// is shared with the other loops and the history), later ones append in place.
    mutating func append(_ frame: ByteBuffer, shared: SharedCompression?, seq: Int) {
        joined = Self.join(joined, frame, first: frames.count == 1)
        frames.append((seq, frame, shared))
    }

    private static func join(_ joined: ByteBuffer, _ frame: ByteBuffer, first: Bool) -> ByteBuffer {
        var joined = joined
        if first {
            var copy = ByteBufferAllocator().buffer(capacity: max(4096, 4 * (joined.readableBytes + frame.readableBytes)))
            copy.writeBuffer(&joined)
            joined = copy
        }
        var bytes = frame
        joined.writeBuffer(&bytes)
        return joined
    }

    /// The batch as a subscriber without server context takeover gets it: each frame's shared compressed
    /// form (compressed once per broadcast, whichever loop gets there first), joined once per pass.
    mutating func compressedJoined(windowBits: Int, compression: LoopCompression) -> ByteBuffer {
        if let made = compressed.first(where: { $0.windowBits == windowBits }) { return made.joined }
        var result: ByteBuffer?
        for (index, entry) in frames.enumerated() {
            let frame =
                entry.shared?.frame(windowBits: windowBits, compressingWith: compression)
                ?? compression.compress(entry.frame, windowBits: windowBits)
            result = result.map { Self.join($0, frame, first: index == 1) } ?? frame
        }
        compressed.append((windowBits, result!))
        return result!
    }
}
