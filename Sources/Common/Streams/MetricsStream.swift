import Logging
import NIOCore

/// A service's own flat-JSON WebSocket protocol on a port of its own, beside the envelope endpoint.
///
/// session-buddy's real clients speak upstream's `RealTimeMetricsServer` protocol on port 8765, not the
/// envelope. The service writes that protocol as a `StreamHandler`; the server runs the listener, the framing,
/// heartbeat, size limits, the lingering close and shutdown (1001) exactly as for its main port.
public protocol StreamHandler: AnyObject, Sendable {
    func opened(_ client: StreamClient)
    /// A text message, parsed (nil when it is not JSON). Binary messages are not passed on.
    func received(_ message: JSONValue?, from client: StreamClient)
    func closed(_ client: StreamClient)
    /// Every `metrics_stream.update_interval` seconds, off the connections' loops.
    func tick()
}

/// What a stream handler may ask of the server.
public struct StreamContext: Sendable {
    /// Whether the service's settings turn authentication on.
    public let authRequired: Bool
    /// A verified token's identity, or nil (bad, expired, or auth off).
    public let verify: @Sendable (String) async -> Identity?
    public let logger: Logger
}

/// A service's stream: its handler, made once the server knows its settings.
public struct MetricsStreamSpec: Sendable {
    public let makeHandler: @Sendable (StreamContext) -> any StreamHandler

    public init(makeHandler: @escaping @Sendable (StreamContext) -> any StreamHandler) {
        self.makeHandler = makeHandler
    }
}

/// One client of a stream, known to the handler by `id`. Safe to use from any thread: every call hops to the
/// connection's event loop.
public struct StreamClient: Sendable {
    private let connection: NIOLoopBound<WebSocketConnection>
    private let eventLoop: any EventLoop
    public let id: String

    init(_ connection: WebSocketConnection) {
        self.connection = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        self.eventLoop = connection.eventLoop
        self.id = connection.id
    }

    /// Sends one JSON object as a text frame.
    public func send(_ object: JSONObject) {
        let frame = Self.frame(object)
        onLoop { $0.write(frame, flush: true) }
    }

    /// Sends what `make` returns (nothing for nil), decided on the connection's loop after everything already
    /// queued there (always enqueued, even from the loop itself): after the messages the client sent before are
    /// handled and answered, and after a welcome queued before it, so a filter it asked for is seen.
    public func send(decidedOnLoop make: @escaping @Sendable () -> JSONObject?) {
        let connection = self.connection
        eventLoop.execute {
            guard let object = make() else { return }
            connection.value.write(Self.frame(object), flush: true)
        }
    }

    private static func frame(_ object: JSONObject) -> ByteBuffer { ServerFrame.make { JSONWriter.write(object, into: &$0) } }

    public func close(code: UInt16, reason: String) {
        onLoop { $0.close(CloseCode(code, reason)) }
    }

    private func onLoop(_ body: @escaping @Sendable (WebSocketConnection) -> Void) {
        if eventLoop.inEventLoop { return body(connection.value) }
        let connection = self.connection
        eventLoop.execute { body(connection.value) }
    }
}

/// Adapts the transport's connection callbacks to a `StreamHandler`.
final class StreamDelegate: ConnectionDelegate {
    let handler: any StreamHandler

    init(handler: any StreamHandler) { self.handler = handler }

    func connectionOpened(_ connection: WebSocketConnection) { handler.opened(StreamClient(connection)) }

    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool) {
        guard isText else { return }
        handler.received(try? JSONParser.parse(message), from: StreamClient(connection))
    }

    func connectionClosed(_ connection: WebSocketConnection) { handler.closed(StreamClient(connection)) }
}
