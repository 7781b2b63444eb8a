import Common
import Foundation
import Testing
import TestSupport

/// Several instances of one service sharing a real redis-server (docs/scaling.md).
@Suite("Scale-out over Redis", .enabled(if: RedisProcess.isAvailable, "needs redis-server (scripts/test installs it)"))
struct ClusterTests {
    static func clustered(_ redis: RedisProcess) -> (inout Settings) -> Void {
        { settings in
            settings.broker = "redis"
            settings.redisURL = redis.url
            settings.presenceTTL = 2
            settings.eventLoopThreads = 1
        }
    }

    func subscribed(_ server: TestServer, _ room: String) async throws -> TestClient {
        let client = try await server.client()
        let reply = try await client.request(["type": "subscribe", "data": ["channel": .string(room)]])
        #expect(reply["type"] == "response")
        return client
    }

    /// `count` instances with default cluster settings on `redis`, each connected to it.
    static func instances(_ count: Int, sharing redis: RedisProcess) async throws -> [TestServer] {
        var servers: [TestServer] = []
        for _ in 0..<count { servers.append(try await TestServer.start(configure: clustered(redis))) }
        try await ClusterTests().waitForCluster(servers)
        return servers
    }

    func waitForCluster(_ servers: [TestServer]) async throws {
        try await TestClient.poll(.seconds(10), "every instance to join Redis") { () async throws -> Bool? in
            for server in servers {
                guard try await HTTP.get(server.httpURL + "/ready").status == 200 else { return nil }
            }
            return true
        }
    }

