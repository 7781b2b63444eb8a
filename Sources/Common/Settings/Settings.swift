/// Alert thresholds (PROTOCOL/issue wording): latencies in milliseconds, rates and limits as fractions.
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
    public var logLevel = "info"
    /// `text` or `json`.
    public var logFormat = "text"
    public var alertThresholds = AlertThresholds()

    public init(port: Int) { self.port = port }
}
