import RESP
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Scale-out over Redis: every instance of a service subscribes to one pub/sub channel per service
/// (`backbone:<service>:events`); a publish on any instance goes to Redis once, and every instance (the
/// publisher included) hands it to its own local subscribers. Redis serializes publishes, so every
/// subscriber on every instance sees one room's events in the same order.
///
/// Presence: each instance keeps a key `backbone:<service>:presence:<instance>` with its room counts and a
/// TTL; readers sum the live keys, so a dead instance drops out when its key expires.
///
/// Redis down: local clients are still served (subscribe, requests, ping); publishing fails with
/// `BROKER_UNAVAILABLE` rather than reaching only some instances; `/ready` and `/health` report it; the
/// broker reconnects with backoff and resubscribes by itself.
final class RedisBroker: Broker, Service, Sendable {
    private struct Connections {
        var command: RedisConnection?
        var subscriber: RedisConnection?
    }

    let address: RedisAddress
    let service: String
    let instanceID: String
    let presenceTTL: Double
    /// How much of each room the streams keep for resume (`history_size`, `history_ttl`).
    let history: HistoryBounds
    let group: any EventLoopGroup
    private let logger: Logger
    /// Where the events Redis brings back reach this instance's subscribers.
    let delivery: EventDelivery
    private let connections = Mutex(Connections())
    /// This instance's connections, users and presence members, mirrored into Redis.
    let directory: RedisDirectory
    private let available = Atomic<Bool>(false)

    var channel: String { "backbone:\(service):events" }
    /// A room's counter, epoch and history stream.
    func roomKeys(_ room: String) -> (seq: String, epoch: String, stream: String) {
        let prefix = "backbone:\(service):room:\(room)"
        return (prefix + ":seq", prefix + ":epoch", prefix + ":history")
    }
    var instancesKey: String { "backbone:\(service):instances" }
    func presenceKey(_ instance: String) -> String { "backbone:\(service):presence:\(instance)" }

    init(
        address: RedisAddress, service: String, instanceID: String, presenceTTL: Double, history: HistoryBounds,
        group: any EventLoopGroup, logger: Logger, delivery: EventDelivery
    ) {
        self.address = address
        self.service = service
        self.instanceID = instanceID
        self.presenceTTL = presenceTTL
        self.history = history
        self.group = group
        self.logger = logger
        self.delivery = delivery
        self.directory = RedisDirectory(
            service: service, instanceID: instanceID, ttlSeconds: max(1, Int(presenceTTL.rounded(.up))))
    }

    var isAvailable: Bool { available.load(ordering: .relaxed) }

    /// The connection for commands, while connected.
    var commandConnection: RedisConnection? { connections.withLock { $0.command } }

    // MARK: Publishing

    /// Orders events in Redis and sends them to every instance, in one atomic script run for a whole batch: per
    /// event, the room's counter gives the next `seq` (a lost counter starts a new `epoch`, and drops the old
    /// epoch's history), the envelope is closed with both, kept in the room's stream (entry id `<seq>-1`, at most
    /// `history_size` entries, the stream expiring `history_ttl` after the last event), and published as
    /// `room \n seq \n epoch \n envelope`. Counters of idle rooms expire after a day. A batch's events of one
    /// room so get consecutive positions, and every instance receives them in batch order.
    /// KEYS: 3 per distinct room (seq, epoch, stream); ARGV: channel, fresh epoch, history size, ttl, now, then
    /// per event its room's key index, room, envelope.
    /// The script is `Resources/order.lua`, embedded in the binary.
    static let orderScript = String(decoding: PackageResources.order_lua, as: UTF8.self)

    func envelopeBuffer() -> ByteBuffer { ByteBuffer() }

    /// Redis orders the events and brings them back to every instance, this one included; each event then
    /// counts its room's members here.
    func publish(_ events: [PreparedEvent], on loop: any EventLoop) -> [EventLoopFuture<Int>] {
        let ordered = distribute(batch: events.map { ($0.room, $0.open) }, on: loop)
        return events.map { event in ordered.flatMap { [hub = delivery.hub] in hub.memberCount(event.room, on: loop) } }
    }

    var sharesHistory: Bool { true }

    var healthJSON: JSONObject? { ["type": "redis", "available": .bool(isAvailable), "instance": .string(instanceID)] }

    var backgroundService: (any Service)? { self }

    /// Sends envelopes (without their closing brace, `Envelope.encodeOpen`) to every instance, in order, in one step.
    func distribute(batch: [(room: String, openEnvelope: ByteBuffer)], on loop: any EventLoop) -> EventLoopFuture<Void> {
        guard isAvailable, let command = commandConnection else {
            return loop.makeFailedFuture(Self.unavailable)
        }
        var keyIndex: [String: Int] = [:]
        var keys: [RESPArgument] = []
        var events: [RESPArgument] = []
        for event in batch {
            let index =
                keyIndex[event.room]
                ?? {
                    let room = roomKeys(event.room)
                    keys += [.string(room.seq), .string(room.epoch), .string(room.stream)]
                    keyIndex[event.room] = keyIndex.count
                    return keyIndex.count - 1
                }()
            events += [.string(String(index)), .string(event.room), .bytes(event.openEnvelope)]
        }
        let arguments: [RESPArgument] = [
            .string(channel), .string(String(UUID4.make().prefix(8))), .string(String(history.size)),
            .string(String(history.ttlSeconds)), .string(String(Self.wallClockMillis())),
        ]
        return command.send(["EVAL", .string(Self.orderScript), .string(String(keys.count))] + keys + arguments + events)
            .hop(to: loop).map { _ in }.flatMapErrorThrowing { _ in throw Self.unavailable }
    }