    @Test("an event published on any instance reaches subscribers on every instance exactly once, in order")
    func crossInstanceDelivery() async throws {
        let redis = try await RedisProcess()
        let servers = try await Self.instances(3, sharing: redis)
        let (a, b, c) = (servers[0], servers[1], servers[2])
        let clients = [try await subscribed(a, "global"), try await subscribed(b, "global"), try await subscribed(c, "global")]
        // Publish in turn from every instance, over every path.
        let publishers = [a, b, c]
        for n in 0..<60 {
            let server = publishers[n % 3]
            if n % 2 == 0 {
                let response = try await HTTP.post(
                    server.httpURL + "/api/events", json: #"{"room":"global","event":"tick","data":{"n":\#(n)}}"#)
                #expect(response.status == 200)
                #expect(response.body["subscribers"] == 1, "local subscribers of the publishing instance")
            } else {
                _ = try await server.server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)])
            }
        }
        for client in clients {
            for n in 0..<60 { #expect(try await client.next()["data"]?["n"] == JSONValue(n)) }
            #expect(await client.receivesNothing(for: .milliseconds(200)), "exactly once")
            await client.close()
        }
        for server in [a, b, c] { try await server.stop() }
    }

    @Test(
        "a batch through Redis: valid events reach every instance in batch order, consecutive per room; refused ones are reported"
    )
    func batchAcrossInstances() async throws {
        let redis = try await RedisProcess()
        let servers = try await Self.instances(2, sharing: redis)
        let (a, b) = (servers[0], servers[1])
        let onB = try await subscribed(b, "global")
        let feedOnB = try await subscribed(b, "feed")
        let body =
            #"[{"room":"global","event":"t","data":{"n":1}},{"room":"feed","event":"feed.entry","data":{"text":"x"}},"#
            + #"{"room":"nowhere","event":"t"},{"room":"global","event":"t","data":{"n":2}},{"room":"global","event":"t","data":{"n":3}}]"#
        let response = try await HTTP.post(a.httpURL + "/api/events", json: body)
        #expect(response.status == 200 && response.body["status"] == "partial" && response.body["count"] == 4)
        #expect(
            response.body["results"]?.arrayValue?.map { $0["status"] } == [
                "published", "published", "refused", "published", "published",
            ])
        let events = [try await onB.next(), try await onB.next(), try await onB.next()]
        #expect(events.map { $0["data"]?["n"] } == [1, 2, 3])
        let seqs = events.map { Int($0["seq"]?.intValue ?? 0) }
        #expect(seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2], "consecutive positions in global")
        #expect(try await feedOnB.next()["data"]?["text"] == "x")
        #expect(await onB.receivesNothing(for: .milliseconds(200)))
        await onB.close()
        await feedOnB.close()
        for server in [a, b] { try await server.stop() }
    }

    @Test("rooms and subscriber counts are summed over the live instances")
    func clusterPresence() async throws {
        let redis = try await RedisProcess()
        let servers = try await Self.instances(2, sharing: redis)
        let (a, b) = (servers[0], servers[1])
        let clients = [
            try await subscribed(a, "feed"), try await subscribed(a, "feed"), try await subscribed(b, "feed"),
            try await subscribed(b, "item:1"),
        ]
        func feedCount(_ server: TestServer) async throws -> JSONValue? {
            try await HTTP.get(server.httpURL + "/api/rooms").body["rooms"]?["feed"]?["subscribers"]
        }
        try await TestClient.poll(.seconds(15), "presence of both instances") { () async throws -> Bool? in
            let onA = try await feedCount(a), onB = try await feedCount(b)
            return onA == 3 && onB == 3 ? true : nil
        }
        try await TestClient.poll(.seconds(15), "both rooms in the cluster view") {
            try await HTTP.get(a.httpURL + "/health").body["rooms"] == 2 ? true : nil
        }
        // An instance that stops leaves the cluster at once.
        for client in clients[2...] { await client.close() }
        try await b.stop()
        try await TestClient.poll(.seconds(15), "b to leave") { try await feedCount(a) == 2 ? true : nil }
        for client in clients[..<2] { await client.close() }
        try await a.stop()
    }

    @Test("a killed instance drops out when its presence expires; the others keep serving")
    func killedInstance() async throws {
        let redis = try await RedisProcess()
        let spawned = try await ClusteredServiceProcess("mahavishnu", prefix: "MAHAVISHNU", redis: redis)
        // Same service name as the spawned binary, so both share its Redis channel and presence keys.
        let mahavishnu = ServiceDefinition(
            name: "mahavishnu", environmentPrefix: "MAHAVISHNU", defaultPort: 0, welcomeMessage: "test",
            channels: [ChannelSpec("global", "announcements")], events: [])
        let survivor = try await TestServer.start(mahavishnu, configure: Self.clustered(redis))
        let remote = try await TestClient.connect(spawned.wsURL)
        _ = try await remote.next()
        _ = try await remote.request(["type": "subscribe", "data": ["channel": "global"]])
        let local = try await subscribed(survivor, "global")
        try await TestClient.poll(.seconds(15), "both in presence") {
            try await HTTP.get(survivor.httpURL + "/api/rooms").body["rooms"]?["global"]?["subscribers"] == 2 ? true : nil
        }
        spawned.kill()
        try await TestClient.poll(.seconds(10), "the killed instance's presence to expire") {
            try await HTTP.get(survivor.httpURL + "/api/rooms").body["rooms"]?["global"]?["subscribers"] == 1 ? true : nil
        }
        #expect(try await survivor.server.publish(event: "after", room: "global", data: [:]).subscribers == 1)
        #expect(try await local.next()["event"] == "after")
        await local.close()
        try await survivor.stop()
    }

    @Test("Redis down: local clients are served, publishing fails clearly, and it all comes back without a restart")
    func redisOutage() async throws {
        let redis = try await RedisProcess()
        let servers = try await Self.instances(2, sharing: redis)
        let (a, b) = (servers[0], servers[1])
        let subscriber = try await subscribed(b, "global")
        let publisher = try await a.client()
        redis.stop()
        try await TestClient.poll(.seconds(15), "a to notice") {
            try await HTTP.get(a.httpURL + "/ready").status == 503 ? true : nil
        }
        let health = try await HTTP.get(a.httpURL + "/health").body
        #expect(health["status"] == "degraded")
        #expect(health["broker"]?["available"] == false)
        #expect(health["alerts"]?.arrayValue?.contains { $0["alert"] == "broker_unavailable" } == true)
        let refused = try await publisher.request([
            "type": "request", "event": "publish", "id": "p", "data": ["room": "global", "event": "lost"],
        ])
        #expect(refused["error_code"] == "BROKER_UNAVAILABLE")
        let http = try await HTTP.post(a.httpURL + "/api/events", json: #"{"room":"global","event":"lost"}"#)
        #expect(http.status == 503)
        #expect(http.body["error_code"] == "BROKER_UNAVAILABLE")
        #expect(try await subscriber.request(["type": "ping", "id": "alive"])["type"] == "pong", "local service goes on")
        #expect(try await publisher.request(["type": "subscribe", "data": ["channel": "feed"]])["type"] == "response")

        try await redis.start()
        try await waitForCluster([a, b])
        let ack = try await publisher.request([
            "type": "request", "event": "publish", "id": "p2", "data": ["room": "global", "event": "back"],
        ])
        #expect(ack["type"] == "ack")
        #expect(try await subscriber.next()["event"] == "back", "b resubscribed by itself")
        #expect(await subscriber.receivesNothing(), "nothing from the outage leaked through")
        await subscriber.close()
        await publisher.close()
        try await a.stop()
        try await b.stop()
    }
}

