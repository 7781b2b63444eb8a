import Common
import Testing
import TestSupport

extension HostileInputTests {
    /// `max_message_size` applies to single frames and to reassembled fragments: one byte over closes with
    /// 1009 `Message too big`; exactly the limit is answered.
    @Suite("Messages over max_message_size close with 1009")
    struct Size {
        static let limit = 4096
        typealias Op = RawWebSocket.Opcode

        static func small(_ settings: inout Settings) { settings.maxMessageSize = limit }

        @Test("a single frame of exactly max_message_size is answered; one byte more closes with 1009")
        func singleFrame() async throws {
            try await TestServer.with(configure: Self.small) { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.send(opcode: Op.text, payload: pingEnvelope(id: "at-limit", size: Self.limit))
                #expect(try await raw.nextJSON()["correlation_id"] == "at-limit")
                try await raw.send(opcode: Op.text, payload: pingEnvelope(id: "over", size: Self.limit + 1))
                try await raw.expectClose(1009, reason: "Message too big")
                try await server.expectRecovered()
            }
        }

        @Test("a binary frame one byte over the limit closes with 1009 too")
        func binaryFrame() async throws {
            try await TestServer.with(configure: Self.small) { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.send(opcode: Op.binary, payload: Array(repeating: 0, count: Self.limit + 1))
                try await raw.expectClose(1009, reason: "Message too big")
                try await server.expectRecovered()
            }
        }

        @Test("fragments adding up to exactly the limit are answered; one byte more closes with 1009")
        func fragments() async throws {
            try await TestServer.with(configure: Self.small) { server in
                let raw = try await RawWebSocket.open(server)
                for (id, size) in [("frag-at-limit", Self.limit), ("frag-over", Self.limit + 1)] {
                    let message = pingEnvelope(id: id, size: size)
                    // Three fragments of at most 2000 bytes: none is over the limit on its own.
                    try await raw.send(opcode: Op.text, payload: Array(message[..<2000]), fin: false)
                    try await raw.send(opcode: Op.continuation, payload: Array(message[2000..<4000]), fin: false)
                    try await raw.send(opcode: Op.continuation, payload: Array(message[4000...]), fin: true)
                    if size == Self.limit { #expect(try await raw.nextJSON()["correlation_id"] == "frag-at-limit") }
                }
                try await raw.expectClose(1009, reason: "Message too big")
                try await server.expectRecovered()
            }
        }

        @Test("many small fragments over the limit close with 1009 before the message ends")
        func manySmallFragments() async throws {
            try await TestServer.with(configure: Self.small) { server in
                let raw = try await RawWebSocket.open(server)
                var bytes = RawWebSocket.frame(opcode: Op.binary, payload: [0x20], fin: false)
                for _ in 0..<(Self.limit / 64 + 1) {
                    bytes += RawWebSocket.frame(opcode: Op.continuation, payload: Array(repeating: 0x20, count: 64), fin: false)
                }
                try await raw.write(bytes)  // no final fragment: the limit must be enforced while reassembling
                try await raw.expectClose(1009, reason: "Message too big")
                try await server.expectRecovered()
            }
        }

        @Test("a frame header announcing more than the limit closes with 1009 before any payload arrives")
        func announcedLength() async throws {
            try await TestServer.with(configure: Self.small) { server in
                let raw = try await RawWebSocket.open(server)
                let header = RawWebSocket.frame(opcode: Op.text, payload: [], length: UInt64(Self.limit + 1))
                try await raw.write(header)
                try await raw.expectClose(1009, reason: "Message too big")
                try await server.expectRecovered()
            }
        }

        @Test("a 64-bit length with the top bit set is refused (1009 or 1002)")
        func hugeLength() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.write(RawWebSocket.frame(opcode: Op.binary, payload: [], length: UInt64.max))
                let close = try await raw.closeFrame()
                #expect(close.code == 1009 || close.code == 1002, "got \(String(describing: close.code)) '\(close.reason)'")
                try await raw.waitForTCPClose()
                try await server.expectRecovered()
            }
        }

        @Test("the default limit: 1 MiB is answered, 1 MiB + 1 closes with 1009, as one frame and as fragments")
        func oneMebibyte() async throws {
            try await TestServer.with { server in
                let limit = 1 << 20
                #expect(server.server.settings.maxMessageSize == limit)
                let raw = try await RawWebSocket.open(server)
                try await raw.send(opcode: Op.text, payload: pingEnvelope(id: "mib", size: limit))
                #expect(try await raw.nextJSON(timeout: .seconds(20))["correlation_id"] == "mib")
                try await raw.send(opcode: Op.text, payload: pingEnvelope(id: "mib-over", size: limit + 1))
                try await raw.expectClose(1009, reason: "Message too big", timeout: .seconds(20))

                let fragmented = try await RawWebSocket.open(server)
                let message = pingEnvelope(id: "mib-frag", size: limit + 1)
                let half = message.count / 2
                try await fragmented.write(
                    RawWebSocket.frame(opcode: Op.text, payload: Array(message[..<half]), fin: false)
                        + RawWebSocket.frame(opcode: Op.continuation, payload: Array(message[half...]), fin: true))
                try await fragmented.expectClose(1009, reason: "Message too big", timeout: .seconds(20))
                try await server.expectRecovered()
            }
        }
    }
}
