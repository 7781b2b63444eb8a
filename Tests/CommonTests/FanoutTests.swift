/// Unit tests of the fan-out path (`Hub`, `LoopShard` and its per-pass `RoomBatch`, in Rooms/Fanout.swift) and
/// of how `WebSocketConnection` orders its own writes against it: batching, flushing, resume guards, leaving,
/// history replay on join. Everything runs on NIO's `EmbeddedEventLoop` and `EmbeddedChannel`, no sockets:
/// `loop.run()` plays one event loop pass, so what is batched and when it is written is deterministic.
///
/// The tests are synchronous on purpose: an `EmbeddedEventLoop` may only be used from the thread that made it.
@testable import Common
import NIOCore
import NIOEmbedded
import Testing

@Suite("Fan-out on one embedded event loop")
struct FanoutTests {
    @Test("three events for a room in one pass reach a member as one write: the frames back to back, in order")
    func batchesAPassIntoOneWrite() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let member = fanout.member(of: "r", "member")
        for n in 1...3 { fanout.publish(n) }
        fanout.loop.run()

        let writes = try member.takeWrites()
        #expect(writes.count == 1)
        let sent = try writes.flatMap { try frames(in: $0) }
        #expect(sent.map(\.seq) == [1, 2, 3])
        #expect(sent.map(\.n) == [1, 2, 3])
        #expect(sent.allSatisfy { $0.opcode == FrameOpcode.text.rawValue })
    }

    @Test("a single event is written and flushed in its pass, to every member")
    func flushesASingleEventToEveryMember() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let first = fanout.member(of: "r", "first"), second = fanout.member(of: "r", "second")
        let reached = fanout.publish(1)
        // The delivery is a task on the member's loop: nothing happens before that loop runs.
        #expect(try first.takeWrites().isEmpty)
        fanout.loop.run()

        #expect(try fanout.result(of: reached) == 2)
        for member in [first, second] {
            // `readOutbound` sees only flushed writes: an unflushed one would be missing here.
            let writes = try member.takeWrites()
            #expect(writes.count == 1)
            #expect(try writes.flatMap { try frames(in: $0) }.map(\.seq) == [1])
        }
    }

    @Test("a member with a resume guard gets only the batch's frames past it, and the guard goes once passed")
    func resumeGuardSkipsWhatTheMemberHas() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let guarded = fanout.member(of: "r", "guarded"), plain = fanout.member(of: "r", "plain")
        // As after a resume that replayed up to seq 2: queued copies of 1 and 2 must not be sent again.
        guarded.connection.session.resumeGuards["r"] = 2
        for n in 1...4 { fanout.publish(n) }
        fanout.loop.run()

        #expect(try guarded.takeFrames().map(\.seq) == [3, 4])
        #expect(guarded.connection.session.resumeGuards["r"] == nil)
        // Someone else's guard changes nothing for the rest of the room: the whole batch, in one write.
        let plainWrites = try plain.takeWrites()
        #expect(plainWrites.count == 1)
        #expect(try plainWrites.flatMap { try frames(in: $0) }.map(\.seq) == [1, 2, 3, 4])

        // With the guard gone, the next event reaches the member like any other.
        fanout.publish(5)
        fanout.loop.run()
        #expect(try guarded.takeFrames().map(\.seq) == [5])
        #expect(try plain.takeFrames().map(\.seq) == [5])
    }

    @Test("a reply written while a broadcast is still batched goes out after the batched frames")
    func directWriteFollowsThePendingBatch() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let member = fanout.member(of: "r", "member")
        fanout.publish(1)
        fanout.publish(2)
        // Queued after both deliveries and before the end-of-pass flush (which the first delivery schedules):
        // when the reply is written, events 1 and 2 are still only in the shard's batch.
        let connection = member.connection
        fanout.loop.execute { connection.send(Envelope(type: .response, event: "reply", data: [:])) }
        fanout.loop.run()

        let writes = try member.takeWrites()
        #expect(writes.count == 2, "the batch, then the reply")
        let sent = try writes.flatMap { try frames(in: $0) }
        #expect(sent.map(\.event) == ["e", "e", "reply"])
        #expect(sent.map(\.seq) == [1, 2, nil])
    }

    @Test("a member that leaves gets nothing more, and the room goes with its last member")
    func leavingStopsDeliveryAndEmptyRoomsGo() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let leaving = fanout.member(of: "r", "leaving"), staying = fanout.member(of: "r", "staying")
        fanout.publish(1)
        fanout.loop.run()
        #expect(try leaving.takeFrames().map(\.seq) == [1])
        #expect(try staying.takeFrames().map(\.seq) == [1])

        #expect(fanout.shard.leave("r", leaving.connection))
        #expect(leaving.connection.session.rooms.isEmpty)
        let reachedAfterOneLeft = fanout.publish(2)
        fanout.loop.run()
        #expect(try fanout.result(of: reachedAfterOneLeft) == 1)
        #expect(try leaving.takeWrites().isEmpty)
        #expect(try staying.takeFrames().map(\.seq) == [2])
        #expect(fanout.shard.roomCounts() == ["r": 1])

        #expect(fanout.shard.leave("r", staying.connection))
        #expect(fanout.shard.roomCounts().isEmpty, "an empty room must not stay behind")
        #expect(fanout.shard.memberCount("r") == 0)
        let hubCount = fanout.hub.memberCount("r", on: fanout.loop)
        let reachedAfterAllLeft = fanout.publish(3)
        fanout.loop.run()
        #expect(try fanout.result(of: hubCount) == 0)
        #expect(try fanout.result(of: reachedAfterAllLeft) == 0)
        #expect(try leaving.takeWrites().isEmpty)
        #expect(try staying.takeWrites().isEmpty)
        #expect(!fanout.shard.leave("r", staying.connection), "leaving twice is a no-op")
    }

    @Test("replies to connections outside the batched room do not write the batch out early")
    func unrelatedRepliesLeaveTheBatchAlone() throws {
        let fanout = FanoutFixture()
        defer { fanout.finish() }
        let member = fanout.member(of: "r", "member")
        let publisher = fanout.connect("publisher")  // in no room, like a client that only publishes
        let elsewhere = fanout.member(of: "other", "elsewhere")  // in a room with nothing batched
        fanout.publish(1)
        // Runs between the deliveries of 1 and 2: had either reply written the batch out, the member would
        // get event 1 in a write of its own.
        let (publishing, unrelated) = (publisher.connection, elsewhere.connection)
        fanout.loop.execute {
            publishing.send(Envelope(type: .response, event: "published", data: [:]))
            unrelated.send(Envelope(type: .response, event: "published", data: [:]))
        }
        fanout.publish(2)
        fanout.publish(3)
        fanout.loop.run()

        let writes = try member.takeWrites()
        #expect(writes.count == 1)
        #expect(try writes.flatMap { try frames(in: $0) }.map(\.seq) == [1, 2, 3])
        #expect(try publisher.takeFrames().map(\.event) == ["published"])
        #expect(try elsewhere.takeFrames().map(\.event) == ["published"])
    }

    @Test("joining with `since` replays the missed events, and the guard keeps their queued live copies out")
    func joinSinceReplaysAndGuardsDuplicates() throws {
        let fanout = FanoutFixture(history: RoomHistories(size: 10, ttl: .seconds(60), maxRooms: 10))
        defer { fanout.finish() }
        let early = fanout.member(of: "r", "early")
        fanout.publish(1)
        fanout.loop.run()
        let epoch = try #require(try early.takeFrames().first?.epoch)

        // Events 2 and 3 are ordered (and in history), but their deliveries still wait in the loop's queue:
        // the late joiner gets them from the replay, and must not get them again live.
        fanout.publish(2)
        fanout.publish(3)
        let late = fanout.connect("late")
        let joined = try #require(fanout.hub.join("r", late.connection, since: RoomPosition(seq: 1, epoch: epoch)))
        let replay = try #require(joined.replay, "history holds everything after seq 1")
        #expect(try replay.flatMap { try frames(in: $0) }.map(\.seq) == [2, 3])
        #expect(joined.position == RoomPosition(seq: 3, epoch: epoch))
        #expect(late.connection.session.resumeGuards["r"] == 3)

        fanout.loop.run()
        #expect(try early.takeFrames().map(\.seq) == [2, 3])
        #expect(try late.takeWrites().isEmpty)

        // The first event past the guard arrives live, and the guard is gone.
        fanout.publish(4)
        fanout.loop.run()
        #expect(try late.takeFrames().map(\.seq) == [4])
        #expect(late.connection.session.resumeGuards["r"] == nil)
        #expect(try early.takeFrames().map(\.seq) == [4])
    }
}

