import NIOCore
import ServiceLifecycle

/// Orders events and brings them to the fan-out of every instance of the service. `LocalBroker` is one
/// process; `RedisBroker` is a cluster sharing Redis. Either way, an event reaches this instance's subscribers
/// through `EventDelivery`, so the rest of the server never asks which one it runs.
protocol Broker: Sendable {
    /// A buffer to encode a prepared event's envelope into: the local fan-out writes the frame header in
    /// front of it (`ServerFrame.begin`), Redis carries the bare envelope.
    func envelopeBuffer() -> ByteBuffer

    /// Orders `events` (a room's events of one call get consecutive positions, in order) and delivers them.
    /// One future per event, on `loop`: how many subscribers of this instance it was handed to.
    func publish(_ events: [PreparedEvent], on loop: any EventLoop) -> [EventLoopFuture<Int>]

    /// Whether a resume that this instance's own history cannot serve may read the room's shared history.
    var sharesHistory: Bool { get }

    /// The room's events after `position` from the shared history (only asked when `sharesHistory`).
    func history(_ room: String, after position: RoomPosition, on loop: any EventLoop) -> EventLoopFuture<ClusterHistory>

    /// Sends a direct message (a bare envelope) to its target's connections on every instance. The future (on
    /// `loop`) holds how many connections it reached; 0 means nobody is there.
    func direct(_ envelope: ByteBuffer, to target: DirectTarget, on loop: any EventLoop) -> EventLoopFuture<Int>

    /// Keeps the cluster's directory of connections and users in step with this instance (`delta` is +1 or -1).
    func directoryChanged(_ target: DirectTarget, by delta: Int)

    /// Records this instance's presence changes where the other instances can read them.
    func presenceChanged(_ changes: [PresenceChange]) async

    /// A room's presence over every live instance: its count, and up to `limit` members when `listing`; nil
    /// when only this instance's is known.
    func presence(of room: String, limit: Int, listing: Bool) async -> (count: Int, members: [RoomMember])?

    /// Subscribers per room over every live instance; nil when only this instance's counts are known.
    func clusterRooms() async -> [String: Int]?

    /// False while the broker cannot publish (Redis unreachable): `/ready` and `/health` report it.
    var isAvailable: Bool { get }

    /// The `broker` member of `/health` (nil: not shown).
    var healthJSON: JSONObject? { get }

    /// What has to run beside the server while it serves (the Redis connections), if anything.
    var backgroundService: (any Service)? { get }
}

/// One process is the whole service: events are ordered under the hub's lock and fanned out here.
struct LocalBroker: Broker {
    let delivery: EventDelivery

    func envelopeBuffer() -> ByteBuffer { ServerFrame.begin() }

    func publish(_ events: [PreparedEvent], on loop: any EventLoop) -> [EventLoopFuture<Int>] {
        delivery.order(events, resultOn: loop)
    }

    var sharesHistory: Bool { false }

    func history(_ room: String, after position: RoomPosition, on loop: any EventLoop) -> EventLoopFuture<ClusterHistory> {
        loop.makeSucceededFuture(ClusterHistory(position: nil, envelopes: nil))
    }

    func direct(_ envelope: ByteBuffer, to target: DirectTarget, on loop: any EventLoop) -> EventLoopFuture<Int> {
        delivery.hub.direct(ServerFrame.text(envelope), to: target, resultOn: loop)
    }

    func directoryChanged(_ target: DirectTarget, by delta: Int) {}
    func presenceChanged(_ changes: [PresenceChange]) async {}
    func presence(of room: String, limit: Int, listing: Bool) async -> (count: Int, members: [RoomMember])? { nil }
    func clusterRooms() async -> [String: Int]? { nil }
    var isAvailable: Bool { true }
    var healthJSON: JSONObject? { nil }
    var backgroundService: (any Service)? { nil }
}
