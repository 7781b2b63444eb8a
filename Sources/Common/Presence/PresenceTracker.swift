import NIOCore
import Synchronization

/// Presence of the rooms whose channel asks for it (docs/protocol.md, "Presence").
///
/// Joins and leaves are collected for `presence_debounce` seconds; a join and a leave of one connection within
/// that window cancel out. Then each changed room gets at most one `presence.joined` and one `presence.left`,
/// published like any room event (ordered, kept for resume, fanned out on every instance), with the room's
/// count over the cluster. Rooms without presence never reach this type: their joins cost nothing extra.
final class PresenceTracker: Sendable {
    private struct Pending {
        var joined: [String: RoomMember] = [:]
        var left: [String: RoomMember] = [:]
    }

    private struct State {
        var pending: [String: Pending] = [:]
        var flushScheduled = false
    }

    private let catalog: EventCatalog
    private let broker: any Broker
    private let publisher: Publisher
    private let hub: Hub
    private let debounce: TimeAmount
    /// `presence_max_members`: most members a reply or an event lists.
    let maxMembers: Int
    private let loop: any EventLoop
    private let state = Mutex(State())

    init(catalog: EventCatalog, broker: any Broker, publisher: Publisher, hub: Hub, settings: Settings, loop: any EventLoop) {
        self.catalog = catalog
        self.broker = broker
        self.publisher = publisher
        self.hub = hub
        self.debounce = .nanoseconds(Int64(settings.presenceDebounce * 1e9))
        self.maxMembers = settings.presenceMaxMembers
        self.loop = loop
    }

    func mode(of room: String) -> PresenceMode { catalog.channel(for: room)?.presence ?? .off }

    func joined(_ room: String, _ member: RoomMember) {
        record(room) { pending in
            if pending.left.removeValue(forKey: member.connectionID) == nil { pending.joined[member.connectionID] = member }
        }
    }

    func left(_ room: String, _ member: RoomMember) {
        record(room) { pending in
            if pending.joined.removeValue(forKey: member.connectionID) == nil { pending.left[member.connectionID] = member }
        }
    }

    private func record(_ room: String, _ change: (inout Pending) -> Void) {
        let schedule = state.withLock { state in
            change(&state.pending[room, default: Pending()])
            defer { state.flushScheduled = true }
            return !state.flushScheduled
        }
        if schedule { loop.scheduleTask(in: debounce) { self.flush() } }
    }

    private func flush() {
        let changes = state.withLock { state in
            defer {
                state.pending.removeAll()
                state.flushScheduled = false
            }
            return state.pending.sorted { $0.key < $1.key }.map { room, pending in
                PresenceChange(room: room, joined: Array(pending.joined.values), left: Array(pending.left.values))
            }
        }.filter { !$0.joined.isEmpty || !$0.left.isEmpty }
        guard !changes.isEmpty else { return }
        Task {
            await broker.presenceChanged(changes)
            for change in changes { await announce(change) }
        }
    }

    /// The room's `presence.joined`, then its `presence.left`.
    private func announce(_ change: PresenceChange) async {
        let listing = mode(of: change.room) == .members
        let count = await (try? snapshot(of: change.room, limit: 0, listing: false).count) ?? 0
        for (event, key, members) in [(PresenceMode.joined, "joined", change.joined), (PresenceMode.left, "left", change.left)]
        where !members.isEmpty {
            var data: JSONObject = ["room": .string(change.room), "count": JSONValue(count), key: JSONValue(members.count)]
            if listing { data["members"] = .array(members.prefix(maxMembers).map(\.json)) }
            // A failed publish (Redis away) loses this notice; the next `presence` request is still right.
            _ = try? await publisher.publishServerEvent(event, room: change.room, data: data, resultOn: loop).get()
        }
    }

    /// The room's count and up to `limit` members: over the cluster when the broker knows it, else here.
    func snapshot(of room: String, limit: Int, listing: Bool) async throws -> (count: Int, members: [RoomMember]) {
        if let cluster = await broker.presence(of: room, limit: limit, listing: listing) { return cluster }
        return try await hub.members(of: room, limit: listing ? limit : 0, on: loop).get()
    }

    /// The `presence` request's reply (docs/protocol.md, "Presence").
    func reply(for room: String, limit: Int) async throws -> JSONObject {
        let mode = mode(of: room)
        let listing = mode == .members
        let found = try await snapshot(of: room, limit: limit, listing: listing)
        var data: JSONObject = ["room": .string(room), "mode": .string(mode.rawValue), "count": JSONValue(found.count)]
        if listing {
            data["members"] = .array(found.members.map(\.json))
            data["truncated"] = .bool(found.count > found.members.count)
        }
        return data
    }
}
