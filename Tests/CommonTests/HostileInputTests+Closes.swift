import Common
import Foundation
import Testing
import TestSupport

extension HostileInputTests {
    /// Closes the server starts while the client is still writing (docs/protocol.md, "How closes end").
    ///
    /// Each test sends a burst that ends in a fault, keeps writing behind it, and does not read for a while, so
    /// the server's close happens with the client's bytes still arriving. A server that then closed its socket
    /// would reset the connection, and the reset would destroy everything the client had not read yet: the
    /// replies, the close frame. Each test reads exactly the replies the server sent, then the close code and
    /// reason, and finds the drain ended by the client (`peer_closed`).
    @Suite("Closes while the client is still writing lose nothing")
    struct Closes {
        typealias Op = RawWebSocket.Opcode

        static let pingsBefore = 100

        static func pings(_ count: Int) -> [UInt8] {
            (0..<count).flatMap { RawWebSocket.frame(opcode: Op.text, payload: pingEnvelope(id: "r\($0)")) }
        }

        /// On a client that does not read while it writes (`BlockingWebSocket`): writes `burst`, then keeps
        /// writing `filler` frames for 300 ms (well inside the default 2 s drain), then reads to the end of the
        /// connection. Returns the frames before the close frame, and its code and reason.
        static func closedWhileWriting(
            _ server: TestServer, burst: [UInt8], filler: [UInt8] = RawWebSocket.frame(opcode: Op.pong),
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> (frames: [RawWebSocket.Frame], code: UInt16?, reason: String) {
            let port = server.port
            let (frames, end, written) = try await BlockingWebSocket.run {
                let socket = try BlockingWebSocket.open(port: port)
                socket.send(burst)
                let written = socket.keepSending(filler, for: .milliseconds(300), every: .milliseconds(1))
                let (frames, end) = socket.readToEnd()
                return (frames, end, written)
            }
            #expect(written > 10, "the client was still writing behind the fault", sourceLocation: sourceLocation)
            #expect(end == .closed, "a reset would have destroyed what the client had not read", sourceLocation: sourceLocation)
            guard let close = frames.last, close.opcode == Op.close else {
                Issue.record("no close frame after \(frames.count) frames", sourceLocation: sourceLocation)
                return (frames, nil, "")
            }
            return (Array(frames.dropLast()), close.closeCode, close.closeReason)
        }

        /// The replies must be pongs `r0`, `r1`... in order; returns how many.
        static func countPongs(_ frames: [RawWebSocket.Frame], sourceLocation: SourceLocation = #_sourceLocation) -> Int {
            for (index, frame) in frames.enumerated() {
                let reply = try? JSONParser.parse(frame.text)
                #expect(reply?["type"] == "pong", "\(frame.text.prefix(120))", sourceLocation: sourceLocation)
                #expect(reply?["correlation_id"] == .string("r\(index)"), sourceLocation: sourceLocation)
            }
            return frames.count
        }

        /// Every drain so far ended with the client closing, none by the bounds.
        static func expectDrainsEndedByPeer(
            _ server: TestServer, _ count: Int, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            try await TestClient.poll(.seconds(15), "\(count) drains to end") {
                server.metric("websocket_close_drains_total", ["outcome": "peer_closed"]) == Double(count) ? true : nil
            }
            #expect(server.metric("websocket_close_drains_total", ["outcome": "timeout"]) == 0, sourceLocation: sourceLocation)
            #expect(server.metric("websocket_close_drains_total", ["outcome": "byte_limit"]) == 0, sourceLocation: sourceLocation)
        }

        @Test("400 pings at the default rate limit: every pong and RATE_LIMIT_EXCEEDED the server sent, then 1008")
        func rateLimitAbuseAtDefaults() async throws {
            try await TestServer.with { server in
                let (frames, code, reason) = try await Self.closedWhileWriting(
                    server, burst: Self.pings(400),
                    filler: Array(RawWebSocket.frame(opcode: Op.text, payload: pingEnvelope(id: "late"))))
                var pongs = 0, errors = 0
                for (index, frame) in frames.enumerated() {
                    let reply = try? JSONParser.parse(frame.text)
                    #expect(reply?["correlation_id"] == .string("r\(index)"), "replies in order")
                    if reply?["type"] == "pong" {
                        pongs += 1
                    } else {
                        #expect(reply?["error_code"] == "RATE_LIMIT_EXCEEDED", "\(frame.text.prefix(120))")
                        errors += 1
                    }
                }
                // The burst (1.5 x 100) is answered, tokens that refill meanwhile add a pong or two; the next
                // 150 are refused, and the 151st refusal within a second closes. What was read is exactly what
                // the server sent.
                #expect(pongs >= 150)
                #expect(errors == 150)
                #expect(
                    Double(pongs) == server.metric("websocket_messages_total", ["message_type": "pong", "direction": "sent"]))
                #expect(
                    Double(errors) == server.metric("websocket_messages_total", ["message_type": "error", "direction": "sent"]))
                #expect(code == 1008)
                #expect(reason == "Message rate limit exceeded repeatedly")
                #expect(server.metric("websocket_connection_errors_total", ["error_type": "rate_limit_abuse"]) == 1)
                try await Self.expectDrainsEndedByPeer(server, 1)
                try await server.expectRecovered()
            }
        }

