import NIOCore

/// What the server knows about one client beyond its socket: rooms, resume guards, authentication, held
/// messages and rate budgets. A value owned by the `WebSocketConnection` (`connection.session`), so reading it
/// on the fan-out path costs no pointer hop; only the connection's event loop touches it. The transport never
/// reads it except to stop its timers when the socket goes; the dispatcher and the shard own what is in it.
struct ClientSession {
    /// Rooms this connection is in, so leaving all of them on disconnect is O(rooms of this connection).
    var rooms: Set<String> = []
    /// Per room, the last `seq` this connection already has (replayed, or current when it joined): queued
    /// older frames are not sent again. Empty for almost every connection, so the check costs one `isEmpty`.
    var resumeGuards: [String: Int] = [:]
    /// The message rate limit (`message_rate_limit`).
    var rateLimit: TokenBucket
    /// The publish budget of a connection allowed to publish, made on its first publish.
    var publishBudget: TokenBucket?
    var auth = ConnectionAuth()
    /// Messages waiting for an earlier one's asynchronous work.
    var held = HeldMessages()
    /// When this connection joined each of its presence rooms (only rooms whose channel has presence).
    var presenceJoinedAt: [String: String] = [:]
    /// Whether the service's connect hook ran for it (then its disconnect hook runs too).
    var announced = false
    /// The subscribe whose hook is running (later messages wait for it, so there is at most one).
    var subscribeHook: SubscribeVerdict?

    init(messageRate: Int) {
        rateLimit = TokenBucket(rate: messageRate)
    }
}
