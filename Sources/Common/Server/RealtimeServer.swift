import RESP
import Foundation
import Logging
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Proof that an event went out: how many local subscribers it was handed to.
public struct PublishReceipt: Sendable, Equatable {
    public let event: String?  // nil: an unnamed event
    public let room: String
    public let subscribers: Int
}

/// The shared WebSocket server a service runs: connections, rooms, fan-out, requests, publishing, HTTP.
/// A service supplies a `ServiceDefinition`; everything else lives here.
public final class RealtimeServer: Sendable {
    public let definition: ServiceDefinition
    public let settings: Settings
    let logger: Logger
    let group: any EventLoopGroup
    let hub: Hub
    let requests: [String: RequestSpec]
    let statistics = Statistics()
    let lifecycle = Lifecycle()
    let addresses = AddressCounter()
    let echo = EchoDelegate()
    /// Present when `auth_enabled`; nil means every client is anonymous and trusted.
    let authenticator: Authenticator?
    /// Present when `tls.enabled`.
    let tls: NIOSSLContext?
    public let metrics: ServerMetrics
    /// The bounds of the drain after every close we start (a WebSocket close frame, a refused upgrade).
    let drainPolicy: LingeringClose.Policy
    let monitor = Monitor()
    /// The metrics stream's bound port and its update ticker, while it runs.
    let metricsStreamBound = Mutex<Int?>(nil)
    let metricsStreamTicker = Mutex<RepeatedTask?>(nil)
    let mcpBound = Mutex<Int?>(nil)
    /// Present with `broker: redis`; nil means this process is the whole service.
    let broker: RedisBroker?
    /// The MCP-over-HTTP sessions of `/mcp`.
    let mcpSessions: MCPSessions

    public init(definition: ServiceDefinition, settings: Settings, logger: Logger? = nil) async throws {
        self.definition = definition
        self.settings = settings
        var logger = logger ?? Logger(label: definition.name)
        logger[metadataKey: "service"] = .string(definition.name)
        self.logger = logger
        self.group =
            settings.eventLoopThreads == 0
            ? MultiThreadedEventLoopGroup.singleton
            : MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoopThreads)
        self.hub = Hub(
            group: group,
            history: RoomHistories(
                size: settings.historySize, ttl: .interval(settings.historyTTL), maxRooms: settings.historyRooms),
            compression: settings.compression)
        self.requests = Dictionary(definition.requests.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.authenticator =
            settings.auth.enabled ? try await Authenticator(settings: settings.auth, service: definition.name) : nil
        self.tls = try settings.tls.makeContext()
        self.metrics = ServerMetrics(
            server: definition.name, tls: settings.tls.enabled, channelLabels: definition.catalog.channels.map(\.pattern.label))
        self.drainPolicy = settings.drainPolicy(metrics: metrics)
        self.mcpSessions = MCPSessions(maxSessions: settings.mcpMaxSessions, idleTimeout: .seconds(settings.mcpSessionTimeout))
        if settings.broker == "redis", let address = RedisAddress(url: settings.redisURL) {
            let hub = self.hub, group = self.group
            // Unique even for two servers in one process, or a pid reused after a crash.
            let instance = settings.instanceID.isEmpty
                ? "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID4.make().prefix(8))" : settings.instanceID
            // The broker outlives nothing: it calls back into this server only while the server runs it.
            let deliver = DeliveryTarget()
            self.broker = RedisBroker(
                address: address, service: definition.name, instanceID: instance, presenceTTL: settings.presenceTTL,
                history: HistoryBounds(size: settings.historySize, ttlSeconds: Int(settings.historyTTL.rounded(.up))),
                group: group, logger: logger,
                deliver: { room, position, envelope in
                    deliver.server?.deliverFromBroker(room: room, position: position, envelope: envelope)
                },
                // This instance may have missed events while cut off: resume then reads the streams in Redis.
                connected: { hub.forgetHistory() },
                localRooms: { (try? await hub.roomCounts(on: group.any()).get()) ?? [:] })
            deliver.set(self)
        } else {
            self.broker = nil
        }
    }

