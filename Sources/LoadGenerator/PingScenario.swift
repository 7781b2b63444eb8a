import NIOCore

/// Scenario (c): application-level ping/pong round trips, `connections` × `inFlight` outstanding at all times.
/// Each connection answers in order, so a per-connection FIFO of send times gives each round trip's latency.
final class PingScenario: Scenario, ClientEvents, Runnable, @unchecked Sendable {
    let connections: Int
    let inFlight: Int
    let duration: Double
    private var connector: Connector!
    private let pingFrame = ClientFrame.text("{\"type\":\"ping\",\"id\":\"k\"}")
    /// Ring buffers of send times (ns), `inFlight` slots per connection.
    private var sendTimes: [UInt64]
    private var heads: [Int]
    private var outstanding: [Int]
    private var pongs = 0
    private var latencies = Latencies()
    private var startedAt: UInt64 = 0
    private var stopAt: UInt64 = 0
    private var lastPongAt: UInt64 = 0
    private var totalOutstanding = 0
    private var closedDuringRun = 0
    private var result: EventLoopPromise<JSON>?

    init(loop: any EventLoop, options: CommonOptions, connections: Int, inFlight: Int, duration: Double) throws {
        self.connections = connections
        self.inFlight = max(1, inFlight)
        self.duration = duration
        sendTimes = Array(repeating: 0, count: connections * max(1, inFlight))
        heads = Array(repeating: 0, count: connections)
        outstanding = Array(repeating: 0, count: connections)
        try super.init(loop: loop, options: options)
        latencies.reserve(Int(duration * 200_000))
        connector = try Connector(
            loop: loop, targets: targets, total: connections, concurrency: options.concurrency,
            sourceAddresses: options.sourceAddresses, events: self)
    }

    func run() -> EventLoopFuture<JSON> {
        let promise = loop.makePromise(of: JSON.self)
        connector.start().whenComplete { [self] outcome in
            guard case .success = outcome, connector.failures == 0 else {
                return promise.fail(LoadError("\(connector.failures) connections failed: \(connector.firstError ?? "?")"))
            }
            result = promise
            cpu.restart()
            startedAt = Clock.nanos()
            stopAt = startedAt + UInt64(duration * 1e9)
            for connection in connector.connections {
                for _ in 0..<inFlight { ping(connection) }
                connection.flush()
            }
            monitor()
        }
        return promise.futureResult
    }

    private func ping(_ connection: ClientConnection) {
        let i = connection.index
        sendTimes[i * inFlight + (heads[i] + outstanding[i]) % inFlight] = Clock.nanos()
        outstanding[i] += 1
        totalOutstanding += 1
        connection.write(pingFrame)
    }

    /// Ends the run at the deadline, or once sending has stopped and the last pongs are in (or 5 s later).
    private func monitor() {
        guard result != nil else { return }
        let now = Clock.nanos()
        if NIODeadline.now() >= deadline || now > stopAt + 5_000_000_000 { return finish(timedOut: true) }
        loop.scheduleTask(in: .milliseconds(20)) { [self] in monitor() }
    }

    func connectionOpened(_ connection: ClientConnection) { connector.opened(connection) }

    func connection(_ connection: ClientConnection, received message: UnsafeRawBufferPointer) {
        let i = connection.index
        guard result != nil, outstanding[i] > 0, Scan.contains(Scan.typePong, in: message) else { return }
        let now = connection.readAt
        latencies.add(micros: Int((now - sendTimes[i * inFlight + heads[i]]) / 1000))
        heads[i] = (heads[i] + 1) % inFlight
        outstanding[i] -= 1
        totalOutstanding -= 1
        pongs += 1
        lastPongAt = now
        if now < stopAt {
            ping(connection)  // flushed at the end of this read batch
        } else if totalOutstanding == 0 {
            finish(timedOut: false)
        }
    }

    func connectionClosed(_ connection: ClientConnection) {
        if !connection.settled { return connector.closed(connection) }
        if result != nil { closedDuringRun += 1 }
    }

    private func finish(timedOut: Bool) {
        guard let promise = result else { return }
        result = nil
        let usage = cpu.report()
        let elapsed = Clock.seconds(max(lastPongAt, startedAt) - startedAt)
        var line = header(
            "ping",
            [
                ("connections", .int(connections)), ("in_flight", .int(inFlight)), ("duration_s", .number(duration)),
            ])
        line += [
            ("round_trips", .int(pongs)), ("round_trips_per_s", .number(elapsed > 0 ? Double(pongs) / elapsed : 0)),
            ("elapsed_s", .number(elapsed)), ("latency_ms", latencies.summary()), ("unanswered", .int(totalOutstanding)),
            ("closed_during_run", .int(closedDuringRun)), ("timed_out", .bool(timedOut)),
        ]
        promise.succeed(.object(line + usage))
    }
}
