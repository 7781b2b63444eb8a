import RESP
import Foundation
import NIOCore

/// How much of each room is kept for resume: `history_size` events, none older than `history_ttl`.
struct HistoryBounds: Sendable {
    var size: Int
    var ttlSeconds: Int
}

/// What the cluster holds of a room after a client's position: the room's current position (nil: the
/// room has no events) and the envelopes after `since`, oldest first, or nil when they are not all there.
struct ClusterHistory: Sendable {
    let position: RoomPosition?
    let envelopes: [ByteBuffer]?
}

/// Resume across instances (docs/scaling.md, docs/clients.md "What resume guarantees"): every room's events are kept in a Redis stream by the ordering script,
/// so a client can resume on any instance, including one started after the events were published.
extension RedisBroker {
    /// One atomic read of a room's counter, epoch and stream entries from `<seq>-1` on: consistent with the
    /// ordering script, so the position and the entries describe the same moment.
    /// The script is `Resources/history.lua`, embedded in the binary.
    static let historyScript = String(decoding: PackageResources.history_lua, as: UTF8.self)

    /// The events of `room` after `since`, from Redis; fails when Redis cannot be asked.
    func history(_ room: String, after since: RoomPosition, on loop: any EventLoop) -> EventLoopFuture<ClusterHistory> {
        guard isAvailable, let command = commandConnection else { return loop.makeFailedFuture(Self.unavailable) }
        let keys = roomKeys(room)
        let bounds = history
        return command.send([
            "EVAL", .string(Self.historyScript), "3", .string(keys.seq), .string(keys.epoch), .string(keys.stream),
            .string(String(since.seq + 1)),
        ]).hop(to: loop).flatMapThrowing { reply in
            guard let parts = reply.array, parts.count == 3, let seq = parts[0].string.flatMap({ Int($0) }),
                let epoch = parts[1].string, let entries = parts[2].array
            else { throw RedisConnection.Failure(description: "unexpected history reply") }
            guard seq > 0, !epoch.isEmpty else { return ClusterHistory(position: nil, envelopes: since.seq == 0 ? [] : nil) }
            let position = RoomPosition(seq: seq, epoch: epoch)
            return ClusterHistory(
                position: position, envelopes: Self.complete(entries, after: since, upTo: position, bounds: bounds))
        }
    }

    /// The envelopes when the entries are exactly `since.seq + 1 ... position.seq`, in the same epoch and none
    /// older than the history's age bound; otherwise nil (the client must treat its state as stale).
    static func complete(
        _ entries: [RESPValue], after since: RoomPosition, upTo position: RoomPosition, bounds: HistoryBounds
    )
        -> [ByteBuffer]?
    {
        guard since.epoch == position.epoch, since.seq <= position.seq, entries.count == position.seq - since.seq else {
            return nil
        }
        let oldest = wallClockMillis() - bounds.ttlSeconds * 1000
        var envelopes: [ByteBuffer] = []
        envelopes.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() {
            // An entry is [id, [field, value, ...]]; the id is "<seq>-1", the fields t (ms) and e (envelope).
            guard let pair = entry.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array,
                id == "\(since.seq + 1 + offset)-1"
            else { return nil }
            var time: Int?
            var envelope: ByteBuffer?
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[index].string {
                case "t": time = fields[index + 1].string.flatMap { Int($0) }
                case "e": if case .bulkString(let bytes?) = fields[index + 1] { envelope = bytes }
                default: break
                }
            }
            guard let time, time >= oldest, let envelope else { return nil }
            envelopes.append(envelope)
        }
        return envelopes
    }

    /// Wall-clock time in ms: instances on different hosts compare entry ages with it.
    static func wallClockMillis() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
}