    public var name: String { definition.name }

    // MARK: Publishing

    /// Validates an event against the catalogue, stamps `timestamp` into its payload if absent, encodes it
    /// once, and hands the same frame to every subscriber of `room`.
    /// `event` nil publishes an unnamed event (`"event":null`), where the room's channel declares one.
    public func publish(event: String?, room: String, data: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        let delivered = try publish(event: event, room: room, data: data, resultOn: group.any())
        do {
            return PublishReceipt(event: event, room: room, subscribers: try await delivered.get())
        } catch {
            throw error as? ProtocolError ?? ProtocolError(.internalError, "Delivery failed: \(error)")
        }
    }

    /// The future holds how many subscribers of this instance the event was handed to.
    func publish(event: String?, room: String, data: JSONObject, resultOn loop: any EventLoop) throws(ProtocolError)
        -> EventLoopFuture<Int>
    {
        let prepared = try prepare(PublishItem(event: event, room: room, data: data))
        guard let broker else {
            observe(prepared)
            return measured(room) { hub.broadcast(open: prepared.open, to: room, resultOn: loop) }
        }
        return distribute(prepared, through: broker, on: loop)
    }

    /// A batch: each event validated on its own, the valid ones ordered in one step (locally under the hub's lock,
    /// clustered in one Redis script run), so a room's events of the batch have consecutive positions and
    /// arrive in batch order; one result per event, in order.
    func publish(batch items: [PublishItem], resultOn loop: any EventLoop) -> [Result<EventLoopFuture<Int>, ProtocolError>] {
        let prepared = items.map { item in Result { () throws(ProtocolError) in try prepare(item) } }
        let valid = prepared.compactMap { try? $0.get() }
        guard let broker else {
            valid.forEach(observe)
            var delivered = hub.broadcast(batch: valid.map { ($0.open, $0.room) }, resultOn: loop).makeIterator()
            return prepared.map { result in
                result.map { event in measured(event.room) { delivered.next()! } }
            }
        }
        // One script run orders the whole batch in Redis; each event then counts its room's local members.
        let ordered = valid.isEmpty ? loop.makeSucceededVoidFuture() : broker.distribute(batch: valid.map { ($0.room, $0.open) }, on: loop)
        return prepared.map { result in result.map { event in ordered.flatMap { [hub] in hub.memberCount(event.room, on: loop) } } }
    }

    /// One event to publish, as producers send it (`event` nil: an unnamed event).
    struct PublishItem: Sendable {
        let event: String?
        let room: String
        let data: JSONObject
    }

    /// A validated event, encoded once: the envelope without its closing brace (positions are appended later).
    private struct PreparedEvent {
        let event: String?
        let room: String
        let payload: JSONObject
        let open: ByteBuffer
    }

    private func prepare(_ item: PublishItem) throws(ProtocolError) -> PreparedEvent {
        var payload = try definition.catalog.validate(event: item.event, room: item.room, data: item.data)
        // Upstream's helpers stamp named events; its unnamed messages go out as built.
        if item.event != nil, payload["timestamp"] == nil { payload["timestamp"] = .string(Timestamp.now()) }
        // Local fan-out writes the frame header in front; Redis carries the bare envelope.
        var open = broker == nil ? ServerFrame.begin() : ByteBuffer()
        Envelope.event(item.event, data: payload, room: item.room).encodeOpen(into: &open)
        return PreparedEvent(event: item.event, room: item.room, payload: payload, open: open)
    }

    private func observe(_ prepared: PreparedEvent) {
        if let event = prepared.event { observe(PublishedEvent(event: event, room: prepared.room, data: prepared.payload)) }
    }

    /// Clustered: Redis orders the event and brings it back to every instance, this one included.
    private func distribute(_ prepared: PreparedEvent, through broker: RedisBroker, on loop: any EventLoop) -> EventLoopFuture<Int> {
        broker.distribute(batch: [(prepared.room, prepared.open)], on: loop).flatMap { [hub] in
            hub.memberCount(prepared.room, on: loop)
        }
    }

