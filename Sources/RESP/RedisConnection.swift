import NIOCore
import NIOPosix

/// One connection to Redis. In command mode, replies complete the pending commands in order (pipelining);
/// in pub/sub mode, pushed messages go to `onPush`. All state lives on the channel's event loop.
package final class RedisConnection: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = RESPValue
    package typealias OutboundOut = ByteBuffer

    package struct Failure: Error, CustomStringConvertible {
        package let description: String

        package init(description: String) { self.description = description }
    }

    package let channel: any Channel
    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private let onPush: (@Sendable (RESPValue) -> Void)?

    private init(channel: any Channel, onPush: (@Sendable (RESPValue) -> Void)?) {
        self.channel = channel
        self.onPush = onPush
    }

    /// Connects, with a short timeout so a dead Redis is noticed quickly.
    package static func connect(
        host: String, port: Int, on group: any EventLoopGroup, onPush: (@Sendable (RESPValue) -> Void)? = nil,
        onClose: @escaping @Sendable () -> Void
    ) async throws -> RedisConnection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port).get()
        let connection = RedisConnection(channel: channel, onPush: onPush)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
            try channel.pipeline.syncOperations.addHandler(connection)
        }.get()
        channel.closeFuture.whenComplete { _ in onClose() }
        return connection
    }

    /// Sends a command; the future holds its reply (a Redis error reply fails it).
    package func send(_ arguments: [RESPArgument]) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.eventLoop.execute {
            guard self.channel.isActive else { return promise.fail(Failure(description: "Redis connection closed")) }
            var buffer = self.channel.allocator.buffer(capacity: 64)
            RESPEncoder.command(arguments, into: &buffer)
            if self.onPush == nil { self.pending.append(promise) } else { promise.succeed(.simpleString("SENT")) }
            self.channel.writeAndFlush(buffer, promise: nil)
        }
        return promise.futureResult.flatMapThrowing { reply in
            if case .error(let message) = reply { throw Failure(description: message) }
            return reply
        }
    }

    package func close() { channel.close(promise: nil) }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let onPush { return onPush(value) }
        pending.popFirst()?.succeed(value)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        while let promise = pending.popFirst() { promise.fail(Failure(description: "Redis connection lost")) }
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
