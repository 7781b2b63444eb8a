import Common
import Testing
import TestSupport

extension HostileInputTests {
    /// Well-framed messages with bad content: an error reply, and the connection stays open (docs/protocol.md, "Envelope").
    @Suite("Bad messages get an error reply and the connection stays open")
    struct Messages {
        @Test(
            "frames that are not a valid envelope get DECODE_ERROR",
            arguments: [
                // invalid JSON
                "not json", "{", #"{"type":"ping""#, #"{"type":"ping",}"#, #"{'type':'ping'}"#, "", " ",
                #"{"type":"ping","id":"a"} trailing"#, String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
                // not an object
                "[]", "5", #""ping""#, "null", "true",
                // data that is not an object
                #"{"type":"request","event":"subscribe","data":[]}"#, #"{"type":"request","data":"x"}"#,
                #"{"type":"subscribe","data":null}"#, #"{"type":"ping","data":5}"#,
                // wrong field types
                #"{"type":"request","id":1}"#, #"{"type":5}"#, #"{"type":null}"#, #"{"type":"ping","event":5}"#,
                #"{"type":"ping","correlation_id":true}"#, #"{"type":"ping","room":[]}"#, #"{"type":"ping","timestamp":1}"#,
                #"{"type":"ping","error_code":{}}"#,
                // wrong-case, missing or unknown type
                #"{"type":"PING","id":"a"}"#, #"{"type":"Subscribe","data":{"channel":"feed"}}"#, #"{"type":"REQUEST"}"#,
                #"{"id":"a"}"#, #"{"type":"publish"}"#,
            ])
        func decodeError(frame: String) async throws {
            try await TestServer.with { server in
                let client = try await server.client()
                try await client.send(frame)
                let reply = try await client.next()
                #expect(reply["type"] == "error")
                #expect(reply["error_code"] == "DECODE_ERROR")
                #expect(reply["error_message"]?.stringValue?.isEmpty == false)
                #expect(reply["correlation_id"] == .null)
                #expect(try await client.request(["type": "ping", "id": "after"])["correlation_id"] == "after")
                await client.close()
                try await server.expectRecovered()
            }
        }

        @Test(
            "unknown requests and client events get UNKNOWN_REQUEST",
            arguments: [
                (["type": "request", "event": "no_such_request", "id": "u1"], "Unknown request event: no_such_request"),
                (
                    ["type": "request", "event": "SUBSCRIBE", "id": "u1", "data": ["channel": "feed"]],
                    "Unknown request event: SUBSCRIBE"
                ),
                (["type": "request", "id": "u1"], nil),
                (["type": "event", "event": "item.changed", "id": "u1"], nil),
                (["type": "event", "event": "publish", "id": "u1", "data": ["room": "feed"]], nil),
            ] as [(JSONObject, String?)])
        func unknownRequest(frame: JSONObject, message: String?) async throws {
            try await TestServer.with { server in
                let client = try await server.client()
                let reply = try await client.request(frame)
                #expect(reply["type"] == "error")
                #expect(reply["error_code"] == "UNKNOWN_REQUEST")
                #expect(reply["correlation_id"] == "u1")
                if let message { #expect(reply["error_message"] == .string(message)) }
                #expect(try await client.request(["type": "ping", "id": "after"])["correlation_id"] == "after")
                await client.close()
                try await server.expectRecovered()
            }
        }

        @Test("a binary frame of garbage gets DECODE_ERROR (not a close) and the connection stays open")
        func binaryGarbage() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                for garbage: [UInt8] in [[0xFF, 0xFE, 0x00, 0x80, 0xC3], [0x00], Array("\u{1}\u{2}{}".utf8)] {
                    try await raw.send(opcode: RawWebSocket.Opcode.binary, payload: garbage)
                    let reply = try await raw.nextJSON()
                    #expect(reply["type"] == "error")
                    #expect(reply["error_code"] == "DECODE_ERROR")
                }
                try await raw.sendJSON(["type": "ping", "id": "after"])
                #expect(try await raw.nextJSON()["correlation_id"] == "after")
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }

        @Test("a binary frame holding a valid envelope is handled like text, and answered in text")
        func binaryJSON() async throws {
            try await TestServer.with { server in
                let raw = try await RawWebSocket.open(server)
                try await raw.sendJSON(["type": "ping", "id": "bin"], opcode: RawWebSocket.Opcode.binary)
                let pong = try await raw.nextJSON()  // nextJSON requires a text frame
                #expect(pong["type"] == "pong")
                #expect(pong["correlation_id"] == "bin")
                try await raw.sendJSON(
                    ["type": "subscribe", "id": "bs", "data": ["channel": "feed"]], opcode: RawWebSocket.Opcode.binary)
                let subscribed = try await raw.nextJSON()
                #expect(subscribed["data"] == .object(["status": "subscribed", "channel": "feed"]))
                #expect(try await server.server.publish(event: "feed.entry", room: "feed", data: ["text": "t"]).subscribers == 1)
                #expect(try await raw.nextJSON()["event"] == "feed.entry")
                try await raw.closeCleanly()
                try await server.expectRecovered()
            }
        }
    }
}
