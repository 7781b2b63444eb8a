import HTTPTypes
import Logging
import NIOCore
import NIOWebSocket
import Wire
import WSClient
import WSCompression

/// A client for the services: connects (with a token or API key), reconnects by itself with backoff and full
/// jitter, honours close codes (no retry after an authentication failure or token expiry; a retry-after pause
/// on 1012/1013), resubscribes every room from the last position it saw so nothing is missed or repeated
/// within the server's history, and matches requests to replies by correlation id with a timeout.
///
///     let client = BackboneClient(ClientConfiguration(urls: ["ws://127.0.0.1:8690/ws"]))
///     client.start()
///     try await client.subscribe("workflow:wf1")
///     for await update in client.updates { if case .event(let event) = update { ... } }
public actor BackboneClient {
    public nonisolated let updates: AsyncStream<ClientUpdate>
    private nonisolated let continuation: AsyncStream<ClientUpdate>.Continuation
    private let configuration: ClientConfiguration
    private var writer: WebSocketOutboundWriter?
    private var rooms: [String: RoomPosition?] = [:]  // room → last position seen
    private var pending: [String: CheckedContinuation<JSONObject, any Error>] = [:]
    private var handlers: [String: [@Sendable (RoomEvent) -> Void]] = [:]
    private var loop: Task<Void, Never>?
    private var stopped = false
    private var nextID = 0
    /// This connection's id and user, from the server's welcome (nil until it arrives, and between connections).
    public private(set) var connectionID: String?
    public private(set) var userID: String?
    private var connection = 0  // counts connections, so the first-frame watchdog knows which one it watches
    private var heard = 0  // the last connection a frame arrived on

    public init(_ configuration: ClientConfiguration) {
        self.configuration = configuration
        (updates, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Starts connecting; idempotent.
    public func start() {
        guard loop == nil else { return }
        loop = Task { await self.run() }
    }

    /// Calls `handler` for every event named `event` (typed helpers can wrap this).
    public func on(_ event: String, _ handler: @escaping @Sendable (RoomEvent) -> Void) {
        handlers[event, default: []].append(handler)
    }

    /// Subscribes (now if connected, else on connect) and keeps the room across reconnections.
    public func subscribe(_ room: String) async throws {
        if rooms[room] == nil { rooms[room] = .some(nil) }
        if writer != nil { try await sendSubscribe(room, since: nil) }
    }

    public func unsubscribe(_ room: String) async throws {
        rooms[room] = nil
        if writer != nil { _ = try await request(Envelope(type: .unsubscribe, data: ["channel": .string(room)])) }
    }

    /// A service request (e.g. `get_workflow_status`); returns the reply's `data`, throws its error.
    public func request(_ event: String, data: JSONObject = [:]) async throws -> JSONObject {
        try await request(Envelope(type: .request, event: event, data: data))
    }

    /// Publishes an event; returns how many subscribers of the receiving instance got it.
    @discardableResult
    public func publish(room: String, event: String, data: JSONObject) async throws -> Int {
        let reply = try await request("publish", data: ["room": .string(room), "event": .string(event), "data": .object(data)])
        return Int(reply["subscribers"]?.intValue ?? 0)
    }

    /// Sends `event` to every connection of `user`, on any instance; returns how many got it. Needs the right to
    /// publish; throws `NOT_FOUND` when the user has no connection.
    @discardableResult
    public func send(toUser user: String, event: String, data: JSONObject) async throws -> Int {
        try await sendDirect(["to_user": .string(user), "event": .string(event), "data": .object(data)])
    }

    /// Sends `event` to one connection (its id from its welcome, or a message's `fromConnection`).
    @discardableResult
    public func send(toConnection id: String, event: String, data: JSONObject) async throws -> Int {
        try await sendDirect(["to_connection": .string(id), "event": .string(event), "data": .object(data)])
    }

    private func sendDirect(_ data: JSONObject) async throws -> Int {
        Int(try await request("publish", data: data)["connections"]?.intValue ?? 0)
    }

    /// Who is in `room` (a room whose channel reports presence), at most `limit` members listed.
    public func presence(of room: String, limit: Int? = nil) async throws -> Presence {
        var data: JSONObject = ["room": .string(room)]
        if let limit { data["limit"] = .int(Int64(limit)) }
        return Presence(try await request("presence", data: data))
    }

    /// Closes the connection and stops reconnecting.
    public func stop() async {
        stopped = true
        if let writer { try? await writer.close(.normalClosure, reason: nil) }
        loop?.cancel()
        await loop?.value
        finish("stopped by the client")
    }

    // MARK: Connection loop

    private func run() async {
        var failures = 0
        var attempt = 0
        while !stopped && !Task.isCancelled {
            let url = configuration.urls[attempt % configuration.urls.count]
            attempt += 1
            continuation.yield(.state(.connecting(attempt: attempt)))
            var code: UInt16?
            do {
                code = try await connect(url)
                failures = 0
            } catch {
                failures += 1
            }
            writer = nil
            (connectionID, userID) = (nil, nil)
            failPending(ClientError.connectionLost)
            if stopped { break }
            switch code {
            case 1008?: return finish("authentication refused (1008)")
            case 4003?: return finish("token expired (4003): start again with a new token")
            default: break
            }
            if let limit = configuration.maxAttempts, failures >= limit { return finish("gave up after \(failures) attempts") }
            // 1012/1013 ask to come back later: at least a second, still jittered, so clients do not return at once.
            var wait = configuration.delay(attempt: failures)
            if code == 1012 || code == 1013 || code == 1001 { wait = max(wait, Double.random(in: 0.5...1.5)) }
            continuation.yield(.state(.waiting(seconds: wait, code: code)))
            try? await Task.sleep(for: .seconds(wait))
        }
        finish("stopped")
    }

    /// One connection, until it closes; returns the close code. A connection that stays silent after the upgrade
    /// is cancelled after `firstFrameTimeout`: WSClient can miss a close that arrives during the upgrade, and then
    /// its inbound stream never ends.
    private func connect(_ url: String) async throws -> UInt16? {
        connection += 1
        let this = connection
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { .closed(try await self.session(url)) }
            group.addTask {
                try await Task.sleep(for: self.configuration.firstFrameTimeout)
                guard await self.heard >= this else { throw ClientError.noFirstFrame }  // cancels the session
                return .heard
            }
            while let outcome = try await group.next() {
                if case .closed(let code) = outcome {
                    group.cancelAll()
                    return code
                }
            }
            return nil
        }
    }

    private enum Outcome: Sendable { case closed(UInt16?), heard }

    private func session(_ url: String) async throws -> UInt16? {
        var headers = HTTPFields()
        if let token = configuration.token { headers[.authorization] = "Bearer \(token)" }
        if let apiKey = configuration.apiKey, let name = HTTPField.Name("X-API-Key") { headers[name] = apiKey }
        var logger = Logger(label: "backbone.client")
        logger.logLevel = .critical
        let close = try await WebSocketClient.connect(
            url: url,
            configuration: .init(
                maxFrameSize: 16 << 20, additionalHeaders: headers,
                // Offered as browsers offer it; the server's answer decides (docs/protocol.md, "Compression").
                extensions: configuration.compression ? [.perMessageDeflate(maxDecompressedFrameSize: 16 << 20)] : []),
            logger: logger
        ) { inbound, outbound, _ in
            await self.opened(outbound, url: url)
            for try await message in inbound.messages(maxSize: 16 << 20) {
                let text: String =
                    switch message {
                    case .text(let text): text
                    case .binary(let buffer): String(buffer: buffer)
                    }
                await self.received(text)
            }
        }
        return close.map { UInt16(webSocketErrorCode: $0.closeCode) }
    }

    private func opened(_ outbound: WebSocketOutboundWriter, url: String) {
        writer = outbound
        continuation.yield(.state(.connected(url: url)))
        // Resubscribe every room from where we were; replies are handled as they come.
        for (room, position) in rooms {
            Task { try? await self.sendSubscribe(room, since: position) }
        }
    }

    private func sendSubscribe(_ room: String, since: RoomPosition?) async throws {
        var data: JSONObject = ["channel": .string(room)]
        if let since { data["since"] = .object(since.json) }
        let reply = try await request(Envelope(type: .request, event: "subscribe", data: data))
        if reply["recovered"] == false {
            continuation.yield(.resync(room: room))
        }
        // Start from the room's current position if we had none (or it could not be recovered).
        if since == nil || reply["recovered"] == false,
            let seq = reply["seq"]?.intValue, let epoch = reply["epoch"]?.stringValue, rooms[room] != nil
        {
            rooms[room] = RoomPosition(seq: Int(seq), epoch: epoch)
        }
    }

    // MARK: Messages

    private func request(_ message: Envelope) async throws -> JSONObject {
        guard let writer else { throw ClientError.notConnected }
        nextID += 1
        let id = "c\(nextID)"
        var message = message
        message.id = id
        let text = message.json
        let timeout = configuration.requestTimeout
        return try await withCheckedThrowingContinuation { reply in
            pending[id] = reply
            Task {
                do { try await writer.write(.text(text)) } catch { self.resolve(id, .failure(ClientError.connectionLost)) }
                try? await Task.sleep(for: timeout)
                self.resolve(id, .failure(ClientError.timeout))
            }
        }
    }

    private func resolve(_ id: String, _ result: Result<JSONObject, any Error>) {
        pending.removeValue(forKey: id)?.resume(with: result)
    }

    private func failPending(_ error: ClientError) {
        let waiting = pending
        pending = [:]
        for (_, reply) in waiting { reply.resume(throwing: error) }
    }

    private func received(_ text: String) {
        heard = connection
        guard let message = try? Envelope.decode(ByteBuffer(string: text)) else { return }
        if let id = message.correlationID, pending[id] != nil {
            if message.type == .error {
                let error = ClientError(code: message.errorCode ?? "ERROR", message: message.errorMessage ?? "")
                return resolve(id, .failure(error))
            }
            return resolve(id, .success(message.data))
        }
        guard message.type == .event, let name = message.event else { return }
        let publisher = message.extensions["publisher"]?.stringValue
        let fromConnection = message.extensions["from_connection"]?.stringValue
        guard let room = message.room else {
            if let to = Self.recipient(message.extensions) {
                let direct = DirectMessage(
                    event: name, data: message.data, publisher: publisher, fromConnection: fromConnection, to: to)
                continuation.yield(.direct(direct))
            } else if connectionID == nil, let id = message.data["connection_id"]?.stringValue {
                (connectionID, userID) = (id, message.data["user_id"]?.stringValue)  // the welcome
            }
            return
        }
        let seq = message.extensions["seq"]?.intValue.map(Int.init), epoch = message.extensions["epoch"]?.stringValue
        if let seq, let epoch, case let last?? = rooms[room], last.epoch == epoch, seq <= last.seq {
            return  // already seen (a replay overlapping what arrived live)
        }
        if let seq, let epoch, rooms[room] != nil { rooms[room] = RoomPosition(seq: seq, epoch: epoch) }
        let event = RoomEvent(
            room: room, event: name, data: message.data, seq: seq, epoch: epoch, publisher: publisher,
            fromConnection: fromConnection)
        continuation.yield(.event(event))
        for handler in handlers[name] ?? [] { handler(event) }
    }

    private static func recipient(_ extensions: JSONObject) -> Recipient? {
        if let user = extensions["to_user"]?.stringValue { return .user(user) }
        if let id = extensions["to_connection"]?.stringValue { return .connection(id) }
        return nil
    }

    private func finish(_ reason: String) {
        stopped = true
        failPending(ClientError.stopped)
        continuation.yield(.state(.stopped(reason: reason)))
        continuation.finish()
    }
}
