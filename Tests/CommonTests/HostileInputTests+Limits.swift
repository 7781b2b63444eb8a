import Common
import Foundation
import Testing
import TestSupport

extension HostileInputTests {
    /// Per-connection limits: rooms (`max_subscriptions`), messages per second (`message_rate_limit`) and
    /// bytes queued for a client that does not read (`max_outbound_buffer`).
    @Suite("Floods hit max_subscriptions, the rate limit and the outbound buffer")
    struct Limits {
        typealias Op = RawWebSocket.Opcode

        @Test("subscribing to more than max_subscriptions distinct rooms gets TOO_MANY_SUBSCRIPTIONS")
        func subscriptionFlood() async throws {
            try await TestServer.with(configure: { $0.maxSubscriptions = 20 }) { server in
                let raw = try await RawWebSocket.open(server)
                // 50 distinct rooms in one burst (well under the rate limit's burst of 150).
                var burst: [UInt8] = []
                for index in 0..<50 {
                    let frame: JSONObject = [
                        "type": "subscribe", "id": .string("s\(index)"), "data": ["channel": .string("item:\(index)")],
                    ]
                    burst += RawWebSocket.frame(opcode: Op.text, payload: Array(JSONWriter.string(frame).utf8))
                }
                try await raw.write(burst)
                for index in 0..<50 {
                    let reply = try await raw.nextJSON()
                    #expect(reply["correlation_id"] == .string("s\(index)"))
                    if index < 20 {
                        #expect(reply["data"]?["status"] == "subscribed", "\(reply)")
                    } else {
                        #expect(reply["type"] == "error")
                        #expect(reply["error_code"] == "TOO_MANY_SUBSCRIPTIONS", "\(reply)")
                    }
                }
                #expect(try await server.server.roomCounts().count == 20)
                // A room it is already in is fine; after leaving one there is room for another.
                try await raw.sendJSON(["type": "subscribe", "id": "again", "data": ["channel": "item:0"]])
                #expect(try await raw.nextJSON()["data"]?["status"] == "subscribed")
                try await raw.sendJSON(["type": "unsubscribe", "id": "leave", "data": ["channel": "item:1"]])
                #expect(try await raw.nextJSON()["data"]?["status"] == "unsubscribed")
                try await raw.sendJSON(["type": "subscribe", "id": "new", "data": ["channel": "item:49"]])
                #expect(try await raw.nextJSON()["data"]?["status"] == "subscribed")
                #expect(
                    try await server.server.publish(event: "item.changed", room: "item:49", data: ["item_id": "49", "value": 1])
                        .subscribers == 1)
                #expect(try await raw.nextJSON()["room"] == "item:49")
                try await raw.closeCleanly()
                try await server.expectRecovered()
                #expect(try await server.server.roomCounts().isEmpty, "a closed connection leaves all its rooms")
            }
        }

        static let rate = 10
        static let burst = 15  // 1.5x the rate

        /// `count` ping envelopes in one TCP write, so the server reads them all within microseconds.
        static func pings(_ count: Int, from first: Int = 0) -> [UInt8] {
            (first..<first + count).flatMap { RawWebSocket.frame(opcode: Op.text, payload: pingEnvelope(id: "r\($0)")) }
        }

        static func checkLimited(_ reply: JSONObject, id: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(reply["type"] == "error", "\(reply)", sourceLocation: sourceLocation)
            #expect(reply["error_code"] == "RATE_LIMIT_EXCEEDED", sourceLocation: sourceLocation)
            #expect(reply["correlation_id"] == .string(id), sourceLocation: sourceLocation)
            let message = reply["error_message"]?.stringValue ?? ""
            let pattern = #/Message rate limit exceeded\. Retry after (\d+\.\d{3}) seconds\./#
            let match = message.wholeMatch(of: pattern)
            #expect(match != nil, "message: \(message)", sourceLocation: sourceLocation)
            if let seconds = match.flatMap({ Double($0.1) }) {
                #expect(seconds > 0 && seconds <= 1.0 / Double(rate), "retry after \(seconds)", sourceLocation: sourceLocation)
            }
        }

