import Common
import Testing
import TestSupport

/// One RFC 6455 violation: the bytes a client sends and the close code the server must answer with.
struct Violation: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let code: UInt16
    /// The exact reason, where docs/protocol.md documents one (1002 reasons only have to name the fault).
    let reason: String?

    var testDescription: String { "\(name) → \(code)" }

    init(_ name: String, _ frames: [[UInt8]], _ code: UInt16, reason: String? = nil) {
        self.name = name
        self.bytes = frames.flatMap { $0 }
        self.code = code
        self.reason = reason ?? (code == 1007 ? "Invalid UTF-8" : nil)
    }

    typealias Op = RawWebSocket.Opcode
    static func frame(_ opcode: UInt8, _ payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true) -> [UInt8]
    {
        RawWebSocket.frame(opcode: opcode, payload: payload, fin: fin, rsv: rsv, mask: masked ? [1, 2, 3, 4] : nil)
    }

    static let ping = pingEnvelope()
    static let invalidUTF8: [UInt8] =
        Array(#"{"type":"ping","id":""#.utf8) + [
            0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80,
        ] + Array(#""}"#.utf8)

    static let all: [Violation] =
        [
            Violation("unmasked text frame", [frame(Op.text, ping, masked: false)], 1002),
            Violation("unmasked ping", [frame(Op.ping, [1], masked: false)], 1002),
            Violation("RSV1 on a text frame", [frame(Op.text, ping, rsv: 4)], 1002),
            Violation("RSV2 on a text frame", [frame(Op.text, ping, rsv: 2)], 1002),
            Violation("RSV3 on a text frame", [frame(Op.text, ping, rsv: 1)], 1002),
            Violation("RSV1 on a ping", [frame(Op.ping, [], rsv: 4)], 1002),
            Violation(
                "RSV on a continuation",
                [frame(Op.text, Array(ping[..<5]), fin: false), frame(Op.continuation, Array(ping[5...]), rsv: 2)], 1002),
        ]
        + ([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8]).map {
            Violation("reserved opcode \($0)", [frame($0, [0x41])], 1002)
        }
        + [
            Violation("continuation without a message", [frame(Op.continuation, ping)], 1002),
            Violation("unfinished continuation without a message", [frame(Op.continuation, ping, fin: false)], 1002),
            Violation(
                "a new text frame inside a fragmented message",
                [frame(Op.text, Array(ping[..<5]), fin: false), frame(Op.text, ping)], 1002),
            Violation(
                "a new binary frame inside a fragmented message",
                [frame(Op.text, Array(ping[..<5]), fin: false), frame(Op.binary, ping)], 1002),
            Violation(
                "a new unfinished text frame inside a fragmented one",
                [frame(Op.binary, [1], fin: false), frame(Op.text, [1], fin: false)], 1002),
            Violation("ping with a 126-byte payload", [frame(Op.ping, Array(repeating: 0x61, count: 126))], 1002),
            Violation("pong with a 126-byte payload", [frame(Op.pong, Array(repeating: 0x61, count: 126))], 1002),
            Violation(
                "close with a 126-byte payload",
                [frame(Op.close, RawWebSocket.closePayload(1000, Array(repeating: 0x61, count: 124)))], 1002),
            Violation("fragmented ping", [frame(Op.ping, [1, 2], fin: false), frame(Op.continuation, [3], fin: true)], 1002),
            Violation(
                "fragmented ping inside a fragmented message",
                [frame(Op.text, Array(ping[..<5]), fin: false), frame(Op.ping, [1], fin: false)], 1002),
            Violation("close with a 1-byte payload", [frame(Op.close, [0x03])], 1002),
        ]
        + ([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] as [UInt16]).map {
            Violation("close with invalid code \($0)", [frame(Op.close, RawWebSocket.closePayload($0, Array("bye".utf8)))], 1002)
        }
        + [
            Violation(
                "close with an invalid UTF-8 reason",
                [frame(Op.close, RawWebSocket.closePayload(1000, [0xCE, 0xBA, 0xED, 0xA0, 0x80]))], 1007),
            Violation("text frame with invalid UTF-8", [frame(Op.text, invalidUTF8)], 1007),
            Violation("text frame of a lone continuation byte", [frame(Op.text, [0x80])], 1007),
            Violation("text frame with a truncated sequence", [frame(Op.text, [0x61, 0xE2, 0x82])], 1007),
            Violation("text frame with an overlong encoding", [frame(Op.text, [0xC0, 0xAF])], 1007),
            Violation(
                "fragmented text with invalid UTF-8",
                [frame(Op.text, Array(invalidUTF8[..<20]), fin: false), frame(Op.continuation, Array(invalidUTF8[20...]))], 1007),
        ]
}

