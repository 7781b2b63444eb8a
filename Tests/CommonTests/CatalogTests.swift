import Common
import Testing

@Suite("Channel patterns and event catalogue validation")
struct CatalogTests {
    let catalog = ServiceDefinition.testService.catalog

    @Test("patterns match literal and parameterised rooms")
    func patterns() {
        let item: ChannelPattern = "item:{item_id}"
        #expect(item.match("item:42") == "42")
        #expect(item.match("item:") == nil)
        #expect(item.match("items:1") == nil)
        #expect(item.room("7") == "item:7")
        #expect(item.label == "item:*")
        let feed: ChannelPattern = "feed"
        #expect(feed.match("feed") == "")
        #expect(feed.match("feed:1") == nil)
    }

    @Test("a valid event passes")
    func valid() throws {
        try catalog.validate(event: "item.changed", room: "item:1", data: ["item_id": "1", "value": 3])
        try catalog.validate(event: "feed.entry", room: "feed", data: ["text": "x", "extra": true])
    }

    @Test("an alias satisfies its field and is delivered under both names; the field's own name wins")
    func aliases() throws {
        let catalog = EventCatalog(
            channels: [ChannelSpec("cov", "coverage")],
            events: [EventSpec("cov.updated", in: "cov", [.init("line_coverage", .number, aliases: ["line"])], "")])
        #expect(try catalog.validate(event: "cov.updated", room: "cov", data: ["line": 80]) == ["line": 80, "line_coverage": 80])
        #expect(
            try catalog.validate(event: "cov.updated", room: "cov", data: ["line_coverage": 1, "line": 2]) == [
                "line_coverage": 1, "line": 2,
            ])
        #expect(throws: ProtocolError.validation("Event 'cov.updated' requires field 'line_coverage' (number)")) {
            try catalog.validate(event: "cov.updated", room: "cov", data: ["lines": 80])
        }
    }

    @Test("global accepts any event, other rooms only their catalogue")
    func global() throws {
        try catalog.validate(event: "bench.tick", room: "global", data: ["n": 1])
        #expect(throws: ProtocolError.validation("Unknown event 'bench.tick'")) {
            try catalog.validate(event: "bench.tick", room: "feed", data: [:])
        }
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let event: String, room: String, data: JSONObject, code: ErrorCode, fragment: String
        var testDescription: String { "\(event) in \(room)" }
    }

    @Test(
        "invalid publishes name the problem",
        arguments: [
            Invalid(
                event: "item.changed", room: "item:1", data: ["item_id": "1"], code: .validationError,
                fragment: "requires field 'value'"),
            Invalid(
                event: "item.changed", room: "item:1", data: ["item_id": "1", "value": "3"], code: .validationError,
                fragment: "must be integer, got string"),
            Invalid(
                event: "item.changed", room: "item:1", data: ["item_id": "2", "value": 3], code: .validationError,
                fragment: "must match the room"),
            Invalid(
                event: "item.changed", room: "feed", data: ["item_id": "1", "value": 3], code: .validationError,
                fragment: "belongs in item:{item_id}"),
            Invalid(
                event: "item.changed", room: "nope:1", data: [:], code: .invalidChannel, fragment: "Unknown channel 'nope:1'"),
            Invalid(event: "item.changed", room: "item:a b", data: [:], code: .invalidChannel, fragment: "character outside"),
            Invalid(event: "", room: "feed", data: [:], code: .validationError, fragment: "must not be empty"),
        ])
    func invalid(_ c: Invalid) {
        do {
            try catalog.validate(event: c.event, room: c.room, data: c.data)
            Issue.record("expected \(c.code) for \(c.event) in \(c.room)")
        } catch {
            #expect(error.code == c.code)
            #expect(error.message.contains(c.fragment), "\(error.message)")
        }
    }

    @Test("room names: length and characters")
    func roomNames() throws {
        try RoomName.validate("goal-teams:user@example.com")
        #expect(throws: ProtocolError.self) { try RoomName.validate(String(repeating: "a", count: 201)) }
        #expect(throws: ProtocolError.self) { try RoomName.validate("a\"b") }
        #expect(throws: ProtocolError.self) { try RoomName.validate("") }
    }
}
