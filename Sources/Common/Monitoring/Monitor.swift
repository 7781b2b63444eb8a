import Logging
import Synchronization

/// One point of the dashboard's charts: rates over the last sampling interval.
public struct Sample: Sendable {
    public let time: Double  // unix seconds
    public let connections: Int
    public let messagesInPerSecond: Double
    public let deliveriesPerSecond: Double
    public let errorRate: Double
    public let messageLatencyMs: Double
    public let connectionLatencyMs: Double

    var json: JSONValue {
        [
            "time": .double(time), "connections": JSONValue(connections),
            "messages_in_per_second": .double(Self.round(messagesInPerSecond)),
            "deliveries_per_second": .double(Self.round(deliveriesPerSecond)),
            "error_rate": .double(Self.round(errorRate, places: 4)),
            "message_latency_ms": .double(Self.round(messageLatencyMs, places: 3)),
            "connection_latency_ms": .double(Self.round(connectionLatencyMs, places: 3)),
        ]
    }

    static func round(_ value: Double, places: Int = 1) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}

/// Samples the counters every few seconds: keeps ten minutes of history for the dashboard and evaluates the
/// alert thresholds, logging each alert once when it starts and once when it ends.
final class Monitor: Sendable {
    static let interval = 5.0
    /// The alerts `websocket_alert_active{alert}` reports, each from 0 at start.
    static let alertNames = ["connection_limit", "error_rate", "message_latency", "connection_latency"]
    static let historySize = 120

    let history = RecentItems<Sample>(capacity: historySize)
    private let state = Mutex(State())

    private struct State {
        var last: Counts?
        var active: [String: String] = [:]  // alert → message
    }

    /// Counter values at one instant.
    struct Counts {
        var at: Double
        var received: Int
        var delivered: Int
        var errors: Int
        var latencyMicros: Int
        var handled: Int
        var connectLatencyMicros: Int
        var connected: Int
    }

    /// Alerts active now, name → message.
    var activeAlerts: [String: String] { state.withLock { $0.active } }

    func sample(_ statistics: Statistics, settings: Settings, metrics: ServerMetrics, logger: Logger) {
        let now = statistics.counts()
        let thresholds = settings.alertThresholds
        let (sample, changes): (Sample?, [(String, String?)]) = state.withLock { state in
            defer { state.last = now }
            guard let last = state.last, now.at > last.at else { return (nil, []) }
            let seconds = now.at - last.at
            let received = now.received - last.received, handled = now.handled - last.handled
            let connects = now.connected - last.connected
            let sample = Sample(
                time: now.at, connections: statistics.activeConnections.load(ordering: .relaxed),
                messagesInPerSecond: Double(received) / seconds,
                deliveriesPerSecond: Double(now.delivered - last.delivered) / seconds,
                errorRate: received > 0 ? Double(now.errors - last.errors) / Double(received) : 0,
                messageLatencyMs: handled > 0 ? Double(now.latencyMicros - last.latencyMicros) / Double(handled) / 1000 : 0,
                connectionLatencyMs: connects > 0
                    ? Double(now.connectLatencyMicros - last.connectLatencyMicros) / Double(connects) / 1000 : 0)
            let used = Double(sample.connections) / Double(max(settings.maxConnections, 1))
            let wanted: [String: String?] = [
                "connection_limit": used > thresholds.connectionLimit
                    ? "\(sample.connections) of \(settings.maxConnections) connections in use" : nil,
                "error_rate": sample.errorRate > thresholds.errorRate
                    ? "error rate \(Sample.round(sample.errorRate * 100, places: 2))% over the last \(Int(seconds)) s" : nil,
                "message_latency": sample.messageLatencyMs > thresholds.messageLatency
                    ? "mean message handling \(Sample.round(sample.messageLatencyMs, places: 2)) ms" : nil,
                "connection_latency": sample.connectionLatencyMs > thresholds.connectionLatency
                    ? "mean upgrade-to-welcome \(Sample.round(sample.connectionLatencyMs, places: 2)) ms" : nil,
            ]
            var changes: [(String, String?)] = []
            for (name, message) in wanted.sorted(by: { $0.key < $1.key }) where (state.active[name] != nil) != (message != nil) {
                state.active[name] = message
                changes.append((name, message))
            }
            return (sample, changes)
        }
        if let sample { history.append(sample) }
        for (name, message) in changes {
            metrics.alert(name, active: message != nil)
            if let message {
                logger.warning("alert raised", metadata: ["alert": "\(name)", "detail": "\(message)"])
            } else {
                logger.notice("alert cleared", metadata: ["alert": "\(name)"])
            }
        }
    }
}
