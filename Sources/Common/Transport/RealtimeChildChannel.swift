import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOSSL

/// What became of a new TCP connection after its first HTTP request.
enum UpgradeOutcome: Sendable {
    /// Now a WebSocket: its handlers live in the NIO pipeline, nothing more to run here.
    case upgraded
    /// A plain HTTP request: Hummingbird's router answers it.
    case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    /// A WebSocket upgrade we turned away (bad handshake, wrong path, at capacity): already answered.
    case refused
}

/// Hummingbird's per-connection setup, with WebSocket connections handled by synchronous NIO handlers.
///
/// hummingbird-websocket keeps one Swift `Task` (and an async writer) alive per connection; here an upgraded
/// connection is only a channel pipeline, so idle connections cost a few KiB and a broadcast is a plain
/// `write` on the event loop. Plain HTTP requests still go through Hummingbird's router unchanged.
struct RealtimeChildChannel: HTTPChannelHandler {
    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<UpgradeOutcome>
        let channel: any Channel
    }

    /// NIO can only upgrade the first request of a TCP connection. A WebSocket upgrade that arrives later on
    /// a keep-alive connection (a proxy reusing upstream connections) is redirected to the same URL with
    /// `Connection: close`, so the client retries on a fresh connection (as hummingbird-websocket does).
    static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct CloseAfterRedirect: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let headers: HTTPFields = [.connection: "close", .location: request.uri.description, .contentLength: "0"]
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: headers))
            throw CloseAfterRedirect()
        }
    }

    let responder: HTTPChannelHandler.Responder
    let http1: HTTP1Channel.Configuration
    let admit: @Sendable (HTTPRequestHead, any Channel) -> UpgradeRefusal?
    let install: @Sendable (HTTPRequestHead, any Channel, PerMessageDeflate?) throws -> Void
    /// permessage-deflate offers this listener accepts.
    let compression: CompressionSettings
    /// Told of every refused upgrade or oversized head (for the error metrics), after it is answered.
    let refused: @Sendable (UpgradeRefusal) -> Void
    /// How a refused connection ends: the answer, then a bounded drain.
    let drain: LingeringClose.Policy
    /// A connection that has not sent a complete first request by then is dropped (slowloris, half-open).
    let handshakeTimeout: TimeAmount
    /// Present for `wss://`: TLS is the first handler of every connection.
    let tls: NIOSSLContext?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Small frames must leave at once: Nagle plus delayed ACKs would add tens of milliseconds.
            try channel.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 1)
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
            let secure = tls != nil
            let http1 = self.http1
            let outcome = channel.eventLoop.makePromise(of: UpgradeOutcome.self)
            let first = FirstRequestHandler(
                upgrade: WebSocketHandshake(admit: admit, install: install, compression: compression), refused: refused,
                drain: drain,
                http: { channel in
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false,  // NIOAsyncChannel pipelines HTTP for Hummingbird
                        withErrorHandling: false)  // Hummingbird answers malformed HTTP itself
                    try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: secure))
                    try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                    return .http(
                        try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)))
                },
                outcome: outcome)
            try channel.pipeline.syncOperations.addHandler(first)
            let deadline = channel.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
            outcome.futureResult.whenComplete { _ in deadline.cancel() }
            return Value(outcome: outcome.futureResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .upgraded, .refused:
                return
            case .http(let asyncChannel):
                await handleHTTP(asyncChannel: asyncChannel, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before its first request completed")
        } catch {
            logger.debug("connection setup failed", metadata: ["error": "\(error)"])
        }
    }
}
