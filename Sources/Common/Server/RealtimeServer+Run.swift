import Hummingbird
import NIOHTTP1
import HummingbirdCore
import ServiceLifecycle

extension RealtimeServer {
    /// Serves until SIGTERM/SIGINT (when `handleSignals`) or `shutdown()`: then stops accepting, closes every
    /// WebSocket with 1001 and returns.
    public func run(handleSignals: Bool = true) async throws {
        let listener = Listener(
            childChannel: RealtimeChildChannel(
                responder: RealtimeChildChannel.redirectingLateUpgrades(httpResponder()), http1: .init(idleTimeout: .seconds(60)),
                admit: { [self] request, channel in admit(request, channel) },
                install: { [self] request, channel in try install(request, channel) },
                refused: { [metrics] refusal in metrics.connectionError(refusal.code.label) }, drain: drainPolicy,
                handshakeTimeout: .interval(settings.handshakeTimeout), tls: tls),
            host: settings.host, port: settings.port, backlog: 4096, group: group, logger: logger,
            onRunning: { [self] channel in
                let port = channel.localAddress?.port ?? settings.port
                logger.notice("listening", metadata: ["url": "\(tls == nil ? "ws" : "wss")://\(settings.host):\(port)/ws"])
                lifecycle.listening(on: port)
            })
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse: stop accepting, leave the cluster, then close the WebSockets.
                services: [.init(service: ConnectionSupervisor(server: self))] + (broker.map { [.init(service: $0)] } ?? [])
                    + [.init(service: listener)],
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        if lifecycle.attach(group) { await group.triggerGracefulShutdown() }
        try await group.run()
        logger.notice("stopped")
    }

    /// Hummingbird's router behind our listener: one request context per request, a `Date` header, and a
    /// plain 500 for an error a handler did not turn into a response (as Hummingbird's Application does).
    private func httpResponder() -> HTTPChannelHandler.Responder {
        let responder = makeRouter().buildResponder()
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
