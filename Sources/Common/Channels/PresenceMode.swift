/// What a channel's rooms tell about who is in them (docs/protocol.md, "Presence").
public enum PresenceMode: String, Sendable {
    /// No presence: joins and leaves are not reported (the default, and the fan-out's fast path).
    case off
    /// The `presence` request lists members (connection id, user id, joined at), and `presence.joined` /
    /// `presence.left` name who came and went.
    case members
    /// For big rooms: the request and the events carry counts only.
    case count

    public static let joined = "presence.joined"
    public static let left = "presence.left"
    /// The `presence` request.
    public static let request = "presence"

    /// Event names the server alone publishes.
    static func isReserved(_ event: String) -> Bool { event.hasPrefix("presence.") }

    /// The two presence events of a channel, for its catalogue.
    static func events(in channel: ChannelSpec) -> [EventSpec] {
        let who: [FieldSpec] =
            channel.presence == .members ? [.init("members", .array)] : []
        return [
            EventSpec(
                joined, in: channel.pattern,
                [.init("room", .string), .init("count", .integer), .init("joined", .integer)] + who,
                "Connections joined the room (sent by the server, coalesced over `presence_debounce`)"),
            EventSpec(
                left, in: channel.pattern,
                [.init("room", .string), .init("count", .integer), .init("left", .integer)] + who,
                "Connections left the room (sent by the server, coalesced over `presence_debounce`)"),
        ]
    }
}
