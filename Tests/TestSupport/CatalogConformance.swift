import Common
import Testing

/// Sample payloads built from a catalogue entry, and the checks every service's catalogue must pass.
public enum CatalogSample {
    /// The room's parameter value used in samples.
    public static let parameter = "t1"

    public static func value(for type: FieldType) -> JSONValue {
        switch type {
        case .string, .any: "sample"
        case .integer: 3
        case .number: 1.5
        case .boolean: true
        case .object: ["k": "v"]
        case .array: ["a"]
        }
    }

    /// A value of the wrong JSON type for `type` (nil for `.any`, which accepts everything).
    public static func wrongValue(for type: FieldType) -> JSONValue? {
        switch type {
        case .any: nil
        case .string, .object, .array: 7
        case .integer, .number, .boolean: "seven"
        }
    }

    public static func room(_ spec: EventSpec) -> String { spec.channel.room(parameter) }

    /// Every field filled with a value of its type; the room's parameter field equals the room's value.
    public static func payload(_ spec: EventSpec) -> JSONObject {
        var data = JSONObject()
        for field in spec.fields {
            data[field.name] = field.name == spec.channel.parameter ? .string(parameter) : value(for: field.type)
        }
        return data
    }
}

extension TestServer {
    /// For every catalogued event a producer may publish: delivered over HTTP and over the publish request with its
    /// room and payload; refused (422 / VALIDATION_ERROR, nothing delivered) without each required field and with
    /// each field mistyped. The server's own presence events are refused to producers.
    public func expectCatalogConformance(_ definition: ServiceDefinition) async throws {
        let subscriber = try await client()
        let publisher = try await client()
        // Rooms with presence announce the subscriber (after `presence_debounce`), perhaps between the replies.
        let presenceRooms = Set(definition.catalog.events.filter(\.isServerOnly).map(CatalogSample.room))
        var announced = Set<String>()
        func expectAnnouncement(_ event: JSONObject) {
            #expect(event["event"] == .string(PresenceMode.joined), "\(event)")
            if let room = event["room"]?.stringValue { announced.insert(room) }
        }
        for room in Set(definition.catalog.events.map(CatalogSample.room)).sorted() {
            try await subscriber.send(["type": "subscribe", "data": ["channel": .string(room)]])
            var reply = try await subscriber.next()
            while reply["type"] == "event" {
                expectAnnouncement(reply)
                reply = try await subscriber.next()
            }
            #expect(reply["type"] == "response", "subscribe \(room)")
        }
        while announced.count < presenceRooms.count { expectAnnouncement(try await subscriber.next()) }
        #expect(announced == presenceRooms)
        for spec in definition.catalog.events where spec.isServerOnly {
            let room = CatalogSample.room(spec), payload = CatalogSample.payload(spec)
            try await expectRefused(publisher, spec, room, payload, "(the server's own event)")
        }
        for spec in definition.catalog.events where !spec.isServerOnly {
            let room = CatalogSample.room(spec), payload = CatalogSample.payload(spec)
            // Over HTTP.
            let event: JSONObject = ["room": .string(room), "event": spec.wireName, "data": .object(payload)]
            let http = try await HTTP.post(httpURL + "/api/events", json: JSONWriter.string(event))
            #expect(http.status == 200, "\(spec.name) over HTTP: \(http.body)")
            #expect(http.body["subscribers"] == 1)
            try await expectEvent(subscriber, spec, room, payload)
            // Over the publish request.
            let ack = try await publisher.request([
                "type": "request", "event": "publish", "id": "p",
                "data": ["room": .string(room), "event": spec.wireName, "data": .object(payload)],
            ])
            #expect(ack["type"] == "ack", "\(spec.name) over publish: \(ack)")
            try await expectEvent(subscriber, spec, room, payload)
            // Broken payloads.
            for field in spec.fields {
                var missing = payload
                missing[field.name] = nil
                if field.required { try await expectRefused(publisher, spec, room, missing, "without \(field.name)") }
                if let wrong = CatalogSample.wrongValue(for: field.type) {
                    var mistyped = payload
                    mistyped[field.name] = wrong
                    try await expectRefused(publisher, spec, room, mistyped, "\(field.name) mistyped")
                }
            }
        }
        #expect(await subscriber.receivesNothing(for: .milliseconds(100)), "refused publishes delivered nothing")
        await subscriber.close()
        await publisher.close()
    }

    private func expectEvent(_ client: TestClient, _ spec: EventSpec, _ room: String, _ payload: JSONObject) async throws {
        let event = try await client.next()
        #expect(event["event"] == spec.wireName)
        #expect(event["room"] == .string(room))
        let data = event["data"]?.objectValue ?? [:]
        for member in payload { #expect(data[member.key] == member.value, "\(spec.name).\(member.key)") }
        if !spec.isUnnamed { #expect(data["timestamp"]?.stringValue?.hasSuffix("+00:00") == true) }
    }

    private func expectRefused(
        _ publisher: TestClient, _ spec: EventSpec, _ room: String, _ payload: JSONObject, _ what: String
    ) async throws {
        let body: JSONObject = ["room": .string(room), "event": spec.wireName, "data": .object(payload)]
        let http = try await HTTP.post(httpURL + "/api/events", json: JSONWriter.string(body))
        #expect(http.status == 422, "\(spec.name) \(what) over HTTP")
        #expect(http.body["error_code"] == "VALIDATION_ERROR")
        let reply = try await publisher.request(["type": "request", "event": "publish", "id": "bad", "data": .object(body)])
        #expect(reply["error_code"] == "VALIDATION_ERROR", "\(spec.name) \(what) over publish")
    }
}

extension TestServer {
    /// Everything a service's catalogue must satisfy, over a server of its own: `GET /api/catalog` lists every
    /// channel and event, and every event passes `expectCatalogConformance`.
    public static func expectServiceCatalog(_ makeDefinition: () -> ServiceDefinition) async throws {
        let definition = makeDefinition()
        try await TestServer.with(definition) { server in
            let response = try await HTTP.get(server.httpURL + "/api/catalog")
            #expect(response.status == 200)
            #expect(response.body["service"] == .string(definition.name))
            #expect(response.body["channels"]?.arrayValue?.count == definition.catalog.channels.count)
            #expect(response.body["events"]?.arrayValue?.count == definition.catalog.events.count)
            try await server.expectCatalogConformance(makeDefinition())
        }
    }
}