        @Test("an oversized message in the middle of a stream: the replies before it, then 1009")
        func oversizedMidStream() async throws {
            try await TestServer.with { server in
                let oversized = RawWebSocket.frame(
                    opcode: Op.text, payload: [UInt8](repeating: 0x20, count: server.server.settings.maxMessageSize + 1))
                let (frames, code, reason) = try await Self.closedWhileWriting(
                    server, burst: Self.pings(Self.pingsBefore) + oversized)
                #expect(Self.countPongs(frames) == Self.pingsBefore)
                #expect(code == 1009)
                #expect(reason == "Message too big")
                try await Self.expectDrainsEndedByPeer(server, 1)
                try await server.expectRecovered()
            }
        }

        @Test("invalid UTF-8 in the middle of a stream: the replies before it, then 1007")
        func invalidUTF8MidStream() async throws {
            try await TestServer.with { server in
                let invalid = RawWebSocket.frame(opcode: Op.text, payload: [0x7B, 0xC3, 0x28, 0x7D])
                let (frames, code, reason) = try await Self.closedWhileWriting(
                    server, burst: Self.pings(Self.pingsBefore) + invalid)
                #expect(Self.countPongs(frames) == Self.pingsBefore)
                #expect(code == 1007)
                #expect(reason == "Invalid UTF-8")
                try await Self.expectDrainsEndedByPeer(server, 1)
                try await server.expectRecovered()
            }
        }

        @Test("a protocol violation (an unmasked frame) in the middle of a stream: the replies before it, then 1002")
        func protocolViolationMidStream() async throws {
            try await TestServer.with { server in
                let unmasked = RawWebSocket.frame(opcode: Op.text, payload: pingEnvelope(id: "unmasked"), mask: nil)
                let (frames, code, reason) = try await Self.closedWhileWriting(
                    server, burst: Self.pings(Self.pingsBefore) + unmasked)
                #expect(Self.countPongs(frames) == Self.pingsBefore)
                #expect(code == 1002)
                #expect(reason == "Client frames must be masked")
                try await Self.expectDrainsEndedByPeer(server, 1)
                try await server.expectRecovered()
            }
        }

        /// A client that sends invalid UTF-8 (closed with 1007), then keeps sending without reading for
        /// `duration` or until the server drops it. Returns how it ended.
        static func keepsSendingAfterClose(
            _ server: TestServer, _ filler: [UInt8], for duration: Duration, every pace: Duration = .milliseconds(1)
        ) async throws -> BlockingWebSocket.End {
            let port = server.port
            return try await BlockingWebSocket.run {
                let socket = try BlockingWebSocket.open(port: port)
                socket.send(RawWebSocket.frame(opcode: Op.text, payload: [0xFF]))
                _ = socket.keepSending(filler, for: duration, every: pace)
                return socket.readToEnd().end
            }
        }

        @Test("a client that keeps sending and never reads is dropped when the drain times out, and counted")
        func drainTimeout() async throws {
            try await TestServer.with(configure: { $0.closeDrainTimeout = 0.3 }) { server in
                let started = ContinuousClock.now
                let end = try await Self.keepsSendingAfterClose(server, RawWebSocket.frame(opcode: Op.pong), for: .seconds(5))
                #expect(ContinuousClock.now - started < .seconds(3), "dropped long before the client stopped")
                #expect(end != .timedOut)
                #expect(server.metric("websocket_close_drains_total", ["outcome": "timeout"]) == 1)
                #expect(server.metric("websocket_close_drains_total", ["outcome": "peer_closed"]) == 0)
                try await server.expectRecovered()
            }
        }

        @Test("a client that sends more than close_drain_bytes after the close is dropped, and counted")
        func drainByteLimit() async throws {
            try await TestServer.with(configure: { $0.closeDrainBytes = 64 << 10 }) { server in
                let filler = RawWebSocket.frame(opcode: Op.binary, payload: [UInt8](repeating: 1, count: 8 << 10))
                let started = ContinuousClock.now
                _ = try await Self.keepsSendingAfterClose(server, filler, for: .seconds(5), every: .zero)
                #expect(ContinuousClock.now - started < .seconds(1.5), "dropped before the 2 s drain timeout")
                #expect(server.metric("websocket_close_drains_total", ["outcome": "byte_limit"]) == 1)
                #expect(server.metric("websocket_close_drains_total", ["outcome": "timeout"]) == 0)
                try await server.expectRecovered()
            }
        }

        @Test("a connection in its drain still counts against max_connections_per_ip")
        func drainHoldsAddressLimit() async throws {
            try await TestServer.with(configure: {
                $0.maxConnectionsPerIP = 1
                $0.closeDrainTimeout = 1
            }) { server in
                let draining = Task {
                    try await Self.keepsSendingAfterClose(server, RawWebSocket.frame(opcode: Op.pong), for: .seconds(3))
                }
                try await TestClient.poll(.seconds(15), "the first client to be closed") {
                    server.metric("websocket_connection_errors_total", ["error_type": "invalid_utf8"]) == 1 ? true : nil
                }
                let refused = try await RawWebSocket.connect(port: server.port)
                let response = try await refused.upgrade()
                #expect(response.status == 503)
                #expect(response.body.contains("TOO_MANY_CONNECTIONS_FROM_ADDRESS"), "\(response.body)")
                await refused.closeTCP()
                _ = try await draining.value
                // The drain timed out (the client never read), and the address is free again.
                #expect(server.metric("websocket_close_drains_total", ["outcome": "timeout"]) == 1)
                try await server.expectRecovered()
            }
        }
    }
}
