import NIOCore
import Synchronization

/// All shards of one server: routes a broadcast to every event loop and aggregates room statistics.
final class Hub: Sendable {
    let shards: [LoopShard]
    private let shardByLoop: [ObjectIdentifier: LoopShard]
    /// Serializes the hand-off of broadcasts to the loops, so two publishes to one room reach every
    /// subscriber in the same order (each loop runs its tasks first in, first out).
    private let publishOrder = Mutex(())
    private let nextSlot = Atomic<Int>(0)

    init(group: any EventLoopGroup) {
        var shards: [LoopShard] = []
        for loop in group.makeIterator() { shards.append(LoopShard(eventLoop: loop)) }
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

    /// Hands `frame` to each loop's members of `room`; the future (on `loop`) holds how many received it.
    func broadcast(_ frame: ByteBuffer, to room: String, resultOn loop: any EventLoop) -> EventLoopFuture<Int> {
        let deliveries = publishOrder.withLock { _ in
            shards.map { shard in shard.eventLoop.submit { shard.deliver(frame, to: room) } }
        }
        if deliveries.count == 1 { return deliveries[0].hop(to: loop) }
        return EventLoopFuture.reduce(0, deliveries, on: loop, +)
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