    static let unavailable = ProtocolError(.brokerUnavailable, "Redis is unreachable: publishing is suspended, retry shortly")

    private func received(_ push: RESPValue) {
        // Pushes are ["message", channel, "room\nseq\nepoch\nenvelope"]; subscribe confirmations are ignored.
        guard let parts = push.array, parts.count == 3, parts[0].string == "message",
            case .bulkString(var payload?) = parts[2]
        else { return }
        if parts[1].string == directChannel { return receivedDirect(payload) }
        guard
            let room = Self.readLine(&payload), let seq = Self.readLine(&payload).flatMap({ Int($0) }),
            let epoch = Self.readLine(&payload)
        else { return }
        delivery.deliver(envelope: payload, at: RoomPosition(seq: seq, epoch: epoch), to: room)
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")),
            let line = buffer.readString(length: newline - buffer.readerIndex)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        return line
    }

    // MARK: Presence

    /// Subscribers per room summed over the live instances; nil when Redis cannot be asked.
    func clusterRooms() async -> [String: Int]? {
        guard isAvailable, let command = commandConnection else { return nil }
        do {
            let instances = try await command.send(["SMEMBERS", .string(instancesKey)]).get().array?.compactMap(\.string) ?? []
            guard !instances.isEmpty else { return [:] }
            let values = try await command.send(["MGET"] + instances.map { .string(presenceKey($0)) }).get().array ?? []
            var total: [String: Int] = [:]
            for (instance, value) in zip(instances, values) {
                guard let text = value.string, case .object(let rooms) = try? JSONParser.parse(text) else {
                    _ = try? await command.send(["SREM", .string(instancesKey), .string(instance)]).get()  // expired: gone
                    continue
                }
                for member in rooms { total[member.key, default: 0] += Int(member.value.intValue ?? 0) }
            }
            return total
        } catch {
            return nil
        }
    }

    private func publishPresence(_ command: RedisConnection) async throws {
        let rooms = (try? await delivery.hub.roomCounts(on: group.any()).get()) ?? [:]
        let counts = JSONObject(rooms.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) })
        let ttl = String(max(1, Int(presenceTTL.rounded(.up))))
        _ = try await command.send([
            "SET", .string(presenceKey(instanceID)), .string(JSONWriter.string(counts)), "EX", .string(ttl),
        ]).get()
        _ = try await command.send(["SADD", .string(instancesKey), .string(instanceID)]).get()
    }

    // MARK: Connection upkeep

    /// Keeps both connections up until shutdown: connect, subscribe, refresh presence; on any loss, mark the
    /// broker unavailable and reconnect with exponential backoff (0.1 s doubling to 5 s, full jitter).
    func run() async throws {
        var delay = 0.1
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await connectAndServe()
                delay = 0.1
            } catch {
                if isAvailable || delay == 0.1 {
                    logger.warning(
                        "redis unavailable", metadata: ["redis": "\(address.host):\(address.port)", "error": "\(error)"])
                }
            }
            available.store(false, ordering: .relaxed)
            dropConnections()
            if Task.isShuttingDownGracefully { break }
            try? await Task.sleep(for: .seconds(Double.random(in: 0...delay)))
            delay = min(delay * 2, 5)
        }
        await leave()
    }

    private func connectAndServe() async throws {
        let lost = AsyncStream<Void>.makeStream()
        let onClose: @Sendable () -> Void = { lost.continuation.yield() }
        let command = try await RedisConnection.connect(host: address.host, port: address.port, on: group, onClose: onClose)
        let subscriber = try await RedisConnection.connect(
            host: address.host, port: address.port, on: group, onPush: { [self] in received($0) }, onClose: onClose)
        connections.withLock { $0 = Connections(command: command, subscriber: subscriber) }
        _ = try await command.send(["PING"]).get()
        // Events published while this instance was cut off never reached it: resume then reads the streams in
        // Redis. Before SUBSCRIBE: what arrives from here on is complete.
        delivery.hub.forgetHistory()
        _ = try await subscriber.send(["SUBSCRIBE", .string(channel), .string(directChannel)]).get()
        try await publishPresence(command)
        // Available first: changes from here on go to Redis after the rewrite, or are in it.
        available.store(true, ordering: .relaxed)
        directory.rewrite(command)
        logger.notice("redis connected", metadata: ["redis": "\(address.host):\(address.port)", "instance": "\(instanceID)"])
        // Refresh presence well within its TTL until a connection drops or the service stops.
        try await cancelWhenGracefulShutdown { [self] in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await _ in lost.stream { throw RedisConnection.Failure(description: "Redis connection lost") }
                }
                tasks.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(self.presenceTTL / 3))
                        try await self.publishPresence(command)
                        try await self.directory.refresh(command)
                    }
                }
                try await tasks.next()
                tasks.cancelAll()
            }
        }
    }

    private func dropConnections() {
        let old = connections.withLock { connections in
            defer { connections = Connections() }
            return connections
        }
        old.command?.close()
        old.subscriber?.close()
    }

    /// On shutdown, remove this instance's presence at once instead of waiting for its TTL.
    private func leave() async {
        guard let command = try? await RedisConnection.connect(host: address.host, port: address.port, on: group, onClose: {})
        else { return }
        _ = try? await command.send(["DEL", .string(presenceKey(instanceID))] + directory.ownKeys.map { .string($0) }).get()
        _ = try? await command.send(["SREM", .string(instancesKey), .string(instanceID)]).get()
        command.close()
    }
}
