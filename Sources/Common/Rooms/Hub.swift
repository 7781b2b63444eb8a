import NIOCore
import Synchronization

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
    func broadcast(frame: ByteBuffer, at position: RoomPosition, to room: String, resultOn loop: any EventLoop) -> EventLoopFuture<Int> {
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
    func join(_ room: String, _ connection: WebSocketConnection, since: RoomPosition?, onlyIfRecoverable: Bool = false)
        -> (replay: [ByteBuffer]?, position: RoomPosition?)?
    {
        let (entries, position) = ordered.withLock { history in
            (since.flatMap { history.frames(room, after: $0) }, history.position(room))
        }
        if onlyIfRecoverable, since != nil, entries == nil { return nil }
        connection.shard.join(room, connection)
        // Anything up to here is covered by the replay (or by the client itself, when it is up to date).
        if let entries, let since {
            connection.resumeGuards[room] = entries.last?.seq ?? since.seq
        } else if let position {
            connection.resumeGuards[room] = position.seq
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
        connection.shard.join(room, connection)
        connection.resumeGuards[room] = entries.last?.seq ?? snapshot.seq
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

    /// Subscribers per room, summed over the loops.
    func roomCounts(on loop: any EventLoop) -> EventLoopFuture<[String: Int]> {
        collect(on: loop) { $0.roomCounts() }.map { perLoop in
            perLoop.reduce(into: [:]) { total, counts in total.merge(counts, uniquingKeysWith: +) }
        }
    }
}
