import Hummingbird
import HummingbirdCore
import ServiceLifecycle

extension RealtimeServer {
    /// Serves until SIGTERM/SIGINT (when `handleSignals`) or `shutdown()`: then stops accepting, closes every
    /// WebSocket with 1001 and returns.
    public func run(handleSignals: Bool = true) async throws {
        let app = Application(
            router: makeRouter(),
            server: HTTPServerBuilder { responder in
                RealtimeChildChannel(
                    responder: RealtimeChildChannel.redirectingLateUpgrades(responder), http1: .init(idleTimeout: .seconds(60)),
                    admit: { [self] request, channel in admit(request, channel) },
                    install: { [self] request, channel in try install(request, channel) },
                    handshakeTimeout: .interval(self.settings.handshakeTimeout), tls: self.tls)
            },
            configuration: .init(address: .hostname(settings.host, port: settings.port), backlog: 4096),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.notice("listening", metadata: ["url": "\(tls == nil ? "ws" : "wss")://\(settings.host):\(port)/ws"])
                lifecycle.listening(on: port)
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse: stop accepting, leave the cluster, then close the WebSockets.
                services: [.init(service: ConnectionSupervisor(server: self))] + (broker.map { [.init(service: $0)] } ?? [])
                    + [.init(service: app)],
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        if lifecycle.attach(group) { await group.triggerGracefulShutdown() }
        try await group.run()
        logger.notice("stopped")
    }

    /// The port actually bound (useful with port 0); waits until the listener is up.
    public func listeningPort() async -> Int { await lifecycle.waitForPort() }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async { await lifecycle.requestShutdown() }
}
