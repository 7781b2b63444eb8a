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

    public let port: Int
    private var process: Process?

    public var url: String { "redis://127.0.0.1:\(port)" }

    public init() async throws {
        port = try await Self.freePort()
        try await start()
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
        try await TestClient.poll(.seconds(15), "redis-server on \(port)") { try? await self.accepts() }
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

    private func accepts() async throws -> Bool? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.close()
        return true
    }

    public static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
