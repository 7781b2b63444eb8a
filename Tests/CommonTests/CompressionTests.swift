@testable import Common
import CompressNIO
import Foundation
import NIOCore
import Testing
import TestSupport

/// permessage-deflate (RFC 7692): negotiation, compressed fan-out and what bad compressed input gets.
@Suite("Compression: permessage-deflate")
struct CompressionTests {
    static func negotiate(_ offers: String..., mode: CompressionSettings.Mode = .shared, window: Int = 12) -> PerMessageDeflate? {
        var settings = CompressionSettings()
        settings.mode = mode
        settings.windowBits = window
        return PerMessageDeflate.negotiate(offers: offers, settings: settings)
    }

    static let sharedAnswer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    @Test("Accepted offers get the exact response header")
    func acceptedOffers() {
        #expect(Self.negotiate("permessage-deflate")?.responseHeader == Self.sharedAnswer)
        #expect(Self.negotiate("permessage-deflate; client_max_window_bits")?.responseHeader == Self.sharedAnswer)
        #expect(Self.negotiate("permessage-deflate; client_max_window_bits=10")?.responseHeader == Self.sharedAnswer)
        #expect(Self.negotiate("permessage-deflate; client_no_context_takeover")?.responseHeader == Self.sharedAnswer)
        #expect(Self.negotiate("Permessage-Deflate; Server_No_Context_Takeover")?.responseHeader == Self.sharedAnswer)
        let limited = Self.negotiate("permessage-deflate; server_max_window_bits=10")
        #expect(limited?.responseHeader == Self.sharedAnswer + "; server_max_window_bits=10")
        #expect(limited?.serverWindowBits == 10)
        // Never more than our own window.
        #expect(
            Self.negotiate("permessage-deflate; server_max_window_bits=15")?.responseHeader == Self.sharedAnswer
                + "; server_max_window_bits=12")
        #expect(Self.negotiate(#"permessage-deflate; server_max_window_bits="9""#)?.serverWindowBits == 9)
        #expect(Self.negotiate("permessage-deflate")?.serverWindowBits == 12)
    }

    @Test("Offers with a bad, unknown or repeated parameter are declined; the next offer is tried")
    func declinedOffers() {
        for offer in [
            "permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=7", "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; mystery", "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "x-webkit-deflate-frame", "permessage-deflate; server_max_window_bits=1 0",
        ] {
            #expect(Self.negotiate(offer) == nil, "\(offer)")
        }
        // Several offers in one header, and over several header lines: the first acceptable one wins.
        #expect(
            Self.negotiate("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9")?
                .serverWindowBits == 9)
        #expect(Self.negotiate("x-webkit-deflate-frame", "permessage-deflate")?.responseHeader == Self.sharedAnswer)
        #expect(Self.negotiate("permessage-deflate", mode: .off) == nil)
    }

    @Test("dedicated keeps the server's context unless the client asks otherwise")
    func dedicatedMode() {
        let kept = Self.negotiate("permessage-deflate", mode: .dedicated)
        #expect(kept?.serverNoContextTakeover == false)
        #expect(kept?.responseHeader == "permessage-deflate; client_no_context_takeover")
        let reset = Self.negotiate("permessage-deflate; server_no_context_takeover", mode: .dedicated)
        #expect(reset?.serverNoContextTakeover == true)
        #expect(reset?.responseHeader == Self.sharedAnswer)
    }

    // MARK: Over real sockets

    static let offer = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
    /// A payload well above the threshold that compresses well, as the services' JSON does.
    static let entry = String(repeating: "test_login failed: AssertionError at line 42; ", count: 40)

    /// A compressing client: upgraded with the offer, the (compressed) welcome read and checked.
    static func compressingClient(_ server: TestServer) async throws -> RawWebSocket {
        let socket = try await RawWebSocket.connect(port: server.port)
        let response = try await socket.upgrade(headers: offer)
        #expect(response.status == 101)
        #expect(response.headers["sec-websocket-extensions"] == sharedAnswer)
        let welcome = try await socket.nextFrame()
        #expect(welcome.rsv == 4, "the welcome is larger than the threshold: compressed")
        #expect(String(decoding: try inflate(welcome.payload), as: UTF8.self).contains("session.created"))
        return socket
    }

    @Test("A broadcast reaches compressing and plain subscribers as the same JSON; requests may come compressed")
    func compressedFanOut() async throws {
        try await TestServer.with { server in
            let compressed = try await Self.compressingClient(server)
            let plain = try await RawWebSocket.open(port: server.port)
            // A compressed subscribe request, then a plain one.
            try await compressed.send(
                opcode: RawWebSocket.Opcode.text, payload: try Self.deflate(#"{"type":"subscribe","data":{"channel":"feed"}}"#),
                rsv: 4)
            try await plain.sendText(#"{"type":"subscribe","data":{"channel":"feed"}}"#)
            for socket in [compressed, plain] {
                let reply = try await socket.nextFrame()
                let text = String(decoding: reply.rsv == 4 ? try Self.inflate(reply.payload) : reply.payload, as: UTF8.self)
                #expect(text.contains(#""type":"response""#))
            }
            let body = JSONWriter.string(
                ["room": "feed", "event": "feed.entry", "data": ["text": .string(Self.entry)]] as JSONObject)
            _ = try await HTTP.post(server.httpURL + "/api/events", json: body)
            let deflated = try await compressed.nextFrame()
            let original = try await plain.nextFrame()
            #expect(deflated.rsv == 4)
            #expect(deflated.payload.count * 5 < original.payload.count, "\(deflated.payload.count) vs \(original.payload.count)")
            #expect(try Self.inflate(deflated.payload) == original.payload)
            #expect(original.rsv == 0)
        }
    }

    @Test("dedicated: a connection's own context carries over messages and is counted")
    func dedicatedContext() async throws {
        try await TestServer.with(configure: { $0.compression.mode = .dedicated }) { server in
            let socket = try await RawWebSocket.connect(port: server.port)
            let response = try await socket.upgrade(headers: Self.offer)
            #expect(response.headers["sec-websocket-extensions"] == "permessage-deflate; client_no_context_takeover")
            let inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
            _ = try Self.inflate(try await socket.nextFrame().payload, with: inflater)
            try await socket.sendText(#"{"type":"subscribe","data":{"channel":"feed"}}"#)
            let reply = try await socket.nextFrame()
            if reply.rsv == 4 { _ = try Self.inflate(reply.payload, with: inflater) }  // the window must see it too
            var sizes: [Int] = []
            for _ in 0..<2 {
                let body = JSONWriter.string(
                    ["room": "feed", "event": "feed.entry", "data": ["text": .string(Self.entry)]] as JSONObject)
                _ = try await HTTP.post(server.httpURL + "/api/events", json: body)
                let frame = try await socket.nextFrame()
                #expect(frame.rsv == 4)
                let json = try JSONParser.parse(ByteBuffer(bytes: try Self.inflate(frame.payload, with: inflater)))
                #expect(json["data"]?["text"] == .string(Self.entry))
                sizes.append(frame.payload.count)
            }
            #expect(sizes[1] < sizes[0], "the second message refers back to the first: \(sizes)")
            let metrics = try await HTTP.getText(server.httpURL + "/metrics")
            #expect(metrics.contains("websocket_compression_contexts{server=\"test-service\"} 1"))
        }
    }

    @Test("Bad compressed input: RSV1 where it does not belong 1002, broken deflate 1007, a bomb 1009")
    func badCompressedInput() async throws {
        try await TestServer.with(configure: { $0.maxMessageSize = 64 << 10 }) { server in
            typealias Op = RawWebSocket.Opcode
            let cases: [(String, (RawWebSocket) async throws -> Void, UInt16, String)] = [
                ("RSV1 on a ping", { try await $0.send(opcode: Op.ping, payload: [1], rsv: 4) }, 1002, "RSV1"),
                (
                    "RSV1 on a continuation",
                    { socket in
                        try await socket.send(
                            opcode: Op.text, payload: Array(try Self.deflate(#"{"type":"ping"}"#).prefix(3)), fin: false, rsv: 4)
                        try await socket.send(opcode: Op.continuation, payload: [0], rsv: 4)
                    }, 1002, "RSV1"
                ),
                (
                    "not deflate data", { try await $0.send(opcode: Op.text, payload: [0xFF, 0xFF, 0xFF, 0x07, 0x00], rsv: 4) },
                    1007, "Invalid compressed data"
                ),
                (
                    "16 MiB of zeros in 16 KiB",
                    { socket in
                        let bomb = try Self.deflate(bytes: [UInt8](repeating: 0x20, count: 16 << 20))
                        #expect(bomb.count < 64 << 10)
                        try await socket.send(opcode: Op.text, payload: bomb, rsv: 4)
                    }, 1009, "Message too big"
                ),
            ]
            for (name, send, code, reason) in cases {
                let socket = try await Self.compressingClient(server)
                try await send(socket)
                let close = try await socket.closeFrame()
                #expect(close.code == code, "\(name)")
                #expect(close.reason.contains(reason), "\(name): \(close.reason)")
                await socket.closeTCP()
            }
            // The server is unharmed: a new compressing client still works.
            let socket = try await Self.compressingClient(server)
            await socket.closeTCP()
        }
    }

    // MARK: The client side of deflate, for the tests

    static func deflate(_ text: String) throws -> [UInt8] { try deflate(bytes: Array(text.utf8)) }

    static func deflate(bytes: [UInt8]) throws -> [UInt8] {
        let compressor = try ZlibCompressor(algorithm: .deflate)
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBuffer()
        output.reserveCapacity(compressor.maxSize(from: input))
        try compressor.deflate(from: &input, to: &output, flush: .sync)
        return Array(output.readableBytesView.dropLast(4))  // RFC 7692 §7.2.1: the sync flush's tail goes
    }

    static func inflate(_ payload: [UInt8], with inflater: ZlibDecompressor? = nil) throws -> [UInt8] {
        let inflater = try inflater ?? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        var input = ByteBuffer(bytes: payload + [0, 0, 0xFF, 0xFF])
        var output = ByteBuffer()
        output.reserveCapacity(max(4096, payload.count * 50))
        try inflater.inflate(from: &input, to: &output)
        return Array(output.readableBytesView)
    }
}
