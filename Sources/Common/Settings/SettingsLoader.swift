import Foundation
import Yams

/// A settings problem, always naming the key and where its value came from.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// One settings key: its YAML name (dotted when nested), how to parse it, where it goes.
struct SettingKey: Sendable {
    let name: String
    /// Other environment names, `{P}` standing for the service prefix (the reference's `MAHAVISHNU_JWT_SECRET`...).
    var aliases: [String] = []
    let apply: @Sendable (inout Settings, Any) throws(SettingsError) -> Void

    /// `alert_thresholds.error_rate` → `MAHAVISHNU_WS_ALERT_THRESHOLDS_ERROR_RATE`.
    func environmentName(prefix: String) -> String {
        prefix + "_WS_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Every environment name, weakest first: aliases, then the canonical name.
    func environmentNames(prefix: String, extra: [String]) -> [String] {
        extra + aliases.map { $0.replacingOccurrences(of: "{P}", with: prefix) } + [environmentName(prefix: prefix)]
    }

    func with(aliases: String...) -> SettingKey {
        var key = self
        key.aliases = aliases
        return key
    }
}

/// Reads settings in layers: defaults < YAML file < environment < command line. Every value is checked;
/// the first bad one stops start-up with a message like `settings/x.yaml: port: expected an integer in 1...65535, got "abc"`.
public enum SettingsLoader {
    static let keys: [SettingKey] = [
        key("host", \.host, string(nonEmpty: true)),
        key("port", \.port, integer(1...65535, allowZero: true)),
        key("max_connections", \.maxConnections, integer(1...10_000_000)),
        key("message_rate_limit", \.messageRateLimit, integer(1...1_000_000)),
        key("publish_rate_limit", \.publishRateLimit, integer(1...10_000_000)),
        key("publish_batch_max", \.publishBatchMax, integer(1...100_000)),
        key("heartbeat_interval", \.heartbeatInterval, number(0.05...86_400)),
        key("cleanup_interval", \.cleanupInterval, number(0.05...86_400)),
        key("max_message_size", \.maxMessageSize, integer(256...(64 << 20))),
        key("shutdown_timeout", \.shutdownTimeout, number(0...600)),
        key("event_loop_threads", \.eventLoopThreads, integer(0...256, allowZero: true)),
        key("max_connections_per_ip", \.maxConnectionsPerIP, integer(0...10_000_000, allowZero: true)),
        key("max_subscriptions", \.maxSubscriptions, integer(1...100_000)),
        key("max_outbound_buffer", \.maxOutboundBuffer, integer(64 << 10...(1 << 30))),
        key("handshake_timeout", \.handshakeTimeout, number(0.1...600)),
        key("close_drain_timeout", \.closeDrainTimeout, number(0.05...600)),
        key("close_drain_bytes", \.closeDrainBytes, integer(0...(1 << 30))),
        key("compression", \.compression.mode, compressionMode),
        key("compression_threshold", \.compression.threshold, integer(0...(64 << 20), allowZero: true)),
        key("compression_window_bits", \.compression.windowBits, integer(9...15)),
        key("compression_level", \.compression.level, integer(1...9)),
        key("compression_memory_level", \.compression.memoryLevel, integer(1...9)),
        key("allowed_origins", \.allowedOrigins, stringList),
        key("echo_endpoint", \.echoEndpoint, boolean),
        key("dashboard_services", \.dashboardServices, stringList),
        key("log_level", \.logLevel, oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"])),
        key("log_format", \.logFormat, oneOf(["text", "json"])),
        key("alert_thresholds.connection_latency", \.alertThresholds.connectionLatency, number(0...3_600_000)),
        key("alert_thresholds.message_latency", \.alertThresholds.messageLatency, number(0...3_600_000)),
        key("alert_thresholds.error_rate", \.alertThresholds.errorRate, number(0...1)),
        key("alert_thresholds.connection_limit", \.alertThresholds.connectionLimit, number(0...1)),
        key("history_size", \.historySize, integer(0...100_000, allowZero: true)),
        key("history_ttl", \.historyTTL, number(1...86_400)),
        key("history_rooms", \.historyRooms, integer(1...10_000_000)),
        key("broker", \.broker, oneOf(["local", "redis"])),
        key("redis_url", \.redisURL, string(nonEmpty: true)).with(aliases: "{P}_REDIS_URL"),
        key("presence_ttl", \.presenceTTL, number(1...3600)),
        key("presence_debounce", \.presenceDebounce, number(0.01...60)),
        key("presence_max_members", \.presenceMaxMembers, integer(1...10_000)),
        key("instance_id", \.instanceID, string(nonEmpty: false)),
        key("auth_enabled", \.auth.enabled, boolean).with(aliases: "{P}_AUTH_ENABLED"),
        key("jwt_secret", \.auth.jwtSecret, optionalString).with(aliases: "{P}_JWT_SECRET"),
        key("jwt_algorithm", \.auth.jwtAlgorithm, upperOneOf(["HS256", "HS384", "HS512", "RS256", "ES256"]))
            .with(aliases: "{P}_JWT_ALGORITHM"),
        key("jwt_public_key_file", \.auth.jwtPublicKeyFile, optionalString).with(aliases: "{P}_JWT_PUBLIC_KEY_FILE"),
        key("api_keys", \.auth.apiKeys, stringList).with(aliases: "{P}_API_KEYS"),
        key("auth_timeout", \.auth.timeout, number(0.1...600)),
        key("tls.enabled", \.tls.enabled, boolean),
        key("tls.cert_file", \.tls.certFile, optionalString).with(aliases: "{P}_WS_CERT_FILE"),
        key("tls.key_file", \.tls.keyFile, optionalString).with(aliases: "{P}_WS_KEY_FILE"),
        key("tls.ca_file", \.tls.caFile, optionalString).with(aliases: "{P}_WS_CA_FILE"),
        key("tls.verify_client", \.tls.verifyClient, boolean).with(aliases: "{P}_WS_VERIFY_CLIENT"),
        key("websocket_enabled", \.webSocketEnabled, boolean),
        key("metrics_port", \.metricsPort, integer(1...65535, allowZero: true)),
        key("mcp_port", \.mcpPort, integer(1...65535, allowZero: true)),
        key("mcp_max_sessions", \.mcpMaxSessions, integer(1...100_000)),
        key("mcp_session_timeout", \.mcpSessionTimeout, number(1...86_400)),
        key("metrics_stream.enabled", \.metricsStream.enabled, boolean),
        key("metrics_stream.port", \.metricsStream.port, integer(1...65535, allowZero: true)),
        key("metrics_stream.update_interval", \.metricsStream.updateInterval, number(0.05...3600)),
        key("id", \.serverDescription.id, optionalString),
        key("name", \.serverDescription.name, optionalString),
        key("capabilities", \.serverDescription.capabilities, stringList),
        key("relationships", \.serverDescription.relationships, freeForm),
    ]

    /// Keys whose value is any YAML (reported as JSON), so a mapping under them is not read as nested keys.
    static let freeFormKeys: Set<String> = ["relationships"]

    /// The plan's nested `websocket:` block: each key in it is the top-level key named here.
    static let webSocketBlock = [
        "enabled": "websocket_enabled", "host": "host", "port": "port", "max_connections": "max_connections",
        "message_rate_limit": "message_rate_limit",
    ]

    static let secretKeys: Set<String> = ["jwt_secret", "api_keys"]

    /// Names every environment variable the service reads, for docs and `--help`.
    public static func environmentVariables(prefix: String) -> [String] {
        [prefix + "_WS_CONFIG"] + keys.flatMap { $0.environmentNames(prefix: prefix, extra: []) }
    }

    /// - Parameters:
    ///   - configPath: an explicit `--config`; nil means `<PREFIX>_WS_CONFIG` or `settings/<service>.yaml`,
    ///     which may be absent (defaults apply) only when nobody asked for it explicitly.
    ///   - flags: command-line overrides by YAML key name.
    static func load(
        service: SettingsScope, configPath: String?, environment: [String: String], flags: [String: String]
    ) throws(SettingsError) -> Settings {
        var settings = Settings(port: service.defaultPort)
        let explicitPath = configPath ?? environment[service.environmentPrefix + "_WS_CONFIG"]
        let path = explicitPath ?? "settings/\(service.name).yaml"
        if let values = try readYAML(path: path, required: explicitPath != nil) {
            try apply(values, to: &settings, source: path, service: service)
        }
        var fromEnvironment: [String: Any] = [:]
        for key in keys {
            let extra = service.environmentAliases.filter { $0.value == key.name }.map(\.key).sorted()
            for name in key.environmentNames(prefix: service.environmentPrefix, extra: extra) {
                if let value = environment[name] { fromEnvironment[key.name] = value }
            }
        }
        try apply(fromEnvironment, to: &settings, source: "environment", service: service)
        try apply(flags, to: &settings, source: "command line", service: service)
        try settings.validate()
        return settings
    }

    /// Flattens the YAML mapping into dotted keys; unknown keys are errors (they are usually typos).
    static func readYAML(path: String, required: Bool) throws(SettingsError) -> [String: Any]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if required { throw SettingsError(description: "\(path): cannot read the settings file") }
            return nil
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw SettingsError(description: "\(path): not valid YAML: \(error)")
        }
        guard let document else { return [:] }
        guard let mapping = document as? [String: Any] else {
            throw SettingsError(description: "\(path): expected a mapping of settings at the top level")
        }
        var flat: [String: Any] = [:]
        for (name, value) in mapping {
            if let nested = value as? [String: Any], !freeFormKeys.contains(name) {
                for (child, childValue) in nested { flat["\(name).\(child)"] = childValue }
            } else {
                flat[name] = value
            }
        }
        return try hoistWebSocketBlock(flat, path: path)
    }

