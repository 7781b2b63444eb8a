import Common
import Logging

/// A real server on 127.0.0.1 and a free port, run for the duration of one test.
public struct TestServer: Sendable {
    public let server: RealtimeServer
    public let port: Int
    private let task: Task<Void, any Error>

    public static func start(
        _ definition: ServiceDefinition = .testService, configure: (inout Settings) -> Void = { _ in }
    ) async throws -> TestServer {
        var settings = Settings(port: 0)
        settings.shutdownTimeout = 2
        settings.metricsStream.port = 0  // tests run many servers at once: never the fixed 8765
        configure(&settings)
        var logger = Logger(label: "test.\(definition.name)")
        logger.logLevel = .warning
        let server = try await RealtimeServer(definition: definition, settings: settings, logger: logger)
        let task = Task { try await server.run(handleSignals: false) }
        let port = await server.listeningPort()
        return TestServer(server: server, port: port, task: task)
    }

    public var wsURL: String { "ws://127.0.0.1:\(port)/ws" }
    public var httpURL: String { "http://127.0.0.1:\(port)" }

    /// A connected client with the welcome already read.
    public func client(path: String = "/ws") async throws -> TestClient {
        let client = try await TestClient.connect("ws://127.0.0.1:\(port)\(path)")
        _ = try await client.next()
        return client
    }

    /// Graceful shutdown, as SIGTERM does; waits until `run` has returned.
    public func stop() async throws {
        await server.shutdown()
        try await task.value
    }

    /// Runs `body` with a started server and always stops it.
    public static func with<T: Sendable>(
        _ definition: ServiceDefinition = .testService, configure: (inout Settings) -> Void = { _ in },
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let server = try await start(definition, configure: configure)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }
}

extension ServiceDefinition {
    /// A small vocabulary for testing the shared server: a parameterised room, a literal room, `global`.
    public static let testService = ServiceDefinition(
        name: "test-service", environmentPrefix: "TEST_SERVICE", defaultPort: 0, welcomeMessage: "Connected to tests",
        channels: [
            ChannelSpec("item:{item_id}", permission: "item:read", "one item"),
            ChannelSpec("feed", "a literal room"),
            ChannelSpec("global", "announcements"),
            ChannelSpec("search:{query_hash}", "results sent without an event name"),
        ],
        events: [
            EventSpec("item.changed", in: "item:{item_id}", [.init("item_id", .string), .init("value", .integer)], "changed"),
            EventSpec("feed.entry", in: "feed", [.init("text", .string)], "an entry"),
            .unnamed(in: "search:{query_hash}", [.init("payload", .object)], "a result"),
        ])
}
