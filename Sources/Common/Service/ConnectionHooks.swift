/// A client as the service's hooks see it.
public struct ClientInfo: Sendable, Equatable {
    public let connectionID: String
    /// The token's user; nil when auth is off or for API keys.
    public let userID: String?

    public init(connectionID: String, userID: String?) {
        self.connectionID = connectionID
        self.userID = userID
    }
}

/// What a service runs when clients come and go (docs/architecture.md, "Services"). Hooks run off the
/// event loops, one at a time, in the order things happened (so a client's subscribe hook runs before its
/// disconnect hook); keep them short, since a slow hook delays the ones behind it.
public struct ConnectionHooks: Sendable {
    /// After the welcome: the client is connected and authenticated.
    public var onConnect: (@Sendable (ClientInfo) async -> Void)?
    /// After the connection ended, and after `onUnsubscribe` for each room it was still in.
    public var onDisconnect: (@Sendable (ClientInfo) async -> Void)?
    /// Before a client joins a room (after the catalogue and permission checks). Throwing a `ProtocolError`
    /// refuses the subscribe: the client gets it as the error reply, and does not join. The client's later
    /// messages wait for the verdict.
    public var onSubscribe: (@Sendable (ClientInfo, _ room: String) async throws(ProtocolError) -> Void)?
    /// After a client left a room: by unsubscribing, or because its connection closed.
    public var onUnsubscribe: (@Sendable (ClientInfo, _ room: String) async -> Void)?

    public init(
        onConnect: (@Sendable (ClientInfo) async -> Void)? = nil, onDisconnect: (@Sendable (ClientInfo) async -> Void)? = nil,
        onSubscribe: (@Sendable (ClientInfo, _ room: String) async throws(ProtocolError) -> Void)? = nil,
        onUnsubscribe: (@Sendable (ClientInfo, _ room: String) async -> Void)? = nil
    ) {
        self.onConnect = onConnect
        self.onDisconnect = onDisconnect
        self.onSubscribe = onSubscribe
        self.onUnsubscribe = onUnsubscribe
    }

    var isEmpty: Bool { onConnect == nil && onDisconnect == nil && onSubscribe == nil && onUnsubscribe == nil }
}
