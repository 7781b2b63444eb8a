import NIOCore
import NIOPosix

/// Opens `total` connections with at most `concurrency` handshakes in flight, so the server's accept
/// queue is never overrun (an overrun turns into 1 s SYN retransmits and measures the kernel, not the server).
///
/// Client sockets can be bound round-robin to several loopback source addresses (127.0.0.2, ...): one source
/// address has only ~28k ephemeral ports, too few for 100k connections to one server port.
final class Connector: @unchecked Sendable {
    // @unchecked: used only on `loop`, the load generator's single event loop.
    let loop: any EventLoop
    let targets: [Target]
    let total: Int
    let concurrency: Int
    private let sources: [SocketAddress]
    private let handshakes: [ByteBuffer]
    private unowned let events: any ClientEvents

    private(set) var connections: [ClientConnection] = []
    private(set) var opened = 0
    private(set) var failures = 0
    private(set) var firstError: String?
    private(set) var handshakeLatencies = Latencies()
    private(set) var startedAt: UInt64 = 0
    private(set) var finishedAt: UInt64 = 0
    private var launched = 0
    private var inFlight = 0
    private var done: EventLoopPromise<Void>?
    /// IP_BIND_ADDRESS_NO_PORT from <linux/in.h> (Linux 4.2+), not exported by Glibc's Swift module.
    static let bindAddressNoPort: CInt = 24

    init(
        loop: any EventLoop, targets: [Target], total: Int, concurrency: Int, sourceAddresses: Int, events: any ClientEvents
    ) throws {
        self.loop = loop
        self.targets = targets
        self.total = total
        self.concurrency = max(1, concurrency)
        self.events = events
        self.handshakes = targets.map { $0.handshakeRequest() }
        self.sources = try (0..<sourceAddresses).map { try SocketAddress(ipAddress: "127.0.0.\($0 + 2)", port: 0) }
        connections.reserveCapacity(total)
        handshakeLatencies.reserve(total)
    }

    /// Completes when every connection has opened or failed (failures are counted, not fatal).
    func start() -> EventLoopFuture<Void> {
        loop.assertInEventLoop()
        let promise = loop.makePromise(of: Void.self)
        done = promise
        startedAt = Clock.nanos()
        launch()
        return promise.futureResult
    }

    /// Seconds from the first connect to the last settled handshake.
    var elapsedSeconds: Double { Clock.seconds(finishedAt &- startedAt) }

    /// The scenario calls this from `connectionOpened`.
    func opened(_ connection: ClientConnection) {
        guard !connection.settled else { return }
        connection.settled = true
        opened += 1
        handshakeLatencies.add(micros: Int(connection.handshakeNanos / 1000))
        settle()
    }

    /// The scenario calls this from `connectionClosed`; it only counts connections not yet opened.
    func closed(_ connection: ClientConnection) {
        failed(connection, connection.protocolError ?? "closed before the handshake completed")
    }

    private func failed(_ connection: ClientConnection, _ reason: String) {
        guard !connection.settled else { return }
        connection.settled = true
        failures += 1
        firstError = firstError ?? reason
        settle()
    }

    private func settle() {
        inFlight -= 1
        launch()
    }

    private func launch() {
        while inFlight < concurrency && launched < total {
            let server = launched % targets.count
            let connection = ClientConnection(
                index: launched, events: events, handshake: handshakes[server], offersDeflate: targets[server].offersDeflate)
            var bootstrap = ClientBootstrap(group: loop)
                .connectTimeout(.seconds(30))
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
                }
            if !sources.isEmpty {
                // IP_BIND_ADDRESS_NO_PORT: pick the port at connect() time, unique per 4-tuple. Without it bind()
                // reserves a port for every destination and scans the bind table, which gets slow (seconds of
                // kernel time) once earlier runs left tens of thousands of TIME_WAIT ports on that address.
                bootstrap =
                    bootstrap
                    .channelOption(ChannelOptions.ipOption(.init(rawValue: Self.bindAddressNoPort)), value: 1)
                    .bind(to: sources[launched % sources.count])
            }
            connections.append(connection)
            launched += 1
            inFlight += 1
            bootstrap.connect(to: targets[server].address).whenFailure { [self] error in failed(connection, "connect: \(error)") }
        }
        if launched == total && inFlight == 0, let promise = done {
            done = nil
            finishedAt = Clock.nanos()
            promise.succeed()
        }
    }
}
