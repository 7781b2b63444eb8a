import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// The listening socket of a service: WebSocket upgrades and plain HTTP on one port.
///
/// A WebSocket connection is set up and upgraded entirely on its event loop and never touches Swift
/// concurrency. (Hummingbird's own server hands every accepted connection to a `Task`; waking the task and
/// hopping back cost about a third of the server's CPU per connect.) A connection whose first request is
/// plain HTTP gets Hummingbird's HTTP/1 handling and router, in one `Task`, as before.
struct Listener: Service {
    let childChannel: RealtimeChildChannel
    let host: String
    let port: Int
    let backlog: Int32
    let group: any EventLoopGroup
    let logger: Logger
    let onRunning: @Sendable (any Channel) async -> Void

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let (httpConnections, arrived) = AsyncStream.makeStream(of: RealtimeChildChannel.Value.self)
        let childChannel = self.childChannel, logger = self.logger
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            // Half-closed connections are noticed by WebSocketConnection (inputClosed) and by Hummingbird.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                childChannel.setup(channel: channel, logger: logger).map { value in
                    value.outcome.whenSuccess { outcome in
                        if case .http = outcome { arrived.yield(value) }
                    }
                }
            }
            .bind(host: host, port: port).get()
        server.closeFuture.whenComplete { _ in arrived.finish() }
        await onRunning(server)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                for await value in httpConnections {
                    tasks.addTask { await childChannel.handle(value: value, logger: logger) }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting; idle HTTP connections close. WebSockets are closed (1001) by the supervisor.
            quiescing.initiateShutdown(promise: nil)
        }
        try? await server.close()
    }
}