    /// `websocket: {port: 8690}` is `port: 8690`. Setting a key both ways is refused rather than guessed.
    static func hoistWebSocketBlock(_ flat: [String: Any], path: String) throws(SettingsError) -> [String: Any] {
        var result = flat
        for name in flat.keys where name.hasPrefix("websocket.") {
            let child = String(name.dropFirst("websocket.".count))
            guard let target = webSocketBlock[child] else {
                throw SettingsError(
                    description: "\(path): unknown setting '\(name)' (the websocket: block takes "
                        + "\(webSocketBlock.keys.sorted().joined(separator: ", ")))")
            }
            guard flat[target] == nil else {
                throw SettingsError(description: "\(path): \(name) and \(target) are the same setting; keep one")
            }
            result[target] = flat[name]
            result[name] = nil
        }
        return result
    }

    static func apply(
        _ values: [String: Any], to settings: inout Settings, source: String, service: SettingsScope
    ) throws(SettingsError) {
        let known = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        for name in values.keys.sorted() {
            if name.hasPrefix("metrics_stream."), !service.hasMetricsStream {
                throw SettingsError(
                    description: "\(source): \(name): \(service.name) serves no metrics stream (session-buddy does)")
            }
            guard let key = known[name] else {
                throw SettingsError(
                    description: "\(source): unknown setting '\(name)' (known: \(keys.map(\.name).joined(separator: ", ")))")
            }
            do {
                try key.apply(&settings, values[name]!)
            } catch {
                // Never echo a secret, even a malformed one.
                let detail = secretKeys.contains(name) ? "invalid value (not shown: it is a secret)" : error.description
                throw SettingsError(description: "\(source): \(name): \(detail)")
            }
        }
    }

