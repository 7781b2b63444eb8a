import Common
import Testing
import TestSupport

/// Hostile and broken clients over real sockets: every test sends something wrong (or too much, or too
/// slowly), checks the documented answer (error code, close code, HTTP status), and then checks that the
/// server still serves a fresh client. The suites live in `HostileInputTests+*.swift`, one job each.
///
/// Run alone with `swift test --skip-build --filter CommonTests.HostileInputTests`.
/// Serialized: several tests measure timeouts of a few hundred milliseconds, and the floods and the churn
/// test would otherwise compete with them for the machine's two cores.
@Suite("Hostile input over real sockets", .serialized)
enum HostileInputTests {}

extension TestServer {
    /// The server is back to normal after a hostile client: the hostile connections are gone (only
    /// `remaining` are still open) and a fresh client can subscribe, publish and receive its own event.
    func expectRecovered(remaining: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await TestClient.poll(.seconds(15), "open connections to drop to \(remaining)") {
            server.activeConnections == remaining ? true : nil
        }
        let client = try await client()
        let item = "alive-\(UInt32.random(in: 0...UInt32.max))"
        let room = "item:\(item)"
        let subscribed = try await client.request(["type": "subscribe", "id": "alive-sub", "data": ["channel": .string(room)]])
        #expect(subscribed["data"]?["status"] == "subscribed", "\(subscribed)", sourceLocation: sourceLocation)
        try await client.send([
            "type": "request", "event": "publish", "id": "alive-pub",
            "data": ["room": .string(room), "event": "item.changed", "data": ["item_id": .string(item), "value": 7]],
        ])
        let replies = [try await client.next(), try await client.next()]
        let event = replies.first { $0["type"] == "event" }
        let ack = replies.first { $0["type"] == "ack" }
        #expect(event?["room"] == .string(room), "\(replies)", sourceLocation: sourceLocation)
        #expect(event?["data"]?["value"] == 7, sourceLocation: sourceLocation)
        #expect(ack?["correlation_id"] == "alive-pub", "\(replies)", sourceLocation: sourceLocation)
        #expect(ack?["data"]?["subscribers"] == 1, sourceLocation: sourceLocation)
        await client.close()
    }
}

extension RawWebSocket {
    /// Opens a raw WebSocket to a test server (welcome already read).
    static func open(
        _ server: TestServer, headers: [(String, String)] = [], receiveBuffer: Int? = nil
    ) async throws -> RawWebSocket {
        try await open(port: server.port, headers: headers, receiveBuffer: receiveBuffer)
    }

    func sendJSON(_ object: JSONObject, opcode: UInt8 = Opcode.text) async throws {
        try await send(opcode: opcode, payload: Array(JSONWriter.string(object).utf8))
    }

    /// The next frame, which must be a text frame holding a JSON object.
    func nextJSON(timeout: Duration = .seconds(5)) async throws -> JSONObject {
        let frame = try await nextFrame(timeout: timeout)
        guard frame.opcode == Opcode.text, let object = try? JSONParser.parse(frame.text).objectValue else {
            throw TestTimeout(description: "expected a JSON text frame, got \(frame) \(frame.text.prefix(200))")
        }
        return object
    }

    /// Expects the server's close frame with `code`, then the end of the TCP connection.
    func expectClose(
        _ code: UInt16, reason: String? = nil, timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let close = try await closeFrame(timeout: timeout)
        #expect(close.code == code, "close reason: '\(close.reason)'", sourceLocation: sourceLocation)
        if let reason {
            #expect(close.reason == reason, sourceLocation: sourceLocation)
        } else {
            #expect(!close.reason.isEmpty, "the reason should name the fault", sourceLocation: sourceLocation)
        }
        try await waitForTCPClose(timeout: timeout)
    }
}

/// A ping envelope as bytes, optionally padded with JSON whitespace to exactly `size` bytes.
func pingEnvelope(id: String = "p1", size: Int? = nil) -> [UInt8] {
    var bytes = Array(#"{"type":"ping","id":"\#(id)"}"#.utf8)
    if let size {
        precondition(size >= bytes.count)
        bytes.insert(contentsOf: repeatElement(UInt8(ascii: " "), count: size - bytes.count), at: 1)
    }
    return bytes
}
