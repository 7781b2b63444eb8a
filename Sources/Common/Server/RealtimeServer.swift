import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import ServiceLifecycle

/// The shared WebSocket server a service runs: the composition root. A service supplies a
/// `ServiceDefinition`; this builds the parts and runs them. Each part has one job (docs/architecture.md):
/// `Publisher` validates and encodes events, the `Broker` orders them, `EventDelivery` and the `Hub` fan them
/// out, the `MessageDispatcher` answers clients, `Admission` and `ConnectionInstaller` admit them, the route
/// groups serve HTTP, `ServerStatus` reports.
public final class RealtimeServer: Sendable {
    public let definition: ServiceDefinition
    public let settings: Settings
    public let metrics: ServerMetrics
    let logger: Logger
    let group: any EventLoopGroup
    let hub: Hub
    let broker: any Broker
    let publisher: Publisher
    let status: ServerStatus
    let lifecycle = Lifecycle()
    let statistics = Statistics()
    let monitor = Monitor()
    private let listeners: Listeners
    private let admission: Admission
    private let installer: ConnectionInstaller
    private let routes: [any RouteGroup]
    private let mcpRoutes: [any RouteGroup]
    private let authenticator: Authenticator?
    private let mcpSessions: MCPSessions
    private let hookQueue: HookQueue?

