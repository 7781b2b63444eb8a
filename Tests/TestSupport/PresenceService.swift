import Common

extension ServiceDefinition {
    /// Rooms with presence: `desk:{desk_id}` lists members and lets them publish to each other; `hall` counts.
    public static let presenceService = ServiceDefinition(
        name: "presence-service", environmentPrefix: "PRESENCE_SERVICE", defaultPort: 0, welcomeMessage: "Connected",
        channels: [
            ChannelSpec("desk:{desk_id}", presence: .members, clientsPublish: true, "a shared desk"),
            ChannelSpec("hall", presence: .count, "a big room"),
            ChannelSpec("feed", "no presence"),
        ],
        events: [
            EventSpec("desk.note", in: "desk:{desk_id}", [.init("text", .string)], "a note to the desk"),
            EventSpec("feed.entry", in: "feed", [.init("text", .string)], "an entry"),
        ])
}
