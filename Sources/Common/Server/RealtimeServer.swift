import Logging
import NIOSSL
import NIOCore
import NIOPosix
import Synchronization

/// Proof that an event went out: how many local subscribers it was handed to.
public struct PublishReceipt: Sendable, Equatable {
    public let event: String
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
    let monitor = Monitor()

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
        self.hub = Hub(group: group)
        self.requests = Dictionary(definition.requests.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.authenticator =
            settings.auth.enabled ? try await Authenticator(settings: settings.auth, service: definition.name) : nil
        self.tls = try settings.tls.makeContext()
        self.metrics = ServerMetrics(
            server: definition.name, tls: settings.tls.enabled, channelLabels: definition.catalog.channels.map(\.pattern.label))
    }

    public var name: String { definition.name }

    // MARK: Publishing

    /// Validates an event against the catalogue, stamps `timestamp` into its payload if absent, encodes it
    /// once, and hands the same frame to every subscriber of `room`.
    public func publish(event: String, room: String, data: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        let delivered = try publish(event: event, room: room, data: data, resultOn: group.any())
        do {
            return PublishReceipt(event: event, room: room, subscribers: try await delivered.get())
        } catch {
            throw ProtocolError(.internalError, "Delivery failed: \(error)")
        }
    }

    func publish(event: String, room: String, data: JSONObject, resultOn loop: any EventLoop) throws(ProtocolError)
        -> EventLoopFuture<Int>
    {
        try definition.catalog.validate(event: event, room: room, data: data)
        var payload = data
        if payload["timestamp"] == nil { payload["timestamp"] = .string(Timestamp.now()) }
        let published = PublishedEvent(event: event, room: room, data: payload)
        for observer in definition.observers { observer(published) }
        let started = NIODeadline.now()
        let frame = ServerFrame.envelope(.event(event, data: payload, room: room))
        statistics.broadcasts.add(1, ordering: .relaxed)
        let channel = definition.catalog.channel(for: room)?.pattern.label ?? room
        return hub.broadcast(frame, to: room, resultOn: loop).map { [statistics, metrics] delivered in
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

    public var uptimeSeconds: Double {
        Double(Timestamp.currentMicroseconds() - statistics.startedAt) / 1_000_000
    }
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