    /// An event any instance published, as Redis delivers it (with its position): observers first, then the
    /// local fan-out.
    func deliverFromBroker(room: String, position: RoomPosition, envelope: ByteBuffer) {
        if !definition.observers.isEmpty, let event = try? Envelope.decode(envelope), let name = event.event {
            observe(PublishedEvent(event: name, room: room, data: event.data))
        }
        let frame = ServerFrame.text(envelope)
        _ = measured(room) { hub.broadcast(frame: frame, at: position, to: room, resultOn: group.any()) }
    }

    private func observe(_ event: PublishedEvent) {
        for observer in definition.observers { observer(event) }
    }

    /// Counts a broadcast and its deliveries, and times it.
    private func measured(_ room: String, _ broadcast: () -> EventLoopFuture<Int>) -> EventLoopFuture<Int> {
        let started = NIODeadline.now()
        statistics.broadcasts.add(1, ordering: .relaxed)
        let channel = definition.catalog.channel(for: room)?.pattern.label ?? room
        return broadcast().map { [statistics, metrics] delivered in
            statistics.messagesSent.add(delivered, ordering: .relaxed)
            metrics.sent(.event, count: delivered)
            metrics.broadcast(channel: channel, seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
            return delivered
        }
    }

    // MARK: Status

    public var activeConnections: Int { statistics.activeConnections.load(ordering: .relaxed) }

    /// Subscribers per room on this instance.
    public func roomCounts() async throws -> [String: Int] {
        try await hub.roomCounts(on: group.any()).get()
    }

    /// Subscribers per room over every live instance (this one alone without Redis, or while it is down).
    public func clusterRoomCounts() async throws -> [String: Int] {
        if let broker, let counts = await broker.clusterRooms() { return counts }
        return try await roomCounts()
    }

    public var uptimeSeconds: Double {
        Double(Timestamp.currentMicroseconds() - statistics.startedAt) / 1_000_000
    }
}

/// Lets the broker, built during the server's init, call back into the server (a weak link, set once).
final class DeliveryTarget: Sendable {
    private let target = Mutex<RealtimeServer?>(nil)

    func set(_ server: RealtimeServer) { target.withLock { $0 = server } }
    var server: RealtimeServer? { target.withLock { $0 } }
}

/// Process-wide counters, updated with relaxed atomics from every loop.
final class Statistics: Sendable {
    let startedAt = Timestamp.currentMicroseconds()
    let activeConnections = Atomic<Int>(0)
    let peakConnections = Atomic<Int>(0)
    let totalConnections = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let messagesSent = Atomic<Int>(0)
    let broadcasts = Atomic<Int>(0)
    let errorsSent = Atomic<Int>(0)
    /// Sum of message handling times, and how many messages were timed.
    let latencyMicros = Atomic<Int>(0)
    let messagesHandled = Atomic<Int>(0)
    /// Sum of upgrade-to-welcome times.
    let connectLatencyMicros = Atomic<Int>(0)
    /// Unix microseconds of the last message received.
    let lastActivity = Atomic<Int64>(0)

    func connectionOpened() {
        let open = activeConnections.add(1, ordering: .relaxed).newValue
        totalConnections.add(1, ordering: .relaxed)
        var peak = peakConnections.load(ordering: .relaxed)
        while open > peak {
            let (exchanged, current) = peakConnections.compareExchange(
                expected: peak, desired: open, ordering: .relaxed)
            if exchanged { break }
            peak = current
        }
    }

    func counts() -> Monitor.Counts {
        Monitor.Counts(
            at: Double(Timestamp.currentMicroseconds()) / 1e6,
            received: messagesReceived.load(ordering: .relaxed), delivered: messagesSent.load(ordering: .relaxed),
            errors: errorsSent.load(ordering: .relaxed), latencyMicros: latencyMicros.load(ordering: .relaxed),
            handled: messagesHandled.load(ordering: .relaxed),
            connectLatencyMicros: connectLatencyMicros.load(ordering: .relaxed),
            connected: totalConnections.load(ordering: .relaxed))
    }
}