        @Test("a burst over the rate limit gets RATE_LIMIT_EXCEEDED; a client that then waits carries on")
        func rateLimitBurst() async throws {
            try await TestServer.with(configure: { $0.messageRateLimit = Self.rate }) { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.write(Self.pings(Self.burst + 3))
                for index in 0..<Self.burst { #expect(try await raw.nextJSON()["correlation_id"] == .string("r\(index)")) }
                for index in Self.burst..<Self.burst + 3 { Self.checkLimited(try await raw.nextJSON(), id: "r\(index)") }
                // Obeying "retry after" (0.1 s per token) works: not closed, answered again.
                try await Task.sleep(for: .milliseconds(350))
                try await raw.write(Self.pings(2, from: 100))
                #expect(try await raw.nextJSON()["correlation_id"] == "r100")
                #expect(try await raw.nextJSON()["correlation_id"] == "r101")
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test(
            "a client that keeps sending after RATE_LIMIT_EXCEEDED (more than a burst refused within a second) is closed with 1008"
        )
        func rateLimitAbuse() async throws {
            try await TestServer.with(configure: { $0.messageRateLimit = Self.rate }) { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.write(Self.pings(Self.burst * 3))
                var answered = 0, limited = 0
                let (frames, code, reason) = try await raw.readUntilClose()
                for frame in frames {
                    guard let reply = try? JSONParser.parse(frame.text).objectValue else {
                        Issue.record("not JSON: \(frame)")
                        continue
                    }
                    if reply["type"] == "pong" {
                        answered += 1
                    } else {
                        Self.checkLimited(reply, id: "r\(answered + limited)")
                        limited += 1
                    }
                }
                #expect(answered == Self.burst)
                #expect(limited == Self.burst, "refusals 1...burst get an error, the next one closes")
                #expect(code == 1008)
                #expect(!reason.isEmpty)
                try await raw.waitForTCPClose()
                try await server.expectRecovered()
            }
        }

        // MARK: Slow consumers

        static let outboundLimit = 64 << 10
        static let padding = String(repeating: "x", count: 3000)
        /// ~7.5 MiB: more than the outbound limit plus the kernel's socket buffers (the server's send buffer
        /// grows up to net.ipv4.tcp_wmem's 4 MiB), so the slow reader is over the limit for good.
        static let floodCount = 2500

        /// Subscribes a raw client that then stops reading, and a normal client, to `feed`; publishes
        /// `floodCount` events of ~3 KiB as fast as the server takes them. Returns the raw client after
        /// checking that the normal client got every event, in order, without falling behind. With
        /// `keepWriting` the raw client writes (unsolicited pongs) from the moment it stops reading until its
        /// connection is gone; the task returns how many it wrote.
        static func flood(
            _ server: TestServer, keepWriting: Bool = false
        ) async throws -> (slow: RawWebSocket, writer: Task<Int, Never>?, delivered: Int) {
            let slow = try await RawWebSocket.open(server, receiveBuffer: 4096)
            try await slow.sendJSON(["type": "subscribe", "data": ["channel": "feed"]])
            #expect(try await slow.nextJSON()["data"]?["status"] == "subscribed")
            let normal = try await server.client()
            _ = try await normal.request(["type": "subscribe", "data": ["channel": "feed"]])
            try await slow.setReading(false)
            let writer = keepWriting ? slow.keepWriting(RawWebSocket.frame(opcode: Op.pong)) : nil

            let start = ContinuousClock.now
            let reader = Task {
                var lags: [Duration] = []
                for index in 0..<floodCount {
                    let event = try await normal.next(timeout: .seconds(10))
                    let text = event["data"]?["text"]?.stringValue ?? ""
                    #expect(text.hasPrefix("\(index)|"), "event \(index) out of order: \(text.prefix(12))")
                    lags.append(ContinuousClock.now - start)
                }
                return lags
            }
            var published: [Duration] = []
            var delivered = 0
            for index in 0..<floodCount {
                let receipt = try await server.server.publish(
                    event: "feed.entry", room: "feed", data: ["text": .string("\(index)|\(padding)")])
                #expect(receipt.subscribers >= 1)
                delivered += receipt.subscribers
                published.append(ContinuousClock.now - start)
            }
            let arrived = try await reader.value
            let worst = zip(arrived, published).map { $0 - $1 }.max() ?? .zero
            #expect(worst < .seconds(1), "the normal subscriber fell behind by \(worst)")
            #expect(await normal.receivesNothing(for: .milliseconds(50)))
            #expect(try await normal.request(["type": "ping", "id": "normal"])["correlation_id"] == "normal")
            await normal.close()
            return (slow, writer, delivered)
        }

        @Test("a subscriber that stops reading and keeps writing is closed with 4008 after every event it was sent")
        func slowConsumer() async throws {
            try await TestServer.with(configure: {
                $0.maxOutboundBuffer = Self.outboundLimit
                $0.closeDrainTimeout = 30  // long enough for the flood below to finish before it reads again
            }) { server in
                let (slow, writer, delivered) = try await Self.flood(server, keepWriting: true)
                // Reading again, it finds every event the server sent it, in order, then the close frame.
                try await slow.setReading(true)
                let (frames, code, reason) = try await slow.readUntilClose(timeout: .seconds(10))
                #expect(code == 4008)
                #expect(reason == "Slow consumer")
                #expect(frames.count < Self.floodCount, "it was closed before it got everything")
                #expect(frames.count + Self.floodCount == delivered, "the slow client read all it was handed; the other all")
                for (index, frame) in frames.enumerated() {
                    let text = (try? JSONParser.parse(frame.text))?["data"]?["text"]?.stringValue ?? ""
                    guard text.hasPrefix("\(index)|") else {
                        Issue.record("slow consumer's event \(index) out of order: \(text.prefix(12))")
                        break
                    }
                }
                try await slow.waitForTCPClose()
                #expect(await writer!.value > 10, "the slow client was writing all along")
                #expect(server.metric("websocket_close_drains_total", ["outcome": "peer_closed"]) == 1)
                try await server.expectRecovered()
            }
        }

        @Test("a fast reader is not a slow consumer: one message larger than max_outbound_buffer is delivered")
        func largeMessageToFastReader() async throws {
            // max_message_size (256 KiB) above max_outbound_buffer (64 KiB), as in any configuration that raises
            // the message size (the Autobahn run uses 16 MiB messages). The client reads all the time.
            try await TestServer.with(configure: {
                $0.maxOutboundBuffer = Self.outboundLimit
                $0.maxMessageSize = 256 << 10
                $0.echoEndpoint = true
            }) { server in
                let raw = try await RawWebSocket.open(port: server.port, path: "/echo", readWelcome: false)
                let message = [UInt8](repeating: 0x61, count: 100 << 10)
                try await raw.send(opcode: Op.binary, payload: message)
                let echo = try await raw.nextFrame()
                #expect(echo.opcode == Op.binary, "\(echo)")
                #expect(echo.payload.count == message.count)
                if await raw.receivesNothing(for: .milliseconds(200)) {
                    try await raw.closeCleanly()
                } else {
                    let next = try? await raw.nextFrame(timeout: .seconds(1))
                    Issue.record("closed after the echo: \(next.map { "\($0)" } ?? "TCP dropped")")
                }
                try await server.expectRecovered()
            }
        }

        @Test("a slow consumer that never reads again is dropped when the drain times out (close_drain_timeout)")
        func slowConsumerDropped() async throws {
            try await TestServer.with(configure: {
                $0.maxOutboundBuffer = Self.outboundLimit
                $0.closeDrainTimeout = 0.5
            }) { server in
                let (slow, _, _) = try await Self.flood(server)
                // It never reads its close frame, so the server gives up on the drain and drops it.
                try await TestClient.poll(.seconds(15), "the slow consumer to be dropped") {
                    server.server.activeConnections == 0 ? true : nil
                }
                #expect(server.metric("websocket_close_drains_total", ["outcome": "timeout"]) == 1)
                try await slow.setReading(true)
                try await slow.waitForTCPClose(timeout: .seconds(10))
                try await server.expectRecovered()
            }
        }
    }
}
