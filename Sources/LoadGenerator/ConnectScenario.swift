import NIOCore

/// Scenario (b): open many connections, hold them idle, and measure connects/s, handshake latency and
/// the server's resident memory per connection (its RSS growth over the baseline taken before connecting).
final class ConnectScenario: Scenario, ClientEvents, Runnable, @unchecked Sendable {
    let name: String
    let connections: Int
    /// Seconds to hold every connection idle before reading the server's RSS (lets allocators settle).
    let hold: Double
    private var connector: Connector!
    private let baseline: ProcessUsage?
    private var welcomes = 0
    private var closedWhileHeld = 0
    private var closeCodes: [Int: Int] = [:]

    init(loop: any EventLoop, options: CommonOptions, name: String, connections: Int, hold: Double) throws {
        self.name = name
        self.connections = connections
        self.hold = hold
        baseline = options.serverPid.flatMap(ProcessUsage.read)
        try super.init(loop: loop, options: options)
        connector = try Connector(
            loop: loop, targets: targets, total: connections, concurrency: options.concurrency,
            sourceAddresses: options.sourceAddresses, events: self)
    }

    func run() -> EventLoopFuture<JSON> {
        cpu.restart()
        return connector.start().flatMap { [self] in
            let connectUsage = cpu.report()
            // Wait (bounded) for the welcome frames too: a server may allocate per-connection state only then.
            let giveUp = NIODeadline.now() + .seconds(5)
            return waitUntil("welcome frames", every: .milliseconds(20)) { [self] in
                welcomes >= connector.opened || NIODeadline.now() > giveUp
            }.flatMap { [self] in
                loop.scheduleTask(in: .milliseconds(Int64(hold * 1000))) { [self] in report(connectUsage) }.futureResult
            }
        }
    }

    private func report(_ connectUsage: [(String, JSON)]) -> JSON {
        let held = connector.opened - closedWhileHeld
        let now = options.serverPid.flatMap(ProcessUsage.read)
        var line = header(
            name,
            [
                ("connections", .int(connections)), ("concurrency", .int(options.concurrency)),
                ("source_addresses", .int(options.sourceAddresses)), ("hold_s", .number(hold)),
            ])
        line += [
            ("opened", .int(connector.opened)), ("failed", .int(connector.failures)), ("held", .int(held)),
            ("welcomes", .int(welcomes)), ("deflate_negotiated", .int(connector.connections.filter(\.negotiatedDeflate).count)),
            ("connects_per_s", .number(Double(connector.opened) / max(connector.elapsedSeconds, 1e-9))),
            ("connect_elapsed_s", .number(connector.elapsedSeconds)),
            ("handshake_ms", connector.handshakeLatencies.summary()),
        ]
        if let baseline, let now {
            let growth = now.rssKiB - baseline.rssKiB
            line += [
                ("server_rss_baseline_kib", .int(baseline.rssKiB)), ("server_rss_held_kib", .int(now.rssKiB)),
                ("server_peak_rss_kib", .int(now.peakRssKiB)),
                ("rss_per_connection_kib", .number(held > 0 ? Double(growth) / Double(held) : 0)),
            ]
        }
        line += [
            ("closed_while_held", .int(closedWhileHeld)),
            ("server_close_codes", .object(closeCodes.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })),
            ("first_error", connector.firstError.map(JSON.string) ?? .null),
        ]
        // CPU covers the connect phase only: holding idle connections should cost nothing.
        return .object(line + connectUsage)
    }

    func connectionOpened(_ connection: ClientConnection) { connector.opened(connection) }

    func connection(_ connection: ClientConnection, received message: UnsafeRawBufferPointer) { welcomes += 1 }

    func connectionClosed(_ connection: ClientConnection) {
        if !connection.settled { return connector.closed(connection) }
        closedWhileHeld += 1
        if let code = connection.serverCloseCode { closeCodes[code, default: 0] += 1 }
    }
}
