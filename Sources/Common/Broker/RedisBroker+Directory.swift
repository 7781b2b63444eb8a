import NIOCore
import RESP

/// Direct messages and presence across the cluster; `RedisDirectory` keeps who is where.
extension RedisBroker {
    var directChannel: String { "backbone:\(service):direct" }

    /// Looks the target up in every live instance's directory; if anyone holds it, publishes
    /// `<field>\n<envelope>` on the direct channel, and every instance writes it to its own connections.
    func direct(_ envelope: ByteBuffer, to target: DirectTarget, on loop: any EventLoop) -> EventLoopFuture<Int> {
        guard isAvailable, let command = commandConnection else { return loop.makeFailedFuture(Self.unavailable) }
        let found = loop.makePromise(of: Int.self)
        found.completeWithTask { [self] in
            do {
                var reached = 0
                for instance in try await liveInstances(command) {
                    let key = RESPArgument.string(directory.directoryKey(instance))
                    let value = try await command.send(["HGET", key, .string(target.field)]).get()
                    reached += max(0, value.string.flatMap { Int($0) } ?? 0)
                }
                guard reached > 0 else { return 0 }
                var payload = ByteBuffer(string: target.field + "\n")
                payload.writeImmutableBuffer(envelope)
                _ = try await command.send(["PUBLISH", .string(directChannel), .bytes(payload)]).get()
                return reached
            } catch {
                throw Self.unavailable
            }
        }
        return found.futureResult
    }

    /// A direct message published by any instance: written to the connections this instance holds.
    func receivedDirect(_ payload: ByteBuffer) {
        var payload = payload
        guard let newline = payload.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
            let field = payload.readString(length: newline - payload.readerIndex), let target = DirectTarget(field: field)
        else { return }
        payload.moveReaderIndex(forwardBy: 1)
        _ = delivery.hub.direct(ServerFrame.text(payload), to: target, resultOn: group.any())
    }

    func directoryChanged(_ target: DirectTarget, by delta: Int) {
        directory.changed(target, by: delta) { isAvailable ? commandConnection : nil }
    }

    func presenceChanged(_ changes: [PresenceChange]) async {
        directory.changed(changes) { isAvailable ? commandConnection : nil }
    }

    func presence(of room: String, limit: Int, listing: Bool) async -> (count: Int, members: [RoomMember])? {
        guard isAvailable, let command = commandConnection else { return nil }
        do {
            var count = 0
            var members: [RoomMember] = []
            for instance in try await liveInstances(command) {
                let key = RESPArgument.string(directory.membersKey(instance, room))
                guard listing else {
                    count += try await command.send(["HLEN", key]).get().string.flatMap { Int($0) } ?? 0
                    continue
                }
                let fields = try await command.send(["HGETALL", key]).get().array ?? []
                count += fields.count / 2
                for pair in stride(from: 0, to: fields.count - 1, by: 2) where members.count < limit {
                    guard let id = fields[pair].string, let text = fields[pair + 1].string,
                        let stored = try? JSONParser.parse(text)
                    else { continue }
                    members.append(RoomMember(connectionID: id, stored: stored))
                }
            }
            return (count, members)
        } catch {
            return nil
        }
    }

    /// The instances in the cluster's set (an expired one is dropped by `clusterRooms`; its hashes are gone).
    func liveInstances(_ command: RedisConnection) async throws -> [String] {
        try await command.send(["SMEMBERS", .string(instancesKey)]).get().array?.compactMap(\.string) ?? []
    }
}
