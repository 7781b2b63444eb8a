import Foundation
import NIOCore
import NIOPosix

/// A real `redis-server` (Debian's package; scripts/test installs it) on a free port, for cluster tests.
/// Nothing is persisted; `stop` and `start` again on the same port simulate an outage.
public final class RedisProcess: @unchecked Sendable {
    public static let serverPath = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    public static var isAvailable: Bool { serverPath != nil }

    public private(set) var port: Int
    private var process: Process?

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// redis-server exited at start, as it does when its port was taken between `freePort` and its bind (by
    /// a server of another test running at the same time).
    struct ExitedAtStart: Error {}

    public init() async throws {
        port = try await Self.freePort()
        // Another attempt on a new port when the chosen one was taken meanwhile: otherwise the test would talk
        // to whatever took it.
        for attempt in 1...5 {
            do {
                try await start()
                break
            } catch is ExitedAtStart where attempt < 5 {
                port = try await Self.freePort()
            }
        }
    }

    public func start() async throws {
        guard let path = Self.serverPath else { throw TestTimeout(description: "redis-server is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await TestClient.poll(.seconds(15), "redis-server on \(port)") {
            // Only a Redis answering PING counts: a connect alone could reach another server on a taken port.
            guard process.isRunning else { throw ExitedAtStart() }
            return try? await self.answersPing()
        }
    }

    /// Stops the server at once (SIGKILL: clients see the connection drop, as in a crash).
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is answered, as with a stalled Redis.
    public func pause() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    /// Lets a paused server go on (SIGCONT).
    public func resume() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    deinit {
        resume()
        stop()
    }

    /// Sends an inline `PING` and waits (at most a second) for `+PONG`.
    private func answersPing() async throws -> Bool? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        let reader = FirstReply(channel.eventLoop.makePromise(of: String.self))
        try await channel.pipeline.addHandler(reader).get()
        channel.eventLoop.scheduleTask(in: .seconds(1)) { reader.finish(nil) }
        try await channel.writeAndFlush(ByteBuffer(string: "PING\r\n")).get()
        return try await reader.reply.futureResult.get().hasPrefix("+PONG") ? true : nil
    }

    /// The first bytes a connection reads ("" when it closes or the time runs out first). Used only on its
    /// channel's event loop.
    private final class FirstReply: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let reply: EventLoopPromise<String>
        private var done = false
        init(_ reply: EventLoopPromise<String>) { self.reply = reply }

        func finish(_ text: String?) {
            guard !done else { return }
            done = true
            reply.succeed(text ?? "")
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { finish(String(buffer: unwrapInboundIn(data))) }
        func channelInactive(context: ChannelHandlerContext) { finish(nil) }
    }

    public static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
