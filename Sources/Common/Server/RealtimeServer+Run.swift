import Hummingbird
import NIOCore
import NIOHTTP1
import HummingbirdCore
import ServiceLifecycle

extension RealtimeServer {
    /// Serves until SIGTERM/SIGINT (when `handleSignals`) or `shutdown()`: then stops accepting, closes every
    /// WebSocket with 1001 and returns.
    public func run(handleSignals: Bool = true) async throws {
        let listener = makeListener(
            port: settings.port, backlog: 4096, responder: RealtimeChildChannel.redirectingLateUpgrades(httpResponder()),
            admit: { [self] request, channel in admit(request, channel) },
            install: { [self] request, channel, deflate in try install(request, channel, deflate: deflate) },
            refused: { [metrics] refusal in metrics.connectionError(refusal.code.label) },
            onRunning: { [self] port in
                logger.notice("listening", metadata: ["url": "\(tls == nil ? "ws" : "wss")://\(settings.host):\(port)/ws"])
                lifecycle.listening(on: port)
            })
        let extraListeners: [ServiceGroupConfiguration.ServiceConfiguration] =
            [metricsListener(), mcpListener(), metricsStreamListener()].compactMap { $0.map { .init(service: $0) } }
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse: stop accepting, leave the cluster, then close the WebSockets.
                services: [.init(service: ConnectionSupervisor(server: self))] + (broker.map { [.init(service: $0)] } ?? [])
                    + extraListeners + [.init(service: listener)],
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        if lifecycle.attach(group) { await group.triggerGracefulShutdown() }
        try await group.run()
        metricsStreamTicker.withLock { $0?.cancel() }
        await mcpSessions.closeAll()
        logger.notice("stopped")
    }

    /// `metrics_port`: a listener of its own serving only `/metrics` and `/health` (upstream's scrapers
    /// expect a metrics port).
    private func metricsListener() -> Listener? {
        sideListener(port: settings.metricsPort, path: "/metrics") { addProbes(to: $0) }
    }

    /// `mcp_port`: a listener of its own serving only `/mcp` and `/health`, to keep the MCP surface apart.
    private func mcpListener() -> Listener? {
        sideListener(port: settings.mcpPort, path: "/mcp", bound: { [self] port in mcpBound.withLock { $0 = port } }) {
            addHealth(to: $0)
            addMCP(to: $0)
        }
    }

    /// A plain-HTTP listener on `port` (0: none) for `path` and `/health`; WebSocket upgrades there get 404.
    private func sideListener(
        port: Int, path: String, bound: @escaping @Sendable (Int) -> Void = { _ in },
        routes: (Router<BasicRequestContext>) -> Void
    ) -> Listener? {
        guard port != 0 else { return nil }
        let router = Router<BasicRequestContext>()
        routes(router)
        return makeListener(
            port: port, backlog: 64, responder: httpResponder(router),
            admit: { _, _ in UpgradeRefusal(.notFound, code: .notFound, "This port serves only \(path) and /health") },
            install: { _, _, _ in },
            onRunning: { [self] port in
                bound(port)
                logger.notice("\(path.dropFirst()) listening", metadata: ["url": "\(tls == nil ? "http" : "https")://\(settings.host):\(port)\(path)"])
            })
    }

    /// The port `mcp_port` is bound to, once it is listening (nil when there is none).
    public var mcpPort: Int? { mcpBound.withLock { $0 } }

    /// `metrics_stream.port`: the service's flat-JSON stream, when it defines one and the settings leave it on.
    /// Any path upgrades (as upstream's); plain HTTP there gets 404.
    private func metricsStreamListener() -> Listener? {
        guard let spec = definition.metricsStream, settings.metricsStream.enabled else { return nil }
        let authenticator = self.authenticator
        let handler = spec.makeHandler(StreamContext(
            authRequired: authenticator != nil,
            verify: { token in try? await authenticator?.identity(token: token) },
            logger: logger))
        let delegate = StreamDelegate(handler: handler)
        let interval = TimeAmount.interval(settings.metricsStream.updateInterval)
        let router = Router<BasicRequestContext>()
        return makeListener(
            port: settings.metricsStream.port, backlog: 1024, responder: httpResponder(router),
            admit: { [self] _, _ in lifecycle.isDraining ? Self.shuttingDown : nil },
            install: { [self] request, channel, deflate in try install(request, channel, deflate: deflate, delegate: delegate) },
            onRunning: { [self] port in
                metricsStreamBound.withLock { $0 = port }
                logger.notice("metrics stream listening", metadata: ["url": "ws://\(settings.host):\(port)"])
                let ticker = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in handler.tick() }
                metricsStreamTicker.withLock { $0 = ticker }
            })
    }

    /// A listener on `port` with the settings every listener shares (host, TLS, handshake timeout, drain).
    /// `onRunning` gets the port actually bound.
    private func makeListener(
        port: Int, backlog: Int32, responder: @escaping HTTPChannelHandler.Responder,
        admit: @escaping @Sendable (HTTPRequestHead, any Channel) -> UpgradeRefusal?,
        install: @escaping @Sendable (HTTPRequestHead, any Channel, PerMessageDeflate?) throws -> Void,
        refused: @escaping @Sendable (UpgradeRefusal) -> Void = { _ in },
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> Listener {
        Listener(
            childChannel: RealtimeChildChannel(
                responder: responder, http1: .init(idleTimeout: .seconds(60)), admit: admit, install: install,
                compression: settings.compression,
                refused: refused, drain: drainPolicy, handshakeTimeout: .interval(settings.handshakeTimeout), tls: tls),
            host: settings.host, port: port, backlog: backlog, group: group, logger: logger,
            onRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    /// The port the metrics stream is bound to, once it is listening (nil when there is none).
    public var metricsStreamPort: Int? { metricsStreamBound.withLock { $0 } }

    /// Hummingbird's router behind our listener: one request context per request, a `Date` header, and a
    /// plain 500 for an error a handler did not turn into a response (as Hummingbird's Application does).
    func httpResponder(_ router: Router<BasicRequestContext>? = nil) -> HTTPChannelHandler.Responder {
        let responder = (router ?? makeRouter()).buildResponder()
        let logger = self.logger
        return { (request, writer: consuming ResponseWriter, channel) in
            let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await responder.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("unhandled error in an HTTP handler", metadata: ["error": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = HTTPDate.now()
            try await writer.write(response: response.head, body: response.body)
        }
    }

    /// The port actually bound (useful with port 0); waits until the listener is up.
    public func listeningPort() async -> Int { await lifecycle.waitForPort() }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async { await lifecycle.requestShutdown() }
}
