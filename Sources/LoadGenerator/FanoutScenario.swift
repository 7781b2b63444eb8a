import NIOCore

/// Scenarios (a) and (d): subscribers spread over rooms, one publisher, every delivery checked.
///
/// Each publish carries `bseq` (its room's sequence number, from 1) and `bsent` (the monotonic send time,
/// µs). A subscriber must see `bseq` rise by exactly one per message: a jump is a gap (loss), a step back
/// is reordering or a duplicate. Latency is receive time minus `bsent`, for every delivery.
final class FanoutScenario: Scenario, ClientEvents, Runnable, @unchecked Sendable {
    struct Config: Sendable {
        var name: String
        var subscribers: Int
        var rooms: Int
        var publishes: Int
        /// Publishes per second; 0 = as fast as acks allow, `window` unacknowledged at a time.
        var rate: Double
        var window: Int
        var payloadBytes: Int
        /// false: the room "global" (rooms must be 1) with event bench.tick, which our services accept there.
        /// true: rooms workflow:bench-<i> with the catalogued workflow.failed event and its required fields.
        var workflowRooms: Bool
        var drainTimeout: Double
        /// Events per publish request (1: the plain publish every server speaks).
        var batch: Int = 1
        /// Publish over HTTP instead of the WebSocket publisher connection.
        var http: Bool = false
        /// Pad with varied test-report text (compresses as real JSON does) instead of one repeated byte.
        var textPad: Bool = false
    }

    let config: Config
    private var connector: Connector!
    private var publisher: ClientConnection?
    private var httpProducer: HTTPProducer?
    /// Events in each request in flight, oldest first (answers come in order on one connection).
    private var inFlight: [Int] = []
    private let roomNames: [String]
    private let subscribeFrames: [ByteBuffer]
    private let eventName: String
    private let expected: Int
    /// Padding strings, used in turn: one `x` run, or several different report texts.
    private let pads: [String]

    // Per subscriber (index = connection index; the publisher is index `subscribers`). The hot ones skip the
    // runtime exclusivity checks: they are only touched on the one event loop, never through overlapping access.
    @exclusivity(unchecked) private var lastSeq: [Int]
    @exclusivity(unchecked) private var hints: [Int]
    @exclusivity(unchecked) private var isSubscribed: [Bool]
    private var subscribed = 0
    private var subscribeErrors = 0

    @exclusivity(unchecked) private var delivered = 0
    @exclusivity(unchecked) private var gaps = 0
    @exclusivity(unchecked) private var backwards = 0
    @exclusivity(unchecked) private var latencies = Latencies()
    private var otherErrors = 0
    private var closedDuringRun = 0
    private var closeCodes: [Int: Int] = [:]
    private var firstError: String?

    private var roomSeq: [Int]
    private var sent = 0
    private var acked = 0
    private var publishErrors = 0
    private var startedAt: UInt64 = 0
    private var lastAckAt: UInt64 = 0
    @exclusivity(unchecked) private var lastDeliveryAt: UInt64 = 0
    private var result: EventLoopPromise<JSON>?

    init(loop: any EventLoop, options: CommonOptions, config: Config) throws {
        guard config.subscribers >= 1, config.rooms >= 1, config.publishes >= 1 else { throw LoadError("sizes must be >= 1") }
        guard config.workflowRooms || config.rooms == 1 else { throw LoadError("several rooms need --workflow-rooms") }
        self.config = config
        roomNames = config.workflowRooms ? (0..<config.rooms).map { "workflow:bench-\($0)" } : ["global"]
        eventName = config.workflowRooms ? "workflow.failed" : "bench.tick"
        subscribeFrames = roomNames.map {
            ClientFrame.text("{\"type\":\"request\",\"event\":\"subscribe\",\"id\":\"s1\",\"data\":{\"channel\":\"\($0)\"}}")
        }
        // Subscriber i is in room i % rooms; publish k goes to room k % rooms.
        func share(_ total: Int, _ room: Int) -> Int { total / config.rooms + (room < total % config.rooms ? 1 : 0) }
        expected = (0..<config.rooms).reduce(0) { $0 + share(config.publishes, $1) * share(config.subscribers, $1) }
        lastSeq = Array(repeating: 0, count: config.subscribers)
        hints = Array(repeating: -1, count: config.subscribers)
        isSubscribed = Array(repeating: false, count: config.subscribers)
        roomSeq = Array(repeating: 0, count: config.rooms)
        pads =
            config.textPad
            ? (0..<64).map { ReportText.make(bytes: config.payloadBytes, seed: $0) }
            : [String(repeating: "x", count: config.payloadBytes)]
        try super.init(loop: loop, options: options)
        latencies.reserve(expected)
        connector = try Connector(
            loop: loop, targets: targets, total: config.subscribers + 1, concurrency: options.concurrency,
            sourceAddresses: options.sourceAddresses, events: self)
    }

