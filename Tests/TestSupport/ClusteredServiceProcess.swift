import Foundation

/// A service's debug binary (`.build/debug/<name>`) run as a separate process in a Redis cluster, so a test can
/// kill it outright (SIGKILL: no goodbye to Redis) and watch what the other instances make of it.
public final class ClusteredServiceProcess: @unchecked Sendable {
    public let port: Int
    private let process = Process()

    /// Starts `name` (environment prefix `prefix`) on a free port with `broker: redis` on `redis` and a 2 s
    /// presence TTL (and `environment` besides), and waits until it is ready.
    public init(
        _ name: String, prefix: String, redis: RedisProcess, environment: [String: String] = [:],
        sourceFile: String = #filePath
    ) async throws {
        let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let binary = root.appendingPathComponent(".build/debug/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestTimeout(description: "\(binary) is missing: build the services first (swift build)")
        }
        port = try await RedisProcess.freePort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "\(port)", "--log-level", "error"]
        process.environment = environment.merging([
            "\(prefix)_WS_BROKER": "redis", "\(prefix)_WS_REDIS_URL": redis.url, "\(prefix)_WS_PRESENCE_TTL": "2",
        ]) { _, ours in ours }
        try process.run()
        let port = port
        do {
            try await TestClient.poll(.seconds(10), "the spawned \(name)") {
                (try? await HTTP.get("http://127.0.0.1:\(port)/ready").status) == 200 ? true : nil
            }
        } catch {
            kill()
            throw error
        }
    }

    public var wsURL: String { "ws://127.0.0.1:\(port)/ws" }

    /// SIGKILL, and waits for the process to end.
    public func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}
