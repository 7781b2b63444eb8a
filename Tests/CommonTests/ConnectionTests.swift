import Common
import Testing
import TestSupport

@Suite("Connections over real sockets: welcome, subscribe, ping, errors (docs/protocol.md, Connecting and Client messages)")
struct ConnectionTests {
    @Test("the first frame is the welcome, with the reference's keys first")
    func welcome() async throws {
        try await TestServer.with { server in
            let client = try await TestClient.connect(server.wsURL)
            let text = try await client.nextText()
            #expect(text.hasPrefix(#"{"id":""#))
            #expect(text.hasSuffix(#","room":null,"error_code":null,"error_message":null}"#))
            let welcome = try JSONParser.parse(text).objectValue!
            #expect(welcome["type"] == "event")
            #expect(welcome["event"] == "session.created")
            #expect(welcome["correlation_id"] == .null)
            let data = welcome["data"]!.objectValue!
            #expect(
                Array(data.keys.prefix(6)) == ["connection_id", "server", "message", "authenticated", "secure", "rate_limit"])
            #expect(data["server"] == "test-service")
            #expect(data["message"] == "Connected to tests")
            #expect(data["authenticated"] == false)
            #expect(data["rate_limit"] == 100)
            #expect(data["connection_id"]?.stringValue?.count == 36)
            await client.close()
        }
    }

    @Test("both / and /ws accept WebSockets")
    func paths() async throws {
        try await TestServer.with { server in
            for path in ["/", "/ws", "/ws?token=abc"] {
                let client = try await TestClient.connect("ws://127.0.0.1:\(server.port)\(path)")
                #expect(try await client.next()["event"] == "session.created")
                await client.close()
            }
            await #expect(throws: (any Error).self) { try await TestClient.connect("ws://127.0.0.1:\(server.port)/other") }
        }
    }

    @Test(
        "subscribe in every accepted form",
        arguments: [
            ["type": "request", "event": "subscribe", "id": "sub_001", "data": ["channel": "feed"]] as JSONObject,
            ["type": "event", "event": "subscribe", "id": "sub_001", "data": ["room": "feed"]],
            ["type": "subscribe", "id": "sub_001", "data": ["channel": "feed"]],
            ["type": "subscribe", "id": "sub_001", "data": ["room": "feed"]],
            ["type": "request", "event": "subscribe", "id": "x", "correlation_id": "sub_001", "data": ["channel": "feed"]],
        ])
    func subscribeForms(frame: JSONObject) async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let reply = try await client.request(frame)
            #expect(reply["type"] == "response")
            #expect(reply["event"] == "subscribe")
            #expect(reply["correlation_id"] == "sub_001")
            #expect(reply["data"] == .object(["status": "subscribed", "channel": "feed"]))
            let receipt = try await server.server.publish(event: "feed.entry", room: "feed", data: ["text": "hello"])
            #expect(receipt.subscribers == 1)
            let event = try await client.next()
            #expect(event["room"] == "feed")
            #expect(event["data"]?["text"] == "hello")
            await client.close()
        }
    }

    @Test("unsubscribe in both forms stops delivery")
    func unsubscribe() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            _ = try await client.request(["type": "request", "event": "subscribe", "data": ["channel": "feed"]])
            let reply = try await client.request(["type": "unsubscribe", "id": "u1", "data": ["room": "feed"]])
            #expect(reply["data"] == .object(["status": "unsubscribed", "channel": "feed"]))
            #expect(reply["correlation_id"] == "u1")
            #expect(try await server.server.publish(event: "feed.entry", room: "feed", data: ["text": "x"]).subscribers == 0)
            #expect(await client.receivesNothing())
            await client.close()
        }
    }

    @Test(
        "subscribe without a usable channel is an error, never silence",
        arguments: [
            ["type": "request", "event": "subscribe", "id": "s"],
            ["type": "request", "event": "subscribe", "id": "s", "data": ["channel": ""]],
            ["type": "request", "event": "subscribe", "id": "s", "data": ["channel": 5]],
            ["type": "request", "event": "subscribe", "id": "s", "data": ["channel": "nope:1"]],
            ["type": "request", "event": "subscribe", "id": "s", "data": ["channel": "item:a b"]],
            ["type": "unsubscribe", "id": "s"],
        ] as [JSONObject])
    func badSubscribe(frame: JSONObject) async throws {
        let code = "INVALID_CHANNEL"
        try await TestServer.with { server in
            let client = try await server.client()
            let reply = try await client.request(frame)
            #expect(reply["type"] == "error")
            #expect(reply["error_code"] == .string(code))
            #expect(reply["correlation_id"] == "s")
            #expect(reply["error_message"]?.stringValue?.isEmpty == false)
            await client.close()
        }
    }

    @Test("ping gets pong with the correlation rule")
    func ping() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let byID = try await client.request(["type": "ping", "id": "health_check_1"])
            #expect(byID["type"] == "pong")
            #expect(byID["correlation_id"] == "health_check_1")
            let byCorrelation = try await client.request(["type": "ping", "id": "a", "correlation_id": "b"])
            #expect(byCorrelation["correlation_id"] == "b")
            await client.close()
        }
    }

    @Test("unknown requests and client events are UNKNOWN_REQUEST; replies from clients get no answer")
    func unknown() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let reply = try await client.request(["type": "request", "event": "get_nothing", "id": "r1"])
            #expect(reply["error_code"] == "UNKNOWN_REQUEST")
            #expect(reply["error_message"] == "Unknown request event: get_nothing")
            #expect(reply["correlation_id"] == "r1")
            let event = try await client.request(["type": "event", "event": "workflow.started", "id": "e1"])
            #expect(event["error_code"] == "UNKNOWN_REQUEST")
            try await client.send(["type": "pong"])
            try await client.send(["type": "ack", "correlation_id": "x"])
            try await client.send(["type": "response", "event": "x"])
            #expect(await client.receivesNothing())
            await client.close()
        }
    }

    @Test("get_status answers with the /health document, and replies keep their order around it")
    func getStatus() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await client.send(["type": "request", "event": "get_status", "id": "st"])
            try await client.send(["type": "ping", "id": "after"])
            let status = try await client.next()
            #expect(status["type"] == "response")
            #expect(status["event"] == "get_status")
            #expect(status["correlation_id"] == "st")
            #expect(status["data"]?["status"] == "healthy")
            #expect(status["data"]?["service"] == "test-service")
            #expect(status["data"]?["connections"] == 1)
            let pong = try await client.next()
            #expect(pong["type"] == "pong")
            #expect(pong["correlation_id"] == "after")
            await client.close()
        }
    }

    @Test("malformed frames get DECODE_ERROR and the connection stays open")
    func decodeErrors() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            for frame in [
                "not json", "[]", #"{"type":"REQUEST"}"#, #"{"type":"request","data":[]}"#, #"{"type":"request","id":1}"#,
            ] {
                try await client.send(frame)
                let reply = try await client.next()
                #expect(reply["type"] == "error")
                #expect(reply["error_code"] == "DECODE_ERROR")
                #expect(reply["correlation_id"] == .null)
            }
            #expect(try await client.request(["type": "ping", "id": "still"])["type"] == "pong")
            await client.close()
        }
    }

    @Test("the auth request is answered even when authentication is off")
    func authOff() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let reply = try await client.request(["type": "request", "event": "auth", "id": "a1", "data": ["token": "x"]])
            #expect(reply["type"] == "response")
            #expect(reply["data"]?["status"] == "auth_disabled")
            await client.close()
        }
    }
}
