import Common
import HTTPTypes
import Logging
import NIOSSL
import NIOWebSocket
import Synchronization
import WSClient

public struct TestTimeout: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}

/// A real WebSocket client (swift-websocket's `WSClient`) with a simple, poll-based API for tests.
public final class TestClient: Sendable {
    private struct State {
        var messages: [String] = []
        var writer: WebSocketOutboundWriter?
        var closed = false
        var closeCode: UInt16?
        var closeReason: String?
        var failure: String?
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    /// Connects; `headers` go with the upgrade request (e.g. `Authorization`), `tls` makes it `wss://`.
    public static func connect(
        _ url: String, headers: [String: String] = [:], tls: TLSConfiguration? = nil, timeout: Duration = .seconds(5)
    ) async throws -> TestClient {
        let client = TestClient()
        var fields = HTTPFields()
        for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        let configuration = WebSocketClientConfiguration(maxFrameSize: 16 << 20, additionalHeaders: fields)
        var logger = Logger(label: "test.client")
        logger.logLevel = .critical
        let task = Task { [logger] in
            do {
                let close = try await WebSocketClient.connect(
                    url: url, configuration: configuration, tlsConfiguration: tls, logger: logger
                ) { inbound, outbound, _ in
                    client.state.withLock { $0.writer = outbound }
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        let text: String =
                            switch message {
                            case .text(let text): text
                            case .binary(let buffer): String(buffer: buffer)
                            }
                        client.state.withLock { $0.messages.append(text) }
                    }
                }
                client.state.withLock { state in
                    state.closeCode = close.map { UInt16(webSocketErrorCode: $0.closeCode) }
                    state.closeReason = close?.reason
                }
            } catch {
                client.state.withLock { $0.failure = "\(error)" }
            }
            client.state.withLock { $0.closed = true }
        }
        client.task.withLock { $0 = task }
        try await poll(timeout, "connect to \(url)") {
            try client.state.withLock { state -> Bool? in
                if let failure = state.failure { throw TestTimeout(description: "connect failed: \(failure)") }
                return state.writer != nil || state.closed ? true : nil
            }
        }
        return client
    }

    /// Sends one text frame.
    public func send(_ text: String) async throws {
        guard let writer = state.withLock({ $0.writer }) else { throw TestTimeout(description: "not connected") }
        try await writer.write(.text(text))
    }

    public func send(_ object: JSONObject) async throws { try await send(JSONWriter.string(object)) }

    /// The next message as raw text.
    public func nextText(timeout: Duration = .seconds(5)) async throws -> String {
        try await Self.poll(timeout, "a message") {
            state.withLock { state in state.messages.isEmpty ? nil : state.messages.removeFirst() }
        }
    }

    /// The next message, decoded.
    public func next(timeout: Duration = .seconds(5)) async throws -> JSONObject {
        let text = try await nextText(timeout: timeout)
        guard case .object(let object) = try JSONParser.parse(text) else {
            throw TestTimeout(description: "not a JSON object: \(text)")
        }
        return object
    }

    /// Sends a request and returns the next message (the reply, when nothing else is in flight).
    public func request(_ object: JSONObject) async throws -> JSONObject {
        try await send(object)
        return try await next()
    }

    /// True if no message arrives within `duration`.
    public func receivesNothing(for duration: Duration = .milliseconds(200)) async -> Bool {
        try? await Task.sleep(for: duration)
        return state.withLock { $0.messages.isEmpty }
    }

    public var pendingCount: Int { state.withLock { $0.messages.count } }

    /// Waits for the server to close the connection; returns its close code and reason.
    public func closed(timeout: Duration = .seconds(5)) async throws -> (code: UInt16?, reason: String?) {
        try await Self.poll(timeout, "the connection to close") {
            state.withLock { $0.closed ? ($0.closeCode, $0.closeReason) : nil }
        }
    }

    public func close() async {
        if let writer = state.withLock({ $0.writer }) { try? await writer.close(.normalClosure, reason: nil) }
        _ = try? await closed(timeout: .seconds(2))
        task.withLock { $0 }?.cancel()
    }

    /// Re-checks `check` every 2 ms until it returns a value or `timeout` passes.
    @discardableResult
    public static func poll<T>(_ timeout: Duration, _ what: String, _ check: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = try await check() { return value }
            guard ContinuousClock.now < deadline else { throw TestTimeout(description: "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
