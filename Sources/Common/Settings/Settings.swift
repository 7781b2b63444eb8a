import RESP
import NIOCore

/// Alert thresholds (docs/operations.md): latencies in milliseconds, rates and limits as fractions.
public struct AlertThresholds: Sendable, Equatable {
    public var connectionLatency: Double = 100
    public var messageLatency: Double = 50
    public var errorRate: Double = 0.01
    public var connectionLimit: Double = 0.8

    public init() {}
}

/// One service's runtime settings. Defaults here; `settings/<service>.yaml`, then environment variables,
/// then command-line flags override them (see `SettingsLoader`).
public struct Settings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port: Int
    public var maxConnections = 1000
    /// Messages per second per connection (token bucket; burst is 1.5x).
    public var messageRateLimit = 100
    /// Events/s a connection allowed to publish may publish (burst 1.5x), metered apart from
    /// `message_rate_limit`, which protects the server from chatty subscribers, not from its producers.
    public var publishRateLimit = 20_000
    /// Events one batch may carry (`publish` with `data.events`, or a JSON array on `POST /api/events`).
    public var publishBatchMax = 1000
    /// Seconds between server pings; a peer that has not answered by the next one is closed.
    public var heartbeatInterval: Double = 30
    /// Seconds between sweeps of idle rate-limit state and empty rooms.
    public var cleanupInterval: Double = 300
    /// Largest accepted message (frame or reassembled fragments), in bytes; larger closes with 1009.
    public var maxMessageSize = 1 << 20
    /// Seconds to wait for connections to close on shutdown before exiting anyway.
    public var shutdownTimeout: Double = 5
    /// Event loop threads; 0 means one per CPU core.
    public var eventLoopThreads = 0
    /// Connections from one IP address; 0 means no per-address limit.
    public var maxConnectionsPerIP = 0
    /// Rooms one connection may be in at once.
    public var maxSubscriptions = 100
    /// Bytes queued for one slow client before it is closed with 4008 (its socket buffer is not counted).
    public var maxOutboundBuffer = 4 << 20
    /// Seconds a new TCP connection may take to send its HTTP request.
    public var handshakeTimeout: Double = 10
    /// Seconds a close the server starts may take: after the close frame our side is shut and the peer's
    /// bytes are read and dropped until it closes too, so it can still read everything we sent.
    public var closeDrainTimeout: Double = 2
    /// Bytes a peer may still send during that drain before the connection is dropped anyway. Several
    /// `max_message_size`s by default: the rest of an oversized message must fit, or its sender loses the 1009.
    public var closeDrainBytes = 8 << 20
    /// permessage-deflate (RFC 7692): docs/operations.md, "Compression".
    public var compression = CompressionSettings()
    /// `Origin` values allowed to open WebSockets; empty allows any. Requests without `Origin` pass; note that
    /// some non-browser clients send one anyway (swift-websocket sends `ws://<host>`).
    public var allowedOrigins: [String] = []
    /// Serve `/echo`, a WebSocket that echoes every message: only for protocol conformance runs (Autobahn).
    public var echoEndpoint = false
    /// Base URLs of the services the dashboard's "all services" view shows (default: the four on this host).
    public var dashboardServices = [
        "http://127.0.0.1:8688", "http://127.0.0.1:8690", "http://127.0.0.1:8692", "http://127.0.0.1:8686",
    ]
    public var logLevel = "info"
    /// `text` or `json`.
    public var logFormat = "text"
    public var alertThresholds = AlertThresholds()
    /// Events kept per room for resume (`subscribe` with `data.since`); 0 turns history off.
    public var historySize = 50
    /// Seconds an event stays resumable.
    public var historyTTL: Double = 300
    /// Rooms with history at most; the least recently published go first.
    public var historyRooms = 1000
    /// `local` (one process, default) or `redis` (many instances sharing `redis_url`).
    public var broker = "local"
    public var redisURL = "redis://127.0.0.1:6379"
    /// Seconds an instance's presence (its room counts) lives in Redis without a refresh.
    public var presenceTTL: Double = 15
    /// Seconds joins and leaves of a presence room are collected before one `presence.joined` / `presence.left`.
    public var presenceDebounce: Double = 0.5
    /// Most members a `presence` reply or a presence event lists (the count is always exact).
    public var presenceMaxMembers = 100
    /// This instance's name in Redis presence; empty means `<hostname>-<pid>`.
    public var instanceID = ""
    public var auth = AuthSettings()
    public var tls = TLSSettings()
    /// `websocket_enabled` (or `websocket: {enabled}`), as the ecosystem's settings write it. Off means the
    /// service has nothing to serve: it says so and exits 0, so a supervisor does not restart it.
    public var webSocketEnabled = true
    /// A second listener serving only `GET /metrics` (and `/health`), for scrapers that expect a metrics port
    /// (upstream's default is 9090); 0 means off: `/metrics` is always on the main port too.
    public var metricsPort = 0
    /// A listener serving only `/mcp` and `/health`; 0 = off (`/mcp` is always on the service port).
    public var mcpPort = 0
    /// Open MCP-over-HTTP sessions at most, and how long an unused one lives.
    public var mcpMaxSessions = 64
    public var mcpSessionTimeout: Double = 600
    /// The flat-JSON metrics stream of a service that defines one (session-buddy, port 8765).
    public var metricsStream = MetricsStreamSettings()
    /// How the ecosystem's server descriptions name the service; reported in `/health` and the status API.
    public var serverDescription = ServerDescription()

    public init(port: Int) { self.port = port }

    /// Checks that hold across keys; named after the key to fix.
    func validate() throws(SettingsError) {
        if auth.enabled, auth.jwtSecret == nil, auth.jwtPublicKeyFile == nil, auth.apiKeys.isEmpty {
            throw SettingsError(
                description: "auth_enabled: true needs jwt_secret (HS*), jwt_public_key_file (RS256/ES256) or api_keys")
        }
        if auth.jwtAlgorithm.hasPrefix("HS"), auth.jwtPublicKeyFile != nil {
            throw SettingsError(description: "jwt_public_key_file: only used with RS256 or ES256, not \(auth.jwtAlgorithm)")
        }
        if !auth.jwtAlgorithm.hasPrefix("HS"), auth.enabled, auth.jwtPublicKeyFile == nil, auth.apiKeys.isEmpty {
            throw SettingsError(description: "jwt_public_key_file: required for \(auth.jwtAlgorithm)")
        }
        if broker == "redis", RedisAddress(url: redisURL) == nil {
            throw SettingsError(description: "redis_url: expected redis://host[:port], got \"\(redisURL)\"")
        }
        if tls.enabled, tls.certFile == nil || tls.keyFile == nil {
            throw SettingsError(description: "tls.enabled: true needs tls.cert_file and tls.key_file")
        }
    }
}

