import ArgumentParser
import Foundation
import Logging

/// The command line every service binary shares: `mahavishnu --port 9000 --config path`.
struct ServeOptions: ParsableArguments {
    @Option(help: "Settings file (default: $<PREFIX>_WS_CONFIG, else settings/<service>.yaml).")
    var config: String?
    @Option(help: "Address to bind.") var host: String?
    @Option(help: "Port to bind (0 picks a free one).") var port: Int?
    @Option(help: "Maximum concurrent WebSocket connections.") var maxConnections: Int?
    @Option(help: "Messages per second per connection.") var messageRateLimit: Int?
    @Option(help: "Seconds between heartbeat pings.") var heartbeatInterval: Double?
    @Option(help: "Seconds between cleanup sweeps.") var cleanupInterval: Double?
    @Option(help: "Largest accepted message in bytes.") var maxMessageSize: Int?
    @Option(help: "Event loop threads (0 = one per core).") var eventLoopThreads: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(help: "text or json.") var logFormat: String?
    @Option(help: "local (one process) or redis (instances sharing --redis-url).") var broker: String?
    @Option(help: "redis://host[:port] of the shared Redis (broker redis).") var redisURL: String?
    @Option(help: "permessage-deflate: off, shared (one compression per broadcast) or dedicated.") var compression: String?
    @Flag(help: "Print the service's catalogue as its docs page (docs/services/<service>.md) and exit.")
    var printCatalog = false

    /// The flags given, keyed like the YAML settings.
    var overrides: [String: String] {
        var values: [String: String] = [:]
        values["host"] = host
        values["port"] = port.map(String.init)
        values["max_connections"] = maxConnections.map(String.init)
        values["message_rate_limit"] = messageRateLimit.map(String.init)
        values["heartbeat_interval"] = heartbeatInterval.map { "\($0)" }
        values["cleanup_interval"] = cleanupInterval.map { "\($0)" }
        values["max_message_size"] = maxMessageSize.map(String.init)
        values["event_loop_threads"] = eventLoopThreads.map(String.init)
        values["log_level"] = logLevel
        values["log_format"] = logFormat
        values["broker"] = broker
        values["redis_url"] = redisURL
        values["compression"] = compression
        return values
    }
}

/// Entry point of each service executable.
public enum ServiceMain {
    /// Exit status for a settings error (sysexits' EX_CONFIG), so supervisors can tell it from a crash.
    public static let configurationErrorStatus: Int32 = 78

    public static func run(_ definition: ServiceDefinition) async -> Never {
        var arguments = Array(CommandLine.arguments.dropFirst())
        // `<service> mcp [tools | call TOOL [JSON]] [options]`: the MCP tools on stdio (or one listing or call),
        // for the service running with the same settings.
        let mcp = arguments.first == "mcp"
        var mcpCommand: [String] = []
        if mcp {
            arguments.removeFirst()
            let words = arguments.first == "call" ? 3 : arguments.first == "tools" ? 1 : 0
            while mcpCommand.count < words, let next = arguments.first, !next.hasPrefix("--") {
                mcpCommand.append(arguments.removeFirst())
            }
        }
        let options: ServeOptions
        do {
            options = try ServeOptions.parse(arguments)
        } catch {
            ServeOptions.exit(withError: error)
        }
        if options.printCatalog {
            print(definition.catalogMarkdown, terminator: "")
            exit(0)
        }
        let settings: Settings
        do {
            settings = try SettingsLoader.load(
                service: definition, configPath: options.config,
                environment: ProcessInfo.processInfo.environment, flags: options.overrides)
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): \(error.description)\n".utf8))
            exit(configurationErrorStatus)
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                settings.logFormat == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
            return handler
        }
        if mcp {
            do {
                exit(try await MCPCommand.run(mcpCommand, definition: definition, settings: settings))
            } catch {
                FileHandle.standardError.write(Data("\(definition.name) mcp: \(error)\n".utf8))
                exit(1)
            }
        }
        guard settings.webSocketEnabled else {
            Logger(label: definition.name).notice("websocket_enabled is false: nothing to serve, exiting")
            exit(0)
        }
        DescriptorLimit.check(maxConnections: settings.maxConnections, logger: Logger(label: definition.name))
        let server: RealtimeServer
        do {
            server = try await RealtimeServer(definition: definition, settings: settings)
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): \(error)\n".utf8))
            exit(configurationErrorStatus)
        }
        do {
            try await server.run()
            exit(0)
        } catch {
            server.logger.critical("server failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
