import Common
import Testing
import TestSupport

/// Positions (`seq`, `epoch`) on room events and resume with `subscribe` + `data.since` (docs/scaling.md, docs/clients.md "What resume guarantees").
@Suite("Resume from a position")
struct ResumeTests {
    func subscribe(_ client: TestClient, _ room: String, since: (Int, String)? = nil) async throws -> JSONObject {
        var data: JSONObject = ["channel": .string(room)]
        if let since { data["since"] = ["seq": JSONValue(since.0), "epoch": .string(since.1)] }
        return try await client.request(["type": "request", "event": "subscribe", "id": "s", "data": .object(data)])
    }

    func publish(_ server: TestServer, _ n: Int, room: String = "feed") async throws {
        _ = try await server.server.publish(event: "feed.entry", room: room, data: ["text": .string("e\(n)")])
    }

    @Test("room events carry seq (one more each time) and epoch after the nine keys")
    func positions() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let reply = try await subscribe(client, "feed")
            #expect(reply["data"]?["seq"] == nil, "an unused room has no position yet")
            for n in 1...3 { try await publish(server, n) }
            var epoch: String?
            for n in 1...3 {
                let text = try await client.nextText()
                #expect(text.contains(#""error_message":null,"seq":\#(n),"epoch":""#), "\(text)")
                let event = try JSONParser.parse(text)
                #expect(event["seq"] == JSONValue(n))
                epoch = epoch ?? event["epoch"]?.stringValue
                #expect(event["epoch"]?.stringValue == epoch)
            }
            let again = try await server.client()
            let position = try await subscribe(again, "feed")
            #expect(position["data"]?["seq"] == 3)
            #expect(position["data"]?["epoch"]?.stringValue == epoch)
            #expect(position["data"]?["recovered"] == nil, "old clients see no new key unless they ask")
        }
    }

    @Test("a client that comes back with its position gets what it missed, in order, then live events")
    func recover() async throws {
        try await TestServer.with { server in
            let first = try await server.client()
            _ = try await subscribe(first, "feed")
            for n in 1...5 { try await publish(server, n) }
            var last: JSONObject = [:]
            for _ in 1...5 { last = try await first.next() }
            let epoch = last["epoch"]!.stringValue!
            await first.close()
            for n in 6...10 { try await publish(server, n) }
            let back = try await server.client()
            let reply = try await subscribe(back, "feed", since: (5, epoch))
            #expect(reply["data"]?["recovered"] == true)
            #expect(reply["data"]?["seq"] == 10)
            for n in 6...10 { #expect(try await back.next()["seq"] == JSONValue(n)) }
            try await publish(server, 11)
            #expect(try await back.next()["seq"] == 11)
            #expect(await back.receivesNothing(for: .milliseconds(100)))
        }
    }

    @Test("a position that is too old, from another epoch, or ahead is not recovered; the reply says where the room is")
    func notRecovered() async throws {
        try await TestServer.with(configure: { $0.historySize = 3 }) { server in
            let client = try await server.client()
            _ = try await subscribe(client, "feed")
            for n in 1...10 { try await publish(server, n) }
            var epoch = ""
            for _ in 1...10 { epoch = try await client.next()["epoch"]?.stringValue ?? "" }
            for since in [(2, epoch), (8, "other"), (50, epoch)] {
                let late = try await server.client()
                let reply = try await subscribe(late, "feed", since: since)
                #expect(reply["data"]?["recovered"] == false, "\(since)")
                #expect(reply["data"]?["seq"] == 10)
                #expect(reply["data"]?["epoch"]?.stringValue == epoch)
                #expect(await late.receivesNothing(for: .milliseconds(100)), "nothing replayed")
                await late.close()
            }
            let recent = try await server.client()
            #expect(try await subscribe(recent, "feed", since: (7, epoch))["data"]?["recovered"] == true)
            for n in 8...10 { #expect(try await recent.next()["seq"] == JSONValue(n)) }
            let bad = try await client.request(["type": "subscribe", "data": ["channel": "global", "since": ["seq": "x"]]])
            #expect(bad["error_code"] == "VALIDATION_ERROR")
        }
    }

    @Test("resuming while events keep coming: no duplicate, no gap", arguments: [1, 2])
    func resumeUnderTraffic(threads: Int) async throws {
        try await TestServer.with(configure: {
            $0.eventLoopThreads = threads; $0.historySize = 1000
        }) { server in
            let watcher = try await server.client()
            _ = try await subscribe(watcher, "feed")
            let total = 400
            let publisher = Task {
                for n in 1...total { try await publish(server, n) }
            }
            // Wait until some events went out, then resume from a point in the middle of the stream.
            let first = try await watcher.next()
            let epoch = first["epoch"]!.stringValue!
            let resumer = try await server.client()
            let reply = try await subscribe(resumer, "feed", since: (1, epoch))
            #expect(reply["data"]?["recovered"] == true)
            try await publisher.value
            var expected = 2
            while expected <= total {
                let event = try await resumer.next()
                #expect(event["seq"] == JSONValue(expected), "seq \(event["seq"] ?? .null), expected \(expected)")
                if event["seq"] != JSONValue(expected) { break }
                expected += 1
            }
            #expect(await resumer.receivesNothing(for: .milliseconds(100)), "no duplicate at the end")
        }
    }
}