    func run() -> EventLoopFuture<JSON> {
        let promise = loop.makePromise(of: JSON.self)
        result = promise
        connector.start().flatMapThrowing { [self] in
            guard connector.failures == 0 else {
                throw LoadError("\(connector.failures) connections failed: \(connector.firstError ?? "?")")
            }
        }.flatMap { [self] in
            waitUntil("subscribe replies") { [self] in subscribed + subscribeErrors == config.subscribers && publisher != nil }
        }.flatMap { [self] () -> EventLoopFuture<Void> in
            guard config.http else { return loop.makeSucceededVoidFuture() }
            return HTTPProducer.connect(to: targets[0], on: loop) { [self] status in httpAnswered(status) }
                .map { [self] in httpProducer = $0 }
        }.whenComplete { [self] outcome in
            switch outcome {
            case .success where subscribeErrors == 0: startPublishing()
            case .success: promise.fail(LoadError("\(subscribeErrors) subscribes refused: \(firstError ?? "?")"))
            case .failure(let error): promise.fail(error)
            }
        }
        return promise.futureResult
    }

    // MARK: Publishing

    private func startPublishing() {
        cpu.restart()
        startedAt = Clock.nanos()
        if config.rate > 0 {
            publishAt(0)
        } else {
            for _ in 0..<(config.http ? 1 : min(config.window, config.publishes)) { publishNext() }
            publisher?.flush()
        }
        monitor()
    }

    /// Fixed-rate mode: publish k is due at start + k / rate, so a late tick does not shift the ones after it.
    private func publishAt(_ k: Int) {
        guard k < config.publishes, result != nil else { return }
        let due = NIODeadline.uptimeNanoseconds(startedAt + UInt64(Double(k) * 1e9 / config.rate))
        loop.scheduleTask(deadline: due) { [self] in
            guard result != nil else { return }
            publishNext()
            publisher?.flush()
            publishAt(k + 1)
        }
    }

    private func publishNext() {
        guard publisher != nil, sent < config.publishes else { return }
        let count = min(config.batch, config.publishes - sent)
        let events = (0..<count).map { _ in nextEvent() }
        inFlight.append(count)
        if let httpProducer {
            httpProducer.post(count == 1 && config.batch == 1 ? events[0] : "[" + events.joined(separator: ",") + "]")
        } else if config.batch == 1 {
            let event = events[0].dropFirst()  // {"room":...} → the publish request's data
            publisher?.write(
                ClientFrame.text("{\"type\":\"request\",\"event\":\"publish\",\"id\":\"p\(sent)\",\"data\":{" + event + "}"))
        } else {
            publisher?.write(
                ClientFrame.text(
                    "{\"type\":\"request\",\"event\":\"publish\",\"id\":\"p\(sent)\",\"data\":{\"events\":["
                        + events.joined(separator: ",") + "]}}"))
        }
    }

    /// `{"room":R,"event":E,"data":{...}}` for the next event, which carries its room's `bseq`.
    private func nextEvent() -> String {
        let room = sent % config.rooms
        roomSeq[room] += 1
        sent += 1
        var data = config.workflowRooms ? "{\"workflow_id\":\"bench-\(room)\",\"error\":\"bench\"," : "{"
        data += "\"bseq\":\(roomSeq[room]),\"bsent\":\(Clock.micros()),\"pad\":\""
        data += pads[sent % pads.count].prefix(max(0, config.payloadBytes - data.utf8.count - 2)) + "\"}"
        return "{\"room\":\"\(roomNames[room])\",\"event\":\"\(eventName)\",\"data\":\(data)}"
    }

    private func httpAnswered(_ status: Int) {
        let count = inFlight.isEmpty ? 0 : inFlight.removeFirst()
        if status == 200 { acked += count } else { publishErrors += count }
        lastAckAt = Clock.nanos()
        if config.rate <= 0 { publishNext() }
    }

    /// Ends the run when its deadline passes, or when every publish is answered and deliveries have
    /// stopped for `drainTimeout` (then whatever is missing counts as lost).
    private func monitor() {
        guard result != nil else { return }
        let now = Clock.nanos()
        let quietSince = max(lastDeliveryAt, lastAckAt, startedAt)
        if NIODeadline.now() >= deadline {
            return finish(timedOut: true)
        }
        if acked + publishErrors == config.publishes, Clock.seconds(now - quietSince) > config.drainTimeout {
            return finish(timedOut: false)
        }
        loop.scheduleTask(in: .milliseconds(50)) { [self] in monitor() }
    }

    // MARK: ClientEvents

    func connectionOpened(_ connection: ClientConnection) {
        if connection.index == config.subscribers {
            publisher = connection
        } else {
            connection.send(subscribeFrames[connection.index % config.rooms])
        }
        connector.opened(connection)  // last: settling the final connection runs the next phase at once
    }