@Suite("Resume across instances", .enabled(if: RedisProcess.isAvailable, "needs redis-server"))
struct ClusterResumeTests {
    @Test("positions are the cluster's: a client resumes on another instance without loss")
    func resumeElsewhere() async throws {
        let redis = try await RedisProcess()
        let servers = try await ClusterTests.instances(2, sharing: redis)
        let (a, b) = (servers[0], servers[1])
        let client = try await a.client()
        _ = try await client.request(["type": "subscribe", "data": ["channel": "global"]])
        for n in 1...4 { _ = try await [a, b][n % 2].server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)]) }
        var last: JSONObject = [:]
        for n in 1...4 {
            last = try await client.next()
            #expect(last["seq"] == JSONValue(n), "one sequence for the room, whichever instance published")
        }
        await client.close()
        for n in 5...7 { _ = try await a.server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)]) }
        let moved = try await b.client()
        let reply = try await moved.request([
            "type": "subscribe", "data": ["channel": "global", "since": ["seq": 4, "epoch": last["epoch"]!]],
        ])
        #expect(reply["data"]?["recovered"] == true)
        for n in 5...7 { #expect(try await moved.next()["data"]?["n"] == JSONValue(n)) }
        await moved.close()
        try await a.stop()
        try await b.stop()
    }
}

/// Resume from the room streams in Redis, for instances that did not see the events themselves (docs/scaling.md, docs/clients.md "What resume guarantees").
@Suite("Resume from Redis streams", .enabled(if: RedisProcess.isAvailable, "needs redis-server"))
struct ClusterStreamResumeTests {
    /// A redis-server; an instance `a` whose watcher saw events 1...published of "global"; and an instance
    /// `late` started after them, which holds none of them, so resuming there reads the stream in Redis.
    struct Scene {
        let redis: RedisProcess
        let a: TestServer
        let late: TestServer
        let watcher: TestClient
        let epoch: JSONValue

