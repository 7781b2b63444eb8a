import Common
import Foundation
import Testing
import TestSupport

extension HostileInputTests {
    /// Many short-lived connections, ended in every way a client can end one, must leave nothing behind:
    /// no open connection, no room, no address count, and no memory growing with the number of connections.
    @Suite("Connect/disconnect churn leaves nothing behind")
    struct Churn {
        typealias Op = RawWebSocket.Opcode

        static let cycles = 10_000
        static let concurrency = 32
        static let timeLimit: Duration = .seconds(180)
        /// Allowed RSS growth over the measured cycles (after a 1,200-cycle warm-up). Measured on the 2-core
        /// project machine, debug build: 1.7-1.9 MiB. Leaking just each WebSocketConnection handler and its
        /// context (about 0.9 KiB per connection, ~8,300 WebSocket connections here) measured 7.3 MiB.
        static let rssBound = 5 << 20

        /// Resident set size of this process (which hosts the server), in bytes.
        static func residentBytes() -> Int {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }

        /// One connection, ended one of six ways (by `index % 6`).
        static func cycle(_ index: Int, port: Int) async throws {
            switch index % 6 {
            case 0:  // a clean close handshake
                let raw = try await RawWebSocket.open(port: port)
                try await raw.send(opcode: Op.close, payload: RawWebSocket.closePayload(1000))
                _ = try await raw.closeFrame()
                try await raw.waitForTCPClose()
            case 1:  // TCP closed right after the welcome
                let raw = try await RawWebSocket.open(port: port)
                await raw.closeTCP()
            case 2:  // in rooms, then TCP closed
                let raw = try await RawWebSocket.open(port: port)
                let subscribe: JSONObject = ["type": "subscribe", "data": ["channel": .string("item:churn\(index % 50)")]]
                try await raw.send(opcode: Op.text, payload: Array(JSONWriter.string(subscribe).utf8))
                try await raw.send(opcode: Op.text, payload: Array(#"{"type":"subscribe","data":{"channel":"feed"}}"#.utf8))
                _ = try await raw.nextFrame()
                _ = try await raw.nextFrame()
                await raw.closeTCP()
            case 3:  // upgrade request sent, gone before the answer is read
                let socket = try await RawWebSocket.connect(port: port)
                try await socket.write(
                    Array(
                        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
                            .utf8))
                await socket.closeTCP()
            case 4:  // half a request
                let socket = try await RawWebSocket.connect(port: port)
                try await socket.write(Array("GET /ws HTTP/1.1\r\nHost: x\r\n".utf8))
                await socket.closeTCP()
            default:  // a protocol error mid-message
                let raw = try await RawWebSocket.open(port: port)
                try await raw.write(
                    RawWebSocket.frame(opcode: Op.text, payload: [0x7B], fin: false)
                        + RawWebSocket.frame(opcode: Op.text, payload: [0x7B]))
                _ = try await raw.closeFrame()
                try await raw.waitForTCPClose()
            }
        }

        /// Runs cycles `range` with `concurrency` workers; fails the test if they do not finish by `deadline`.
        static func churn(_ range: Range<Int>, port: Int, deadline: ContinuousClock.Instant) async throws -> Int {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var done = 0
                        for index in stride(from: range.lowerBound + worker, to: range.upperBound, by: concurrency) {
                            guard ContinuousClock.now < deadline else { break }
                            try await cycle(index, port: port)
                            done += 1
                        }
                        return done
                    }
                }
                return try await group.reduce(0, +)
            }
        }

        @Test(
            "10,000 rapid connect/disconnect cycles: then 0 connections, 0 rooms, 0 per-address count, bounded RSS, normal service"
        )
        func connectDisconnectCycles() async throws {
            let perAddress = 100  // above the concurrency, so churn never hits it unless counts leak
            // No heartbeat pings: a ping landing between a cycle's bad frame and its close would read as the wrong frame.
            try await TestServer.with(configure: {
                $0.maxConnectionsPerIP = perAddress; $0.heartbeatInterval = 3600
            }) { server in
                let deadline = ContinuousClock.now + Self.timeLimit
                // Warm-up: allocator arenas, NIO's pools and caches reach their steady size.
                let warm = try await Self.churn(0..<1200, port: server.port, deadline: deadline)
                #expect(warm == 1200)
                try await TestClient.poll(.seconds(10), "warm-up connections to close") {
                    server.server.activeConnections == 0 ? true : nil
                }
                let before = Self.residentBytes()
                let start = ContinuousClock.now
                let done = try await Self.churn(0..<Self.cycles, port: server.port, deadline: deadline)
                let elapsed = ContinuousClock.now - start
                #expect(done == Self.cycles, "only \(done) cycles within \(Self.timeLimit)")

                try await TestClient.poll(.seconds(10), "every connection to close") {
                    server.server.activeConnections == 0 ? true : nil
                }
                let after = Self.residentBytes()
                #expect(try await server.server.roomCounts().isEmpty)
                let health = try await HTTP.get(server.httpURL + "/health")
                #expect(health.body["connections"] == 0)
                #expect(health.body["rooms"] == 0)

                // The per-address count is back to zero: exactly `perAddress` connections fit again.
                var open: [RawWebSocket] = []
                for _ in 0..<perAddress { open.append(try await RawWebSocket.open(port: server.port)) }
                let refused = try await RawWebSocket.connect(port: server.port)
                #expect(try await refused.upgrade().status == 503)
                await refused.closeTCP()
                for socket in open { try await socket.closeCleanly() }
                try await server.expectRecovered()

                let growth = after - before
                print("churn: \(done) cycles in \(elapsed); RSS \(before >> 10) KiB -> \(after >> 10) KiB (\(growth >> 10) KiB)")
                #expect(growth < Self.rssBound, "RSS grew by \(growth >> 10) KiB over \(done) cycles")
            }
        }
    }
}