    func connection(_ connection: ClientConnection, received message: UnsafeRawBufferPointer) {
        let index = connection.index
        if index == config.subscribers { return publisherReceived(message) }
        if let hit = Scan.sequenceAndSentTime(in: message, hint: &hints[index]) {
            let (seq, sentMicros) = hit
            let now = connection.readAt
            let last = lastSeq[index]
            if seq > last {
                if seq != last + 1 { gaps += 1 }
                lastSeq[index] = seq
                delivered += 1
            } else {
                backwards += 1
            }
            if sentMicros >= 0 { latencies.add(micros: Clock.micros(at: now) - sentMicros) }
            lastDeliveryAt = now
            if delivered == expected { finish(timedOut: false) }
        } else if !isSubscribed[index], Scan.contains(Scan.typeAck, in: message) || Scan.contains(Scan.typeResponse, in: message)
        {
            isSubscribed[index] = true
            subscribed += 1
        } else if Scan.contains(Scan.typeError, in: message) {
            if isSubscribed[index] { otherErrors += 1 } else { subscribeErrors += 1 }
            note(message)
        }
    }

    private func publisherReceived(_ message: UnsafeRawBufferPointer) {
        if Scan.contains(Scan.typeAck, in: message) {
            acked += inFlight.isEmpty ? 1 : inFlight.removeFirst()
        } else if Scan.contains(Scan.typeError, in: message) {
            publishErrors += inFlight.isEmpty ? 1 : inFlight.removeFirst()
            note(message)
        } else {
            return  // the welcome
        }
        lastAckAt = Clock.nanos()
        if config.rate <= 0 { publishNext() }  // flushed at the end of this read batch
    }

    func connectionClosed(_ connection: ClientConnection) {
        if !connection.settled { return connector.closed(connection) }
        if result != nil { closedDuringRun += 1 }
        if let code = connection.serverCloseCode { closeCodes[code, default: 0] += 1 }
        if let reason = connection.protocolError { firstError = firstError ?? reason }
    }

    private func note(_ message: UnsafeRawBufferPointer) {
        if firstError == nil { firstError = String(decoding: message.prefix(400), as: UTF8.self) }
    }

    // MARK: Result

    private func finish(timedOut: Bool) {
        guard let promise = result else { return }
        result = nil
        httpProducer?.close()
        let usage = cpu.report()
        let elapsed = Clock.seconds(max(lastDeliveryAt, startedAt) - startedAt)
        let ackElapsed = Clock.seconds(max(lastAckAt, startedAt) - startedAt)
        let incomplete = (0..<config.subscribers).filter { lastSeq[$0] != roomSeq[$0 % config.rooms] }.count
        var line = header(
            config.name,
            [
                ("subscribers", .int(config.subscribers)), ("rooms", .int(config.rooms)), ("publishes", .int(config.publishes)),
                ("rate", config.rate > 0 ? .number(config.rate) : .string("max")), ("window", .int(config.window)),
                ("payload_bytes", .int(config.payloadBytes)), ("event", .string(eventName)),
                ("batch", .int(config.batch)), ("producer", .string(config.http ? "http" : "websocket")),
                ("deflate_offered", .bool(options.deflate)), ("text_pad", .bool(config.textPad)),
            ])
        line += [
            ("deliveries", .int(delivered)), ("expected", .int(expected)), ("lost", .int(expected - delivered)),
            ("gaps", .int(gaps)), ("reordered", .int(backwards)), ("subscribers_incomplete", .int(incomplete)),
            ("deliveries_per_s", .number(elapsed > 0 ? Double(delivered) / elapsed : 0)),
            ("publishes_acked", .int(acked)), ("publish_errors", .int(publishErrors)),
            ("publishes_per_s", .number(ackElapsed > 0 ? Double(acked) / ackElapsed : 0)),
            ("elapsed_s", .number(elapsed)), ("latency_ms", latencies.summary()),
            ("connects_per_s", .number(Double(connector.opened) / max(connector.elapsedSeconds, 1e-9))),
            ("other_errors", .int(otherErrors)), ("closed_during_run", .int(closedDuringRun)),
            ("server_close_codes", .object(closeCodes.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })),
            ("first_error", firstError.map(JSON.string) ?? .null), ("timed_out", .bool(timedOut)),
            ("publishes_sent", .int(sent)), ("publisher_open", .bool(publisher?.isOpen ?? false)),
            ("deflate_negotiated", .int(connector.connections.filter(\.negotiatedDeflate).count)),
            ("compressed_messages", .int(connector.connections.reduce(0) { $0 + $1.compressedMessages })),
        ]
        // Server CPU per delivery: the figure that compares a one-process server with a cluster of them.
        if case .number(let serverCPU)? = usage.first(where: { $0.0 == "server_cpu_s" })?.1, delivered > 0 {
            line.append(("server_cpu_us_per_delivery", .number(serverCPU * 1e6 / Double(delivered))))
        }
        promise.succeed(.object(line + usage))
    }
}
