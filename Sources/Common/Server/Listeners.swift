import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Builds the listeners a server runs: the service port (WebSockets and HTTP), and when set `metrics_port`,
/// `mcp_port` and the service's metrics stream, each with the settings every listener shares (host, TLS,
/// handshake timeout, the drain after a close).
struct Listeners: Sendable {
    let settings: Settings
    let tls: NIOSSLContext?
    let drainPolicy: LingeringClose.Policy
    let group: any EventLoopGroup
    let lifecycle: Lifecycle
    let logger: Logger
    /// The ports side listeners actually bound (useful with port 0).
    let bound = BoundPorts()

    /// The service port: `/` and `/ws` upgrade (`admission` decides), everything else is `routes`.
    func service(
        routes: [any RouteGroup], admission: Admission, installer: ConnectionInstaller, metrics: ServerMetrics
    ) -> Listener {
        make(
            port: settings.port, backlog: 4096, responder: RealtimeChildChannel.redirectingLateUpgrades(responder(routes)),
            admit: { request, channel in admission.refusal(for: request, on: channel) },
            install: { request, channel, deflate in try installer.install(request, channel, deflate: deflate) },
            refused: { refusal in metrics.connectionError(refusal.code.label) },
            onRunning: { [lifecycle, logger, settings, tls] port in
                logger.notice("listening", metadata: ["url": "\(tls == nil ? "ws" : "wss")://\(settings.host):\(port)/ws"])
                lifecycle.listening(on: port)
            })
    }

    /// A plain-HTTP listener on `port` (0: none) for `path` and `/health`; WebSocket upgrades there get 404.
    func side(
        port: Int, path: String, routes: [any RouteGroup], bound: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> Listener? {
        guard port != 0 else { return nil }
        return make(
            port: port, backlog: 64, responder: responder(routes),
            admit: { _, _ in UpgradeRefusal(.notFound, code: .notFound, "This port serves only \(path) and /health") },
            install: { _, _, _ in },
            onRunning: { [logger, settings, tls] port in
                bound(port)
                logger.notice(
                    "\(path.dropFirst()) listening",
                    metadata: ["url": "\(tls == nil ? "http" : "https")://\(settings.host):\(port)\(path)"])
            })
    }

    /// `metrics_stream.port`: the service's flat-JSON stream, when it defines one and the settings leave it on.
    /// Any path upgrades (as upstream's); plain HTTP there gets 404.
    func metricsStream(_ spec: MetricsStreamSpec?, authenticator: Authenticator?, installer: ConnectionInstaller) -> Listener? {
        guard let spec, settings.metricsStream.enabled else { return nil }
        let handler = spec.makeHandler(
            StreamContext(
                authRequired: authenticator != nil,
                verify: { token in try? await authenticator?.identity(token: token) },
                logger: logger))
        let delegate = StreamDelegate(handler: handler)
        let interval = TimeAmount.interval(settings.metricsStream.updateInterval)
        return make(
            port: settings.metricsStream.port, backlog: 1024, responder: responder([]),
            admit: { [lifecycle] _, _ in lifecycle.isDraining ? Admission.shuttingDown : nil },
            install: { request, channel, deflate in try installer.install(request, channel, deflate: deflate, delegate: delegate)
            },
            onRunning: { [bound, group, logger, settings] port in
                bound.metricsStream.withLock { $0 = port }
                logger.notice("metrics stream listening", metadata: ["url": "ws://\(settings.host):\(port)"])
                let ticker = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in handler.tick() }
                bound.ticker.withLock { $0 = ticker }
            })
    }

    private func make(
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

    /// Hummingbird's router with `routes` behind our listener: one request context per request, a `Date`
    /// header, and a plain 500 for an error a handler did not turn into a response (as Hummingbird's
    /// Application does).
    private func responder(_ routes: [any RouteGroup]) -> HTTPChannelHandler.Responder {
        let router = Router<BasicRequestContext>()
        for group in routes { group.add(to: router) }
        let responder = router.buildResponder()
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
}

/// Ports bound by side listeners, and the metrics stream's ticker, while they run.
final class BoundPorts: Sendable {
    let mcp = Mutex<Int?>(nil)
    let metricsStream = Mutex<Int?>(nil)
    let ticker = Mutex<RepeatedTask?>(nil)
}