        func publish(_ numbers: ClosedRange<Int>) async throws {
            for n in numbers { _ = try await a.server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)]) }
        }

        /// Subscribes to "global" from `seq` (in `epoch`, the room's by default) and returns the reply.
        func resume(_ client: TestClient, from seq: Int, epoch: JSONValue? = nil) async throws -> JSONObject {
            try await client.request([
                "type": "subscribe", "id": "r",
                "data": ["channel": "global", "since": ["seq": JSONValue(seq), "epoch": epoch ?? self.epoch]],
            ])
        }

        func stop() async throws {
            redis.resume()
            await watcher.close()
            try await late.stop()
            try await a.stop()
        }
    }

    func scene(published: Int, historySize: Int = 50, lateLoops: Int = 1) async throws -> Scene {
        let redis = try await RedisProcess()
        let configure: (inout Settings) -> Void = { settings in
            ClusterTests.clustered(redis)(&settings)
            settings.historySize = historySize
        }
        let a = try await TestServer.start(configure: configure)
        try await ClusterTests().waitForCluster([a])
        let watcher = try await a.client()
        _ = try await watcher.request(["type": "subscribe", "data": ["channel": "global"]])
        for n in 1...published { _ = try await a.server.publish(event: "tick", room: "global", data: ["n": JSONValue(n)]) }
        let epoch = try await watcher.next()["epoch"]!
        let late = try await TestServer.start(configure: { settings in
            configure(&settings)
            settings.eventLoopThreads = lateLoops
        })
        try await ClusterTests().waitForCluster([late])
        return Scene(redis: redis, a: a, late: late, watcher: watcher, epoch: epoch)
    }

    @Test("an instance started after the events replays them from Redis, then goes on live")
    func lateInstance() async throws {
        let scene = try await scene(published: 6)
        let client = try await scene.late.client()
        let reply = try await scene.resume(client, from: 2)
        #expect(reply["data"]?["recovered"] == true)
        #expect(reply["data"]?["seq"] == 6)
        #expect(reply["data"]?["epoch"] == scene.epoch)
        for n in 3...6 {
            let event = try await client.next()
            #expect(event["seq"] == JSONValue(n))
            #expect(event["data"]?["n"] == JSONValue(n))
        }
        try await scene.publish(7...7)
        #expect(try await client.next()["seq"] == 7, "then live")
        #expect(await client.receivesNothing(for: .milliseconds(200)), "exactly once")
        await client.close()
        try await scene.stop()
    }

    @Test("a gap longer than the stream, or another epoch: recovered false with the cluster's position")
    func notRecoverable() async throws {
        let scene = try await scene(published: 6, historySize: 3)
        let client = try await scene.late.client()
        let old = try await scene.resume(client, from: 1)
        #expect(old["data"]?["recovered"] == false, "events 2...3 left the 3-entry stream")
        #expect(old["data"]?["seq"] == 6)
        #expect(await client.receivesNothing(for: .milliseconds(200)), "no partial replay")
        let other = try await scene.late.client()
        let reply = try await scene.resume(other, from: 5, epoch: "not-this-one")
        #expect(reply["data"]?["recovered"] == false)
        #expect(reply["data"]?["epoch"] == scene.epoch)
        let kept = try await scene.late.client()
        #expect(try await scene.resume(kept, from: 3)["data"]?["recovered"] == true, "4...6 are still held")
        for n in 4...6 { #expect(try await kept.next()["seq"] == JSONValue(n)) }
        try await scene.publish(7...7)
        for each in [client, other, kept] {
            #expect(try await each.next()["seq"] == 7, "every one of them is subscribed and live")
            await each.close()
        }
        try await scene.stop()
    }

    @Test("resuming during a stream of publishes: every event once, in order, across the read and the live feed")
    func underTraffic() async throws {
        // Two loops on the late instance: the Redis replies and a client's connection are on different threads,
        // so live events can reach it on either side of its read of the stream. Every resume stays within the
        // 1000-entry stream.
        let scene = try await scene(published: 20, historySize: 1000, lateLoops: 2)
        let last = 600
        let publisher = Task { try await scene.publish(21...last) }
        var resumed: [(client: TestClient, from: Int)] = []
        for from in stride(from: 10, through: 46, by: 4) {
            let client = try await scene.late.client()
            #expect(try await scene.resume(client, from: from)["data"]?["recovered"] == true)
            resumed.append((client, from))
        }
        try await publisher.value
        for (client, from) in resumed {
            var seen: [Int] = []
            while seen.last != last {
                guard let seq = try await client.next()["seq"]?.intValue else { continue }
                seen.append(Int(seq))
            }
            #expect(seen == Array(from + 1...last), "no gap and no duplicate (resumed from \(from))")
            #expect(await client.receivesNothing(for: .milliseconds(50)))
            await client.close()
        }
        try await scene.stop()
    }

    @Test("a stalled Redis: later messages wait in order, a flood closes 1008, the read gives up after 2 s")
    func stalledRedis() async throws {
        let scene = try await scene(published: 2)
        let client = try await scene.late.client()
        scene.redis.pause()
        try await client.send([
            "type": "subscribe", "id": "r", "data": ["channel": "global", "since": ["seq": 1, "epoch": scene.epoch]],
        ])
        try await client.send(["type": "ping", "id": "after"])
        #expect(await client.receivesNothing(for: .milliseconds(300)), "the ping waits behind the subscribe")
        scene.redis.resume()
        let reply = try await client.next()
        #expect(reply["correlation_id"] == "r")
        #expect(reply["data"]?["recovered"] == true)
        #expect(try await client.next()["seq"] == 2, "the replay")
        #expect(try await client.next()["type"] == "pong", "then the held ping")

        let stalled = try await scene.late.client()
        scene.redis.pause()
        let started = ContinuousClock.now
        let late = try await scene.resume(stalled, from: 1)
        #expect(ContinuousClock.now - started >= .seconds(1.5))
        #expect(late["data"]?["recovered"] == false, "no replay without Redis, but subscribed")
        let flood = try await scene.late.client()
        try await flood.send(["type": "subscribe", "data": ["channel": "global", "since": ["seq": 1, "epoch": scene.epoch]]])
        for n in 0..<20 { try await flood.send(["type": "ping", "id": JSONValue("p\(n)")]) }
        let closed = try await flood.closed()
        #expect(closed.code == 1008)
        #expect(closed.reason == "Too many messages while an earlier one was pending")
        for each in [client, stalled] { await each.close() }
        try await scene.stop()
    }
}