extension HostileInputTests {
    /// RFC 6455 framing rules: each violation is answered with the documented close code, the TCP connection
    /// then ends, and the server goes on serving others (docs/protocol.md, "Close codes").
    @Suite("Framing violations close the connection with the documented code")
    struct Framing {
        @Test("a protocol violation closes with its code", arguments: Violation.all)
        func violation(_ violation: Violation) async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.write(violation.bytes)
                try await raw.expectClose(violation.code, reason: violation.reason)
                try await server.expectRecovered()
            }
        }

        @Test("a fragmented message is reassembled and answered, also split inside a UTF-8 sequence")
        func fragmented() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                let message = pingEnvelope(id: "frag-é-ü")  // é is 0xC3 0xA9
                let split = message.firstIndex(of: 0xC3)! + 1
                try await raw.send(opcode: RawWebSocket.Opcode.text, payload: Array(message[..<10]), fin: false)
                try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: [], fin: false)
                try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: Array(message[10..<split]), fin: false)
                #expect(await raw.receivesNothing(for: .milliseconds(100)), "nothing is answered before the last fragment")
                try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: Array(message[split...]), fin: true)
                let pong = try await raw.nextJSON()
                #expect(pong["type"] == "pong")
                #expect(pong["correlation_id"] == "frag-é-ü")
                // Binary messages fragment the same way, one byte per frame.
                let binary = pingEnvelope(id: "frag-bin")
                try await raw.send(opcode: RawWebSocket.Opcode.binary, payload: [binary[0]], fin: false)
                for byte in binary.dropFirst().dropLast() {
                    try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: [byte], fin: false)
                }
                try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: [binary.last!], fin: true)
                #expect(try await raw.nextJSON()["correlation_id"] == "frag-bin")
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test("a ping inside a fragmented message gets a pong with its payload, and the message still completes")
        func pingBetweenFragments() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                let message = pingEnvelope(id: "around-a-ping")
                try await raw.send(opcode: RawWebSocket.Opcode.text, payload: Array(message[..<12]), fin: false)
                try await raw.send(opcode: RawWebSocket.Opcode.ping, payload: Array("mid-message".utf8))
                let pong = try await raw.nextFrame()
                #expect(pong.opcode == RawWebSocket.Opcode.pong)
                #expect(pong.text == "mid-message")
                #expect(pong.fin && pong.rsv == 0 && !pong.masked)
                try await raw.send(opcode: RawWebSocket.Opcode.pong, payload: Array("unsolicited".utf8))  // ignored
                try await raw.send(opcode: RawWebSocket.Opcode.continuation, payload: Array(message[12...]), fin: true)
                let reply = try await raw.nextJSON()
                #expect(reply["type"] == "pong")
                #expect(reply["correlation_id"] == "around-a-ping")
                // An empty ping and a 125-byte one (the largest allowed) are answered too.
                for payload in [[], Array(repeating: UInt8(0x7A), count: 125)] as [[UInt8]] {
                    try await raw.send(opcode: RawWebSocket.Opcode.ping, payload: payload)
                    let answer = try await raw.nextFrame()
                    #expect(answer.opcode == RawWebSocket.Opcode.pong)
                    #expect(answer.payload == payload)
                }
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test(
            "a valid close is echoed with its code and the TCP connection ends",
            arguments: [1000, 1001, 1003, 1011, 3000, 4999] as [UInt16])
        func validClose(code: UInt16) async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.send(
                    opcode: RawWebSocket.Opcode.close, payload: RawWebSocket.closePayload(code, Array("done ✓".utf8)))
                let close = try await raw.closeFrame()
                #expect(close.code == code)
                try await raw.waitForTCPClose()
                try await server.expectRecovered()
            }
        }

        @Test(
            "a client that drops TCP without a close frame is forgotten at once: connection count, rooms, per-address count",
            arguments: [true, false])
        func abruptDisconnect(fullClose: Bool) async throws {
            // Heartbeats far away, so only noticing the end of the TCP stream can pass this test.
            try await TestServer.with(configure: {
                $0.heartbeatInterval = 600; $0.maxConnectionsPerIP = 1
            }) { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.sendJSON(["type": "subscribe", "data": ["channel": "feed"]])
                #expect(try await raw.nextJSON()["data"]?["status"] == "subscribed")
                if fullClose {
                    await raw.closeTCP()
                } else {
                    try await raw.channel.close(mode: .output).get()  // FIN only: a half-close
                }
                try await TestClient.poll(.seconds(15), "the server to notice the disconnect") {
                    server.server.activeConnections == 0 ? true : nil
                }
                #expect(try await server.server.roomCounts().isEmpty)
                if !fullClose { try await raw.waitForTCPClose() }
                try await server.expectRecovered()  // with max_connections_per_ip = 1: the address count is 0 again
            }
        }

        @Test("an empty close is answered with 1000; frames after the close are ignored")
        func emptyClose() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.write(
                    RawWebSocket.frame(opcode: RawWebSocket.Opcode.close)
                        + RawWebSocket.frame(opcode: RawWebSocket.Opcode.text, payload: pingEnvelope()))
                let close = try await raw.closeFrame()
                #expect(close.code == 1000)
                try await raw.waitForTCPClose()
                #expect(raw.unreadByteCount == 0, "no answer to the ping sent after the close")
                try await server.expectRecovered()
            }
        }
    }
}