/// The `id`, `name`, `capabilities` and `relationships` of a server description. Unset names default to the
/// service's name; `relationships` is free-form (any YAML), reported as JSON.
public struct ServerDescription: Sendable, Equatable {
    public var id: String?
    public var name: String?
    public var capabilities: [String] = []
    public var relationships: JSONValue = .object([:])

    public init() {}
}

/// session-buddy's flat-JSON metrics stream (`RealTimeMetricsServer`'s protocol), on a port of its own.
public struct MetricsStreamSettings: Sendable, Equatable {
    public var enabled = true
    /// 8765, as upstream; 0 picks a free port (tests).
    public var port = 8765
    /// Seconds between `metrics_update` messages.
    public var updateInterval: Double = 1

    public init() {}
}

/// Authentication (docs/security.md). Off by default, as in the reference; when on, it never fails open.
public struct AuthSettings: Sendable, Equatable {
    public var enabled = false
    /// HMAC secret for HS256/HS384/HS512 tokens. Prefer the environment (`<PREFIX>_JWT_SECRET`) to the file.
    public var jwtSecret: String?
    /// HS256 (default), HS384, HS512, RS256 or ES256.
    public var jwtAlgorithm = "HS256"
    /// PEM public key (or certificate for RS256) that verifies RS256/ES256 tokens.
    public var jwtPublicKeyFile: String?
    /// Keys for producers and operators (`X-API-Key`), each with full rights.
    public var apiKeys: [String] = []
    /// Seconds a connection may wait before sending its first-frame `auth` request.
    public var timeout: Double = 5

    public init() {}
}

/// permessage-deflate (RFC 7692), negotiated with every client that offers it.
public struct CompressionSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Never negotiated: every client gets plain frames.
        case off
        /// No context takeover on the server side: a broadcast is compressed once and the same bytes go to
        /// every subscriber. No zlib state per connection.
        case shared
        /// A compressor per connection that keeps its window between messages (better ratios for a client
        /// that receives similar messages), created on its first compressed message: memory per connection.
        case dedicated
    }

    public var mode = Mode.shared
    /// Messages with a smaller payload (bytes) go uncompressed (RSV1 clear): deflate gains nothing on them.
    public var threshold = 256
    /// The server's LZ77 window, 9...15 (a client's `server_max_window_bits` can lower it). As Python
    /// `websockets`: 12, i.e. 4 KiB.
    public var windowBits = 12
    /// zlib level, 1 (fastest) ... 9 (smallest).
    public var level = 6
    /// zlib memory level, 1...9: the size of its hash tables. With the window this bounds a dedicated context
    /// to about `2^(window_bits+2) + 2^(memory_level+9)` bytes.
    public var memoryLevel = 5

    public init() {}

    /// What one dedicated context costs, as zlib documents it (plus its fixed state, about 6 KiB).
    var contextBytes: Int { (1 << (windowBits + 2)) + (1 << (memoryLevel + 9)) + 6 * 1024 }
}

/// `wss://` with certificate files (swift-nio-ssl); TLS 1.2 is the minimum.
public struct TLSSettings: Sendable, Equatable {
    public var enabled = false
    public var certFile: String?
    public var keyFile: String?
    /// CA bundle for client certificates; setting it (or `verify_client`) requires them.
    public var caFile: String?
    public var verifyClient = false

    public init() {}
}

extension TimeAmount {
    /// A duration from a settings value in (fractional) seconds.
    static func interval(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}
