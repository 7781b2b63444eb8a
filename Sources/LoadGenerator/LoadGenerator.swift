import ArgumentParser
import Glibc
import NIOCore
import NIOPosix

/// The benchmark's load generator (driven by scripts/bench). One event-loop thread does everything:
/// connections are NIO channels, frames are counted in `channelRead`, no Task per message. Each
/// subcommand runs one scenario and prints one JSON object on stdout.
@main
struct LoadGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen", abstract: "WebSocket pub/sub load generator (docs/benchmarks.md).",
        subcommands: [Fanout.self, Connect.self, Ping.self])
}

struct CommonOptions: ParsableArguments {
    @Option(help: "Server URL (ws://IP:PORT/path); several, comma-separated, spread connection i over URL i mod n.") var url =
        "ws://127.0.0.1:8690/ws"
    @Option(help: "Server name for the result line.") var label = "server"
    @Option(help: "Server PID (or PIDs, comma-separated): CPU time and RSS are read from /proc and summed.") var serverPid:
        String?
    @Option(help: "Hard limit for the whole scenario, seconds.") var timeout = 300.0
    @Option(help: "Handshakes in flight while connecting.") var concurrency = 64
    @Option(help: "Bind client sockets round-robin to 127.0.0.2 ... 127.0.0.(N+1); 0 = let the kernel pick.")
    var sourceAddresses = 0
    @Flag(help: "Offer permessage-deflate; compressed messages are inflated before they are checked.")
    var deflate = false
}

protocol Runnable: AnyObject, Sendable {
    func run() -> EventLoopFuture<JSON>
}

/// Runs one scenario on a one-thread event loop group and prints its line. Exits without closing the
/// connections one by one: the process exit closes them all, and the server is stopped next anyway.
enum Runner {
    static func run(_ scenario: String, _ options: CommonOptions, _ make: (any EventLoop) throws -> any Runnable) -> Never {
        Clock.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            let runnable = try make(loop)
            let line = try loop.flatSubmit { runnable.run() }.wait()
            print(line.text)
            fflush(nil)  // all streams: stdout itself is not concurrency-safe to name
            exit(0)
        } catch {
            print(
                JSON.object([
                    ("scenario", .string(scenario)), ("server", .string(options.label)),
                    ("error", .string("\(error)")),
                ]).text)
            fflush(nil)  // all streams: stdout itself is not concurrency-safe to name
            exit(2)
        }
    }
}

struct Fanout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scenarios (a) and (d): subscribers in rooms, one publisher.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Scenario name in the result line.") var name = "fanout"
    @Option var subscribers = 1000
    @Option var rooms = 1
    @Option var publishes = 2000
    @Option(help: "Publishes per second; 0 = as fast as acks come back (see --window).") var rate = 0.0
    @Option(help: "Unacknowledged publishes in flight when --rate is 0.") var window = 32
    @Option(help: "Size of the published data object, bytes.") var payloadBytes = 100
    @Flag(help: "Rooms workflow:bench-<i> with event workflow.failed (for our services' catalogue).")
    var workflowRooms = false
    @Option(help: "Seconds without deliveries, after the last ack, before the rest counts as lost.") var drainTimeout = 5.0
    @Option(help: "Events per publish request (our services' batches: data.events, or a JSON array over HTTP).") var batch = 1
    @Flag(help: "Publish over HTTP (POST /api/events, one keep-alive connection, one request in flight).") var http = false
    @Flag(help: "Pad with varied test-report text, which compresses as real JSON does, instead of repeated x.")
    var textPad = false

    func run() throws {
        let config = FanoutScenario.Config(
            name: name, subscribers: subscribers, rooms: rooms, publishes: publishes, rate: rate, window: window,
            payloadBytes: payloadBytes, workflowRooms: workflowRooms, drainTimeout: drainTimeout, batch: batch, http: http,
            textPad: textPad)
        Runner.run(name, common) { try FanoutScenario(loop: $0, options: common, config: config) }
    }
}

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scenario (b): open connections and hold them idle.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Scenario name in the result line.") var name = "connect"
    @Option var connections = 10_000
    @Option(help: "Seconds to hold them idle before reading the server's RSS.") var hold = 2.0

    func run() throws {
        Runner.run(name, common) {
            try ConnectScenario(loop: $0, options: common, name: name, connections: connections, hold: hold)
        }
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scenario (c): ping/pong round trips.")
    @OptionGroup var common: CommonOptions
    @Option var connections = 50
    @Option(help: "Pings outstanding per connection.") var inFlight = 10
    @Option(help: "Seconds of sending.") var duration = 5.0

    func run() throws {
        Runner.run("ping", common) {
            try PingScenario(loop: $0, options: common, connections: connections, inFlight: inFlight, duration: duration)
        }
    }
}
