import Common
import Testing
import TestSupport

@Suite("Producers: POST /api/events and the publish request (docs/protocol.md, Publishing over HTTP)")
struct PublishTests {
    func subscribedClient(_ server: TestServer, _ room: String) async throws -> TestClient {
        let client = try await server.client()
        _ = try await client.request(["type": "request", "event": "subscribe", "data": ["channel": .string(room)]])
        return client
    }

    @Test("HTTP publish of one event returns the subscriber count")
    func httpSingle() async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "item:9")
            let response = try await HTTP.post(
                server.httpURL + "/api/events",
                json: #"{"room":"item:9","event":"item.changed","data":{"item_id":"9","value":1}}"#)
            #expect(response.status == 200)
            #expect(
                response.body == .object(["status": "published", "event": "item.changed", "room": "item:9", "subscribers": 1]))
            let event = try await client.next()
            #expect(event["event"] == "item.changed")
            #expect(event["data"]?["value"] == 1)
            await client.close()
        }
    }

    @Test("HTTP publish of a batch delivers each, in order")
    func httpBatch() async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "feed")
            let response = try await HTTP.post(
                server.httpURL + "/api/events",
                json:
                    #"[{"room":"feed","event":"feed.entry","data":{"text":"a"}},{"room":"feed","event":"feed.entry","data":{"text":"b"}},{"room":"global","event":"x"}]"#
            )
            #expect(response.status == 200)
            #expect(response.body["count"] == 3)
            #expect(try await client.next()["data"]?["text"] == "a")
            #expect(try await client.next()["data"]?["text"] == "b")
            await client.close()
        }
    }

    @Test("a batch with refused items delivers the valid ones in order, with consecutive positions, and a result per item")
    func batchPartial() async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "feed")
            let body =
                #"[{"room":"feed","event":"feed.entry","data":{"text":"a"}},{"room":"feed","event":"feed.entry"},1,"#
                + #"{"room":"nowhere","event":"x"},{"room":"feed","event":"feed.entry","data":{"text":"b"}}]"#
            let response = try await HTTP.post(server.httpURL + "/api/events", json: body)
            #expect(response.status == 200)
            #expect(response.body["status"] == "partial" && response.body["count"] == 2 && response.body["refused"] == 3)
            let results = response.body["results"]?.arrayValue ?? []
            #expect(results.map { $0["status"] } == ["published", "refused", "refused", "refused", "published"])
            #expect(
                results.map { $0["error_code"] ?? .null } == [
                    .null, "VALIDATION_ERROR", "DECODE_ERROR", "INVALID_CHANNEL", .null,
                ])
            #expect(results.map { $0["index"] } == [0, 1, 2, 3, 4])
            let a = try await client.next(), b = try await client.next()
            #expect(a["data"]?["text"] == "a" && b["data"]?["text"] == "b")
            #expect(Int(b["seq"]?.intValue ?? 0) == Int(a["seq"]?.intValue ?? 0) + 1, "consecutive positions")
            #expect(await client.receivesNothing())

            // The same batch over the publish request: one ack with the same results.
            let publisher = try await server.client()
            let ack = try await publisher.request([
                "type": "request", "event": "publish", "id": "b1", "data": ["events": try JSONParser.parse(body)],
            ])
            #expect(ack["type"] == "ack" && ack["correlation_id"] == "b1")
            #expect(ack["data"]?["results"]?.arrayValue?.map { $0["status"] } == results.map { $0["status"] })
            #expect(try await client.next()["data"]?["text"] == "a")
            #expect(try await client.next()["data"]?["text"] == "b")
            await publisher.close()
            await client.close()
        }
    }

    @Test("a batch over publish_batch_max is refused whole (422 / VALIDATION_ERROR) and delivers nothing")
    func batchTooLarge() async throws {
        try await TestServer.with(configure: { $0.publishBatchMax = 3 }) { server in
            let client = try await subscribedClient(server, "feed")
            let item = #"{"room":"feed","event":"feed.entry","data":{"text":"a"}}"#
            let response = try await HTTP.post(
                server.httpURL + "/api/events", json: "[" + Array(repeating: item, count: 4).joined(separator: ",") + "]")
            #expect(response.status == 422 && response.body["error_code"] == "VALIDATION_ERROR")
            #expect(response.body["error_message"] == "A batch holds at most 3 events (publish_batch_max), got 4")
            #expect(await client.receivesNothing())
            await client.close()
        }
    }

    @Test(
        "a bad HTTP publish is refused and delivers nothing",
        arguments: [
            ("not json", 400, "DECODE_ERROR"),
            (#"{"room":"feed"}"#, 422, "VALIDATION_ERROR"),
            (#"{"room":"feed","event":"feed.entry","data":{"text":5}}"#, 422, "VALIDATION_ERROR"),
            (#"{"room":"feed","event":"feed.entry","data":[]}"#, 422, "VALIDATION_ERROR"),
            (#"{"room":"nowhere","event":"feed.entry","data":{}}"#, 422, "INVALID_CHANNEL"),
        ])
    func httpInvalid(body: String, status: Int, code: String) async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "feed")
            let response = try await HTTP.post(server.httpURL + "/api/events", json: body)
            #expect(response.status == status)
            #expect(response.body["error_code"] == .string(code))
            #expect(await client.receivesNothing())
            await client.close()
        }
    }

    @Test("HTTP bodies over max_message_size are refused with 413")
    func httpTooLarge() async throws {
        try await TestServer.with(configure: { $0.maxMessageSize = 1024 }) { server in
            let big = #"{"room":"global","event":"x","data":{"pad":""# + String(repeating: "a", count: 2000) + #""}}"#
            let response = try await HTTP.post(server.httpURL + "/api/events", json: big)
            #expect(response.status == 413)
            #expect(response.body["error_code"] == "MESSAGE_TOO_LARGE")
        }
    }

    @Test("publish request: subscribers get the event, the publisher an ack with the count")
    func publishRequest() async throws {
        try await TestServer.with { server in
            let subscriber = try await subscribedClient(server, "global")
            let publisher = try await server.client()
            let ack = try await publisher.request([
                "type": "request", "event": "publish", "id": "p1",
                "data": ["room": "global", "event": "bench.tick", "data": ["n": 1]],
            ])
            #expect(ack["type"] == "ack")
            #expect(ack["correlation_id"] == "p1")
            #expect(ack["data"]?["subscribers"] == 1)
            let event = try await subscriber.next()
            #expect(event["event"] == "bench.tick")
            #expect(event["room"] == "global")
            #expect(event["data"]?["n"] == 1)
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test("an invalid publish request is VALIDATION_ERROR and delivers nothing")
    func publishRequestInvalid() async throws {
        try await TestServer.with { server in
            let subscriber = try await subscribedClient(server, "item:1")
            let publisher = try await server.client()
            for data: JSONObject in [
                ["room": "item:1", "event": "item.changed", "data": ["item_id": "1"]],
                ["room": "item:1", "event": "nope", "data": [:]],
                ["room": "item:1"],
                ["room": "item:1", "event": "item.changed", "data": "text"],
            ] {
                let reply = try await publisher.request(["type": "request", "event": "publish", "id": "p", "data": .object(data)])
                #expect(reply["type"] == "error")
                #expect(reply["error_code"] == "VALIDATION_ERROR")
                #expect(reply["correlation_id"] == "p")
            }
            #expect(await subscriber.receivesNothing())
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test("events without a name: accepted where the channel declares one, delivered with event null, refused elsewhere")
    func unnamedEvents() async throws {
        try await TestServer.with { server in
            let subscriber = try await subscribedClient(server, "search:h1")
            let publisher = try await server.client()
            let ack = try await publisher.request([
                "type": "request", "event": "publish", "id": "u1",
                "data": ["room": "search:h1", "event": .null, "data": ["payload": ["hits": 2]]],
            ])
            #expect(ack["type"] == "ack")
            #expect(ack["data"]?["event"] == .null)
            #expect(ack["data"]?["subscribers"] == 1)
            let event = try await subscriber.next()
            #expect(event["type"] == "event")
            #expect(event["event"] == .null)
            #expect(event["room"] == "search:h1")
            #expect(event["data"] == ["payload": ["hits": 2]], "delivered as sent: no timestamp added")

            let http = try await HTTP.post(server.httpURL + "/api/events", json: #"{"room":"search:h1","data":{"payload":{}}}"#)
            #expect(http.status == 200)
            #expect(http.body["event"] == .null)
            #expect(try await subscriber.next()["event"] == .null)

            for (room, data): (String, JSONObject) in [("feed", ["text": "x"]), ("global", [:]), ("search:h1", ["payload": 1])] {
                let refused = try await publisher.request([
                    "type": "request", "event": "publish", "id": "u2",
                    "data": ["room": .string(room), "event": .null, "data": .object(data)],
                ])
                #expect(refused["error_code"] == "VALIDATION_ERROR", "\(room)")
            }
            let wrongType = try await publisher.request([
                "type": "request", "event": "publish", "id": "u3", "data": ["room": "search:h1", "event": 5, "data": [:]],
            ])
            #expect(wrongType["error_message"] == "'event' must be a string or null, got integer")
            #expect(await subscriber.receivesNothing())
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test("a producer's burst with default settings: 2000 publishes, 64 in flight, all acknowledged and delivered")
    func producerBurst() async throws {
        try await TestServer.with { server in
            let subscriber = try await subscribedClient(server, "global")
            let producer = try await server.client()
            let total = 2000, window = 64
            var sent = 0, acked = 0
            func publish() async throws {
                sent += 1
                try await producer.send([
                    "type": "request", "event": "publish", "id": .string("p\(sent)"),
                    "data": ["room": "global", "event": "burst.tick", "data": ["n": JSONValue(sent)]],
                ])
            }
            while sent < window { try await publish() }
            while acked < total {
                let reply = try await producer.next()
                #expect(reply["type"] == "ack", "\(reply)")
                guard reply["type"] == "ack" else { break }
                acked += 1
                if sent < total { try await publish() }
            }
            var received: [Int] = []
            while received.count < total { received.append(Int(try await subscriber.next()["data"]?["n"]?.intValue ?? 0)) }
            #expect(received == Array(1...total))
            // The subscriber's own message budget is untouched by the producer.
            #expect(try await subscriber.request(["type": "ping", "id": "still"])["type"] == "pong")
            await subscriber.close()
            await producer.close()
        }
    }

    @Test(
        "past publish_rate_limit a producer gets RATE_LIMIT_EXCEEDED with a retry hint, stays connected, and nothing accepted is lost"
    )
    func publishBudget() async throws {
        try await TestServer.with(configure: { $0.publishRateLimit = 10 }) { server in
            let subscriber = try await subscribedClient(server, "global")
            let producer = try await server.client()
            for n in 1...40 {
                try await producer.send([
                    "type": "request", "event": "publish", "id": .string("p\(n)"),
                    "data": ["room": "global", "event": "t", "data": ["n": JSONValue(n)]],
                ])
            }
            var acked: [Int] = [], limited = 0
            for _ in 1...40 {
                let reply = try await producer.next()
                if reply["type"] == "ack" {
                    acked.append(Int(reply["correlation_id"]?.stringValue?.dropFirst() ?? "") ?? 0)
                } else {
                    #expect(reply["error_code"] == "RATE_LIMIT_EXCEEDED")
                    #expect(reply["error_message"]?.stringValue?.hasPrefix("Publish rate limit exceeded. Retry after ") == true)
                    limited += 1
                }
            }
            #expect(acked.count >= 15 && acked.count < 40 && limited == 40 - acked.count, "burst 15, then refusals")
            var received: [Int] = []
            for _ in acked { received.append(Int(try await subscriber.next()["data"]?["n"]?.intValue ?? 0)) }
            #expect(received == acked, "every accepted event delivered, in order")
            #expect(try await producer.request(["type": "ping", "id": "open"])["type"] == "pong", "not closed")
            await subscriber.close()
            await producer.close()
        }
    }

    @Test("the publisher's own subscription receives its event before the ack")
    func publisherSubscribed() async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "global")
            try await client.send(["type": "request", "event": "publish", "id": "p", "data": ["room": "global", "event": "e"]])
            #expect(try await client.next()["type"] == "event")
            #expect(try await client.next()["type"] == "ack")
            await client.close()
        }
    }

    @Test("events of several rooms reach a member of all of them in publish order (batched per room, never reordered)")
    func crossRoomOrder() async throws {
        try await TestServer.with { server in
            let client = try await subscribedClient(server, "feed")
            _ = try await client.request(["type": "subscribe", "data": ["channel": "global"]])
            var batch: [String] = []
            for n in 0..<30 {
                let room = [0, 1, 2, 5, 6].contains(n % 7) ? "feed" : "global"
                let event = room == "feed" ? "feed.entry" : "tick"
                batch.append(#"{"room":"\#(room)","event":"\#(event)","data":{"text":"\#(n)"}}"#)
            }
            let response = try await HTTP.post(server.httpURL + "/api/events", json: "[" + batch.joined(separator: ",") + "]")
            #expect(response.status == 200)
            for n in 0..<30 { #expect(try await client.next()["data"]?["text"] == .string("\(n)")) }
            await client.close()
        }
    }
}
