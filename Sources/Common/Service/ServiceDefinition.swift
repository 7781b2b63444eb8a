/// What a request handler sees.
public struct RequestContext: Sendable {
    public let request: Envelope
    public let connectionID: String
    public var data: JSONObject { request.data }

    /// A required string parameter, or a `VALIDATION_ERROR` naming it.
    public func string(_ key: String) throws(ProtocolError) -> String {
        guard let value = data[key]?.stringValue, !value.isEmpty else {
            throw .validation("Request '\(request.event ?? "")' requires data.\(key) (non-empty string)")
        }
        return value
    }
}

/// A status request a service answers (`get_pool_status`, ...). Handlers run on an event loop: they must
/// answer from memory (the service's projection) and never block.
public struct RequestSpec: Sendable {
    public let name: String
    public let parameters: [FieldSpec]
    public let summary: String
    public let handler: @Sendable (RequestContext) throws(ProtocolError) -> JSONObject

    public init(
        _ name: String, parameters: [FieldSpec] = [], _ summary: String,
        handler: @escaping @Sendable (RequestContext) throws(ProtocolError) -> JSONObject
    ) {
        self.name = name
        self.parameters = parameters
        self.summary = summary
        self.handler = handler
    }
}

/// Everything a service registers on the shared server: its identity, channels, events, requests and the
/// observers that keep its projection of state. The server does the rest.
public struct ServiceDefinition: Sendable {
    /// Executable and `server` name, e.g. `mahavishnu`.
    public let name: String
    /// Prefix of environment variables, e.g. `MAHAVISHNU` (→ `MAHAVISHNU_WS_PORT`).
    public let environmentPrefix: String
    public let defaultPort: Int
    /// The welcome's `message`, e.g. "Connected to Mahavishnu orchestration".
    public let welcomeMessage: String
    public let catalog: EventCatalog
    public let requests: [RequestSpec]
    /// Called for every published event, before fan-out, on the publisher's thread.
    public let observers: [@Sendable (PublishedEvent) -> Void]
    /// Extra environment variable → settings key (e.g. crackerjack's `BODAI_SHARED_SECRET` → `jwt_secret`),
    /// weaker than the service's own names.
    public var environmentAliases: [String: String] = [:]
    /// A flat-JSON stream on a port of its own (`metrics_stream.*` settings), for services whose real clients
    /// speak one (session-buddy).
    public var metricsStream: MetricsStreamSpec?
    /// What the service runs when clients connect, subscribe, leave rooms and disconnect.
    public var hooks = ConnectionHooks()

    public init(
        name: String, environmentPrefix: String, defaultPort: Int, welcomeMessage: String,
        channels: [ChannelSpec], events: [EventSpec], requests: [RequestSpec] = [],
        observers: [@Sendable (PublishedEvent) -> Void] = []
    ) {
        self.name = name
        self.environmentPrefix = environmentPrefix
        self.defaultPort = defaultPort
        self.welcomeMessage = welcomeMessage
        self.catalog = EventCatalog(channels: channels, events: events)
        self.requests = requests
        self.observers = observers
    }
}

extension RequestContext {
    /// An optional string parameter; present but not a string is a `VALIDATION_ERROR`.
    public func optionalString(_ key: String) throws(ProtocolError) -> String? {
        switch data[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value.isEmpty ? nil : value
        case let other?: throw .validation("data.\(key) must be a string, got \(other.typeName)")
        }
    }

    /// An optional integer parameter within `range`, else `fallback`.
    public func integer(_ key: String, in range: ClosedRange<Int>, default fallback: Int) throws(ProtocolError) -> Int {
        guard let value = data[key], value != .null else { return fallback }
        guard let number = value.intValue, range.contains(Int(number)) else {
            throw .validation("data.\(key) must be an integer in \(range)")
        }
        return Int(number)
    }
}