    // MARK: Parsers

    typealias Parser<T> = @Sendable (Any) throws(SettingsError) -> T

    static func key<T>(
        _ name: String, _ path: WritableKeyPath<Settings, T> & Sendable, _ parse: @escaping Parser<T>
    ) -> SettingKey {
        SettingKey(name: name) { (settings: inout Settings, raw: Any) throws(SettingsError) in
            settings[keyPath: path] = try parse(raw)
        }
    }

    static func describe(_ raw: Any) -> String { raw is String ? "\"\(raw)\"" : "\(raw)" }

    static func integer(_ range: ClosedRange<Int>, allowZero: Bool = false) -> Parser<Int> {
        { (raw: Any) throws(SettingsError) -> Int in
            let value: Int? =
                switch raw {
                case let int as Int: int
                case let string as String: Int(string.trimmingCharacters(in: .whitespaces))
                default: nil
                }
            guard let value, range.contains(value) || (allowZero && value == 0) else {
                throw SettingsError(description: "expected an integer in \(range), got \(describe(raw))")
            }
            return value
        }
    }

    static func number(_ range: ClosedRange<Double>) -> Parser<Double> {
        { (raw: Any) throws(SettingsError) -> Double in
            let value: Double? =
                switch raw {
                case let int as Int: Double(int)
                case let double as Double: double
                case let string as String: Double(string.trimmingCharacters(in: .whitespaces))
                default: nil
                }
            guard let value, value.isFinite, range.contains(value) else {
                throw SettingsError(description: "expected a number in \(range), got \(describe(raw))")
            }
            return value
        }
    }

