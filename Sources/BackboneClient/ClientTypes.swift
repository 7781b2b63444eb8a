import Wire

/// One room event as the client hands it over.
public struct RoomEvent: Sendable {
    public let room: String
    public let event: String
    public let data: JSONObject
    /// The event's position in its room (absent from servers that predate positions).
    public let seq: Int?
    public let epoch: String?
    /// Who published it, as the server stamped it: the token's user or the API key's name (with auth on).
    public let publisher: String?
    /// The connection that published it, for events a client published over its WebSocket.
    public let fromConnection: String?
}

/// A message sent to this connection or its user alone (docs/protocol.md, "Direct messages").
public struct DirectMessage: Sendable {
    public let event: String
    public let data: JSONObject
    public let publisher: String?
    /// The sender's connection, when it sent over a WebSocket (answer it with `send(toConnection:)`).
    public let fromConnection: String?
    /// `.user(id)` when sent to every connection of the user, `.connection(id)` when to this one.
    public let to: Recipient
}

/// Whom a direct message is for.
public enum Recipient: Sendable, Equatable {
    case user(String)
    case connection(String)
}

/// Who is in a room with presence: the `presence` request's answer (docs/protocol.md, "Presence").
public struct Presence: Sendable {
    public struct Member: Sendable, Equatable {
        public let connectionID: String
        public let userID: String?
        /// ISO 8601.
        public let joinedAt: String?
    }

    public let room: String
    /// `members`, or `count` for rooms that report counts only (then `members` is empty).
    public let mode: String
    public let count: Int
    public let members: [Member]
    /// More members than the reply lists.
    public let truncated: Bool

    init(_ data: JSONObject) {
        room = data["room"]?.stringValue ?? ""
        mode = data["mode"]?.stringValue ?? "count"
        count = Int(data["count"]?.intValue ?? 0)
        members = (data["members"]?.arrayValue ?? []).map { member in
            Member(
                connectionID: member["connection_id"]?.stringValue ?? "", userID: member["user_id"]?.stringValue,
                joinedAt: member["joined_at"]?.stringValue)
        }
        truncated = data["truncated"]?.boolValue ?? false
    }
}

/// What the client reports, in order, on `BackboneClient.updates`.
public enum ClientUpdate: Sendable {
    case event(RoomEvent)
    /// A direct message to this connection or its user.
    case direct(DirectMessage)
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