// MARK: - Helpers

/// One embedded event loop with its hub (one shard: the loop is its own group) and the connections on it.
private final class FanoutFixture {
    let loop: EmbeddedEventLoop
    let hub: Hub
    private var channels: [EmbeddedChannel] = []

    init(history: RoomHistories? = nil) {
        let loop = EmbeddedEventLoop()
        self.loop = loop
        hub = history.map { Hub(group: loop, history: $0) } ?? Hub(group: loop)
    }

    var shard: LoopShard { hub.shard(for: loop) }

    /// A connection in its own channel; adding the handler (`handlerAdded`) registers it on the shard.
    func connect(_ id: String) -> EmbeddedConnection {
        let connection = WebSocketConnection(
            id: id, slot: hub.makeSlot(), remoteAddress: "embedded", shard: shard, delegate: SilentDelegate(),
            maxMessageSize: 1 << 20, messageRate: 1_000,
            drain: LingeringClose.Policy(timeout: .seconds(1), maxBytes: 1 << 16))
        let channel = EmbeddedChannel(handler: connection, loop: loop)
        channels.append(channel)
        return EmbeddedConnection(connection: connection, channel: channel)
    }

    /// A connection joined to `room` through the hub, as a subscribe without `since` joins it.
    func member(of room: String, _ id: String) -> EmbeddedConnection {
        let member = connect(id)
        _ = hub.join(room, member.connection, since: nil)
        return member
    }