    public init(definition: ServiceDefinition, settings: Settings, logger: Logger? = nil) async throws {
        self.definition = definition
        self.settings = settings
        var logger = logger ?? Logger(label: definition.name)
        logger[metadataKey: "service"] = .string(definition.name)
        self.logger = logger
        let group: any EventLoopGroup =
            settings.eventLoopThreads == 0
            ? MultiThreadedEventLoopGroup.singleton : MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoopThreads)
        self.group = group
        self.metrics = ServerMetrics(
            server: definition.name, tls: settings.tls.enabled, channelLabels: definition.catalog.channels.map(\.pattern.label))
        hub = Hub(
            group: group,
            history: RoomHistories(
                size: settings.historySize, ttl: .interval(settings.historyTTL), maxRooms: settings.historyRooms),
            compression: settings.compression)
        let delivery = EventDelivery(
            hub: hub, catalog: definition.catalog, observers: definition.observers, statistics: statistics, metrics: metrics,
            group: group)
        broker = Self.makeBroker(settings: settings, service: definition.name, delivery: delivery, group: group, logger: logger)
        publisher = Publisher(catalog: definition.catalog, broker: broker, batchMax: settings.publishBatchMax)
        status = ServerStatus(
            name: definition.name, settings: settings, hub: hub, broker: broker, lifecycle: lifecycle, statistics: statistics,
            monitor: monitor, metrics: metrics, group: group)
        authenticator = settings.auth.enabled ? try await Authenticator(settings: settings.auth, service: definition.name) : nil
        let addresses = AddressCounter()
        let drainPolicy = settings.drainPolicy(metrics: metrics)
        listeners = Listeners(
            settings: settings, tls: try settings.tls.makeContext(), drainPolicy: drainPolicy, group: group,
            lifecycle: lifecycle, logger: logger)
        admission = Admission(settings: settings, lifecycle: lifecycle, statistics: statistics, addresses: addresses)
        let presence = PresenceTracker(
            catalog: definition.catalog, broker: broker, publisher: publisher, hub: hub, settings: settings, loop: group.any())
        hookQueue = definition.hooks.isEmpty ? nil : HookQueue()
        let dispatcher = MessageDispatcher(
            definition: definition, settings: settings, hub: hub, broker: broker, publisher: publisher,
            authenticator: authenticator, status: status, addresses: addresses, presence: presence, hookQueue: hookQueue,
            logger: logger)
        installer = ConnectionInstaller(hub: hub, settings: settings, drainPolicy: drainPolicy, clients: dispatcher)
        mcpSessions = MCPSessions(maxSessions: settings.mcpMaxSessions, idleTimeout: .seconds(settings.mcpSessionTimeout))
        let mcp = MCPRoute(
            service: definition.name, settings: settings, lifecycle: lifecycle, sessions: mcpSessions,
            authenticator: authenticator, status: status, publisher: publisher, group: group)
        routes = [
            AnyOriginReads(), ProbeRoutes(status: status), StatusRoutes(status: status, catalog: definition.catalogJSON),
            AssetRoutes(), mcp,
            PublishRoute(
                service: definition.name, publisher: publisher, authenticator: authenticator,
                maxBodySize: settings.maxMessageSize,
                group: group),
        ]
        mcpRoutes = [ProbeRoutes(status: status, metrics: false), mcp]
    }

    /// `broker: redis` runs the service as one of many instances sharing Redis; otherwise this process is all of it.
    private static func makeBroker(
        settings: Settings, service: String, delivery: EventDelivery, group: any EventLoopGroup, logger: Logger
    ) -> any Broker {
        guard settings.broker == "redis", let address = RedisAddress(url: settings.redisURL) else {
            return LocalBroker(delivery: delivery)
        }
        // Unique even for two servers in one process, or a pid reused after a crash.
        let instance =
            settings.instanceID.isEmpty
            ? "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID4.make().prefix(8))" : settings.instanceID
        return RedisBroker(
            address: address, service: service, instanceID: instance, presenceTTL: settings.presenceTTL,
            history: HistoryBounds(size: settings.historySize, ttlSeconds: Int(settings.historyTTL.rounded(.up))),
            group: group, logger: logger, delivery: delivery)
    }

    public var name: String { definition.name }

    /// Validates an event against the catalogue, stamps `timestamp` into its payload if absent, encodes it
    /// once, and hands the same frame to every subscriber of `room`.
    /// `event` nil publishes an unnamed event (`"event":null`), where the room's channel declares one.
    public func publish(event: String?, room: String, data: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        let delivered = try publisher.publish(PublishItem(event: event, room: room, data: data), resultOn: group.any())
        do {
            return PublishReceipt(event: event, room: room, subscribers: try await delivered.get())
        } catch {
            throw Publisher.failure(error)
        }
    }

    // MARK: Running

    /// Serves until SIGTERM/SIGINT (when `handleSignals`) or `shutdown()`: then stops accepting, closes every
    /// WebSocket with 1001 and returns.
    public func run(handleSignals: Bool = true) async throws {
        let side = [
            listeners.side(port: settings.metricsPort, path: "/metrics", routes: [ProbeRoutes(status: status)]),
            listeners.side(port: settings.mcpPort, path: "/mcp", routes: mcpRoutes) { [bound = listeners.bound] port in
                bound.mcp.withLock { $0 = port }
            },
            listeners.metricsStream(definition.metricsStream, authenticator: authenticator, installer: installer),
        ].compactMap { $0.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } }
        let main = listeners.service(routes: routes, admission: admission, installer: installer, metrics: metrics)
        // Shut down in reverse: stop accepting, leave the cluster, then close the WebSockets.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: ConnectionSupervisor(server: self))] + (broker.backgroundService.map { [.init(service: $0)] } ?? [])
            + side + [.init(service: main)]
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        if lifecycle.attach(group) { await group.triggerGracefulShutdown() }
        try await group.run()
        listeners.bound.ticker.withLock { $0?.cancel() }
        await mcpSessions.closeAll()
        await hookQueue?.finish()  // the hooks of the last disconnects run before `run` returns
        logger.notice("stopped")
    }

    /// The port actually bound (useful with port 0); waits until the listener is up.
    public func listeningPort() async -> Int { await lifecycle.waitForPort() }

    /// The port `mcp_port` is bound to, once it is listening (nil when there is none).
    public var mcpPort: Int? { listeners.bound.mcp.withLock { $0 } }

    /// The port the metrics stream is bound to, once it is listening (nil when there is none).
    public var metricsStreamPort: Int? { listeners.bound.metricsStream.withLock { $0 } }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async { await lifecycle.requestShutdown() }

    // MARK: Status

    public var activeConnections: Int { status.activeConnections }

    /// Subscribers per room on this instance.
    public func roomCounts() async throws -> [String: Int] { try await status.roomCounts() }

    /// Subscribers per room over every live instance (this one alone without Redis, or while it is down).
    public func clusterRoomCounts() async throws -> [String: Int] { try await status.clusterRoomCounts() }

    public var uptimeSeconds: Double { status.uptimeSeconds }
}
