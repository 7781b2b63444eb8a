/// The JSON type a payload field must have.
public enum FieldType: String, Sendable {
    case string, integer, number, boolean, object, array
    /// Any JSON value, null included.
    case any

    func accepts(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.any, _), (.string, .string), (.integer, .int), (.number, .int), (.number, .double),
            (.boolean, .bool), (.object, .object), (.array, .array):
            true
        default: false
        }
    }
}

public struct FieldSpec: Sendable {
    public let name: String
    public let type: FieldType
    public let required: Bool
    /// Other names producers use for this field (e.g. the integration report's `line` for `line_coverage`).
    /// A payload carrying only an alias is accepted and delivered with the field under both names.
    public let aliases: [String]

    public init(_ name: String, _ type: FieldType, required: Bool = true, aliases: [String] = []) {
        self.name = name
        self.type = type
        self.required = required
        self.aliases = aliases
    }
}

/// A room family clients can subscribe to, and the permissions that let an authenticated user in.
public struct ChannelSpec: Sendable {
    public let pattern: ChannelPattern
    public let summary: String
    /// Any one of these (or `admin`) lets a token subscribe; empty means any authenticated user.
    public let permissions: Set<String>
    /// Whether the rooms report who is in them (docs/protocol.md, "Presence").
    public let presence: PresenceMode
    /// Whether members may publish to each other (a client-to-client room, docs/security.md): a connection
    /// subscribed to the room may publish the room's catalogued events without the `publish` permission.
    public let clientsPublish: Bool

    public init(
        _ pattern: ChannelPattern, permission: String? = nil, presence: PresenceMode = .off, clientsPublish: Bool = false,
        _ summary: String
    ) {
        self.init(
            pattern, permissions: permission.map { [$0] } ?? [], presence: presence, clientsPublish: clientsPublish, summary)
    }

    public init(
        _ pattern: ChannelPattern, permissions: Set<String>, presence: PresenceMode = .off, clientsPublish: Bool = false,
        _ summary: String
    ) {
        self.pattern = pattern
        self.permissions = permissions
        self.presence = presence
        self.clientsPublish = clientsPublish
        self.summary = summary
    }
}

/// One event of a service's vocabulary: its name, the room family it is published to, its payload fields.
/// `EventSpec.unnamed` declares what a room carries in events without a name (`"event": null`), which
/// upstream sends to some rooms.
public struct EventSpec: Sendable {
    /// `""` for the unnamed event of a channel (see `unnamed`); never empty otherwise.
    public let name: String
    public let channel: ChannelPattern
    public let fields: [FieldSpec]
    public let summary: String

    public init(_ name: String, in channel: ChannelPattern, _ fields: [FieldSpec], _ summary: String) {
        self.name = name
        self.channel = channel
        self.fields = fields
        self.summary = summary
    }

    /// Events published to `channel` with no name (`event: null`), delivered with `"event":null` as upstream does.
    public static func unnamed(in channel: ChannelPattern, _ fields: [FieldSpec], _ summary: String) -> EventSpec {
        EventSpec("", in: channel, fields, summary)
    }

    public var isUnnamed: Bool { name.isEmpty }
    /// `presence.joined` / `presence.left`: the server publishes them; producers may not.
    public var isServerOnly: Bool { PresenceMode.isReserved(name) }
    /// The `event` value on the wire: the name, or null.
    public var wireName: JSONValue { isUnnamed ? .null : .string(name) }
}

/// The events and channels a service declares, and the validation every publish goes through.
public struct EventCatalog: Sendable {
    public static let globalRoom = "global"

    public let channels: [ChannelSpec]
    public let events: [EventSpec]
    private let eventsByName: [String: [EventSpec]]

    /// Channels with presence also carry the server's `presence.joined` and `presence.left` (listed here so the
    /// catalogue document and the docs show them; producers may not publish them).
    public init(channels: [ChannelSpec], events: [EventSpec]) {
        self.channels = channels
        self.events = events + channels.filter { $0.presence != .off }.flatMap { PresenceMode.events(in: $0) }
        self.eventsByName = Dictionary(grouping: self.events, by: \.name)
    }

    /// The channel a room belongs to, if any.
    public func channel(for room: String) -> ChannelSpec? {
        channels.first { $0.pattern.match(room) != nil }
    }

    /// Checks a publish against the catalogue: a known room, an event catalogued for that room (any event
    /// in `global`), required fields present with the right JSON types, and the room's parameter equal to the
    /// payload field of the same name (so `workflow:wf1` cannot carry `workflow_id: wf2`).
    /// `event` nil is an unnamed event, accepted only where the room's channel declares `EventSpec.unnamed`.
    /// Returns the payload to deliver: `data`, plus each field sent only under an alias copied to its name.
    @discardableResult
    public func validate(event: String?, room: String, data: JSONObject) throws(ProtocolError) -> JSONObject {
        try check(event: event, room: room, data: data).payload
    }

    /// `validate`, also returning the room's channel (the publish path needs both and looks it up once).
    func check(
        event: String?, room: String, data: JSONObject
    ) throws(ProtocolError) -> (payload: JSONObject, channel: ChannelSpec) {
        try RoomName.validate(room)
        if event?.isEmpty == true { throw .validation("Event name must not be empty") }
        if let event, PresenceMode.isReserved(event) {
            throw .validation("'\(event)' is the server's own presence event; producers may not publish it")
        }
        guard let channel = channel(for: room) else {
            throw ProtocolError(.invalidChannel, "Unknown channel '\(room)'; this service has: \(channelList)")
        }
        let candidates = eventsByName[event ?? ""] ?? []
        guard let spec = candidates.first(where: { $0.channel == channel.pattern }) else {
            guard let event else { throw .validation("Events in '\(room)' need a name (data.event)") }
            if room == Self.globalRoom { return (data, channel) }  // global accepts any announcement
            if candidates.isEmpty { throw .validation("Unknown event '\(event)'") }
            let rooms = candidates.map(\.channel.template).joined(separator: ", ")
            throw .validation("Event '\(event)' belongs in \(rooms), not '\(room)'")
        }
        let event = event ?? "null"  // for messages: an unnamed event is called by its wire value
        var data = data
        for field in spec.fields {
            if data[field.name] == nil, let alias = field.aliases.first(where: { data[$0] != nil }) {
                data[field.name] = data[alias]
            }
            guard let value = data[field.name] else {
                if field.required {
                    throw .validation("Event '\(event)' requires field '\(field.name)' (\(field.type.rawValue))")
                }
                continue
            }
            guard field.type.accepts(value) else {
                throw .validation("Field '\(field.name)' of '\(event)' must be \(field.type.rawValue), got \(value.typeName)")
            }
        }
        if let parameter = spec.channel.parameter, let value = data[parameter],
            let roomValue = spec.channel.match(room), value.stringValue != roomValue
        {
            throw .validation("Field '\(parameter)' must match the room '\(room)'")
        }
        return (data, channel)
    }

    /// Checks that a client may subscribe to `room` at all (auth aside).
    public func validateSubscription(_ room: String) throws(ProtocolError) {
        try RoomName.validate(room)
        guard channel(for: room) != nil else {
            throw ProtocolError(.invalidChannel, "Unknown channel '\(room)'; this service has: \(channelList)")
        }
    }

    private var channelList: String { channels.map(\.pattern.template).joined(separator: ", ") }
}