    /// Orders event number `n` (`data.n`) in `room`; its delivery runs on the next `loop.run()`. The future
    /// holds how many members it reached.
    @discardableResult
    func publish(_ n: Int, to room: String = "r") -> EventLoopFuture<Int> {
        var open = ServerFrame.begin()
        Envelope.event("e", data: ["n": JSONValue(n)], room: room).encodeOpen(into: &open)
        return hub.broadcast(open: open, to: room, resultOn: loop)
    }

    /// The value of a future the loop has already completed; nil if it has not (`wait()` would hang).
    func result<T>(of future: EventLoopFuture<T>) throws -> T? {
        var result: Result<T, any Error>?
        future.assumeIsolated().whenComplete { result = $0 }
        return try result?.get()
    }

    /// Closes every channel (each connection leaves its rooms) and runs what is left: an `EmbeddedChannel`
    /// or `EmbeddedEventLoop` freed with work outstanding stops the test process.
    func finish() {
        for channel in channels { _ = try? channel.finish() }
        loop.run()
    }
}

/// A connection and the channel it writes into.
private struct EmbeddedConnection {
    let connection: WebSocketConnection
    let channel: EmbeddedChannel

    /// The writes flushed since the last call, one buffer per `context.write`, oldest first.
    func takeWrites() throws -> [ByteBuffer] {
        var writes: [ByteBuffer] = []
        while let write = try channel.readOutbound(as: ByteBuffer.self) { writes.append(write) }
        return writes
    }

    /// The frames of those writes, in order, wherever the write boundaries fall.
    func takeFrames() throws -> [SentFrame] {
        try takeWrites().flatMap { try frames(in: $0) }
    }
}

/// One frame a connection sent, its payload parsed.
private struct SentFrame {
    let opcode: UInt8
    let json: JSONValue

    var seq: Int? { json["seq"]?.intValue.map(Int.init) }
    var epoch: String? { json["epoch"]?.stringValue }
    var event: String? { json["event"]?.stringValue }
    /// The publish's number (`data.n`), to tell events apart independently of the position the hub gave them.
    var n: Int? { json["data"]?["n"]?.intValue.map(Int.init) }
}

/// Splits written bytes into the frames they hold, back to back: server frames are unmasked, with a 2-, 4- or
/// 10-byte header (FIN and opcode, then a 7-bit length, or 126 and 16 bits, or 127 and 64 bits).
private func frames(in written: ByteBuffer) throws -> [SentFrame] {
    var bytes = written
    var frames: [SentFrame] = []
    while bytes.readableBytes > 0 {
        // (The reads mutate `bytes`, so they stay outside `#require`, which takes immutable operands.)
        let header = bytes.readInteger(as: UInt16.self)
        let (first, second) = try #require(header.map { (UInt8($0 >> 8), UInt8($0 & 0xFF)) }, "a header is cut short")
        #expect(first & 0xF0 == 0x80, "FIN set, RSV clear: one uncompressed frame per message")
        #expect(second & 0x80 == 0, "server frames are never masked")
        let length: Int?
        switch second & 0x7F {
        case 126: length = bytes.readInteger(as: UInt16.self).map(Int.init)
        case 127: length = bytes.readInteger(as: UInt64.self).map(Int.init)
        case let short: length = Int(short)
        }
        let payloadLength = try #require(length, "a length is cut short")
        let slice = bytes.readSlice(length: payloadLength)
        let payload = try #require(slice, "a frame is cut short")
        frames.append(SentFrame(opcode: first & 0x0F, json: try JSONParser.parse(payload)))
    }
    return frames
}

/// The server side a connection reports to: these tests drive the hub and shard directly, so it does nothing.
private final class SilentDelegate: ConnectionDelegate {
    func connectionOpened(_ connection: WebSocketConnection) {}
    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool) {}
    func connectionClosed(_ connection: WebSocketConnection) {}
}
