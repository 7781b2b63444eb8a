import Wire

/// One room event as the client hands it over.
public struct RoomEvent: Sendable {
    public let room: String
    public let event: String
    public let data: JSONObject
    /// The event's position in its room (absent from servers that predate positions).
    public let seq: Int?
    public let epoch: String?
}

/// What the client reports, in order, on `BackboneClient.updates`.
public enum ClientUpdate: Sendable {
    case event(RoomEvent)
    /// The server could not replay what was missed in `room` while disconnected (history too short, or the
    /// room's epoch changed): re-read that state from its source. Events from now on are complete again.
    case resync(room: String)
    case state(ClientState)
}

public enum ClientState: Sendable, Equatable {
    case connecting(attempt: Int)
    case connected(url: String)
    /// Waiting `seconds` before the next attempt, after a close with `code` (nil: the connection failed).
    case waiting(seconds: Double, code: UInt16?)
    /// Stopped for good: closed by the user, refused authentication, or out of attempts.
    case stopped(reason: String)
}

public struct ClientError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public var description: String { "\(code): \(message)" }

    static let notConnected = ClientError(code: "NOT_CONNECTED", message: "not connected; the client reconnects by itself")
    static let noFirstFrame = ClientError(code: "NO_FIRST_FRAME", message: "the server sent nothing after the upgrade")
    static let timeout = ClientError(code: "TIMEOUT", message: "no reply in time")
    static let connectionLost = ClientError(code: "CONNECTION_LOST", message: "the connection closed before the reply")
    static let stopped = ClientError(code: "STOPPED", message: "the client was stopped")
}

/// How the client connects and reconnects.
public struct ClientConfiguration: Sendable {
    /// Tried in turn on each (re)connection, so a client fails over between instances.
    public var urls: [String]
    /// A JWT sent as `Authorization: Bearer`; an API key as `X-API-Key`.
    public var token: String?
    public var apiKey: String?
    public var requestTimeout: Duration = .seconds(10)
    /// The server's first frame (the welcome, or why it refuses) must arrive this soon after the upgrade, or the
    /// connection counts as lost and the client tries again. Longer than the server's auth timeout (5 s), so a
    /// refusal always arrives first; it guards against WSClient losing a close sent right after the upgrade.
    public var firstFrameTimeout: Duration = .seconds(10)
    /// Offer permessage-deflate; large events then arrive compressed and are inflated here.
    public var compression = true
    /// Backoff: attempt n waits a random time in [0, min(maxDelay, initialDelay * 2^n)] ("full jitter").
    public var initialDelay: Double = 0.2
    public var maxDelay: Double = 10
    /// Give up after this many failed attempts in a row; nil retries for ever.
    public var maxAttempts: Int?

    public init(urls: [String], token: String? = nil, apiKey: String? = nil) {
        self.urls = urls
        self.token = token
        self.apiKey = apiKey
    }

    func delay(attempt: Int) -> Double {
        let ceiling = min(maxDelay, initialDelay * Double(1 << min(attempt, 30)))
        return Double.random(in: 0...ceiling)
    }
}