    static func string(nonEmpty: Bool) -> Parser<String> {
        { (raw: Any) throws(SettingsError) -> String in
            guard let value = raw as? String, !(nonEmpty && value.isEmpty) else {
                throw SettingsError(description: "expected a non-empty string, got \(describe(raw))")
            }
            return value
        }
    }

    /// A YAML list, or a comma-separated string (environment, flags).
    static let stringList: Parser<[String]> = { (raw: Any) throws(SettingsError) -> [String] in
        if let list = raw as? [Any] {
            return try list.map { (item: Any) throws(SettingsError) -> String in
                guard let string = item as? String else {
                    throw SettingsError(description: "expected a list of strings, got \(describe(item)) in it")
                }
                return string
            }
        }
        guard let string = raw as? String else {
            throw SettingsError(description: "expected a list of strings, got \(describe(raw))")
        }
        return string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Any YAML value, as JSON (mappings, lists, scalars).
    static let freeForm: Parser<JSONValue> = { (raw: Any) throws(SettingsError) -> JSONValue in
        switch raw {
        case let value as Bool: return .bool(value)
        case let value as Int: return JSONValue(value)
        case let value as Double: return .double(value)
        case let value as String: return .string(value)
        case let list as [Any]: return .array(try list.map { (item: Any) throws(SettingsError) in try freeForm(item) })
        case let mapping as [String: Any]:
            var object = JSONObject()
            for name in mapping.keys.sorted() { object[name] = try freeForm(mapping[name]!) }
            return .object(object)
        case is NSNull: return .null
        default: throw SettingsError(description: "expected YAML scalars, lists or mappings, got \(describe(raw))")
        }
    }

    static let optionalString: Parser<String?> = { (raw: Any) throws(SettingsError) -> String? in
        guard let value = raw as? String else { throw SettingsError(description: "expected a string, got \(describe(raw))") }
        return value.isEmpty ? nil : value
    }

    static func upperOneOf(_ allowed: [String]) -> Parser<String> {
        { (raw: Any) throws(SettingsError) -> String in
            guard let value = (raw as? String)?.uppercased(), allowed.contains(value) else {
                throw SettingsError(description: "expected one of \(allowed.joined(separator: ", ")), got \(describe(raw))")
            }
            return value
        }
    }

    static let boolean: Parser<Bool> = { (raw: Any) throws(SettingsError) -> Bool in
        if let flag = raw as? Bool { return flag }
        switch (raw as? String)?.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingsError(description: "expected true or false, got \(describe(raw))")
        }
    }

    static func oneOf(_ allowed: [String]) -> Parser<String> {
        { (raw: Any) throws(SettingsError) -> String in
            guard let value = raw as? String, allowed.contains(value.lowercased()) else {
                throw SettingsError(description: "expected one of \(allowed.joined(separator: ", ")), got \(describe(raw))")
            }
            return value.lowercased()
        }
    }

    /// `off`, `shared` or `dedicated`; YAML 1.1 reads a bare `off` as false (and `on` as true: the default mode).
    static let compressionMode: Parser<CompressionSettings.Mode> = { (raw: Any) throws(SettingsError) in
        if let flag = raw as? Bool { return flag ? .shared : .off }
        let name = try oneOf(CompressionSettings.Mode.allCases.map(\.rawValue))(raw)
        return CompressionSettings.Mode(rawValue: name)!
    }
}

/// What the loader needs to know of the service it loads settings for.
struct SettingsScope: Sendable {
    let name: String
    let defaultPort: Int
    /// `MAHAVISHNU` reads `MAHAVISHNU_WS_PORT`, ...
    let environmentPrefix: String
    /// Upstream's own variable names, mapped to our keys.
    let environmentAliases: [String: String]
    /// `metrics_stream.*` keys are accepted only for a service that serves one.
    let hasMetricsStream: Bool
}
