import Prometheus
import Synchronization

/// The server's Prometheus metrics, under the reference's names (mcp-common `metrics.py`) so existing
/// dashboards keep working, plus ours. Rooms are labelled by channel pattern (`workflow:*`), never by room
/// name, so cardinality stays bounded. One registry per server (tests run many servers in one process).
public final class ServerMetrics: Sendable {
    static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public let registry = PrometheusCollectorRegistry()
    private let server: String
    private let connectionsTotal: Counter
    private let connectionsActive: Gauge
    /// mahavishnu's own name for `websocket_connections_active`, which upstream's Grafana dashboard queries.
    private let connections: Gauge
    let rooms: Gauge
    /// 1 while serving, 0 while draining: upstream's `websocket_health` (its check script's), which its
    /// Grafana overview panels sum.
    let health: Gauge
    let subscriptions: Gauge
    /// Dedicated permessage-deflate contexts, and the memory zlib documents for them.
    let compressionContexts: Gauge
    let compressionContextBytes: Gauge
    let slowConsumers: Counter
    let rateLimited: Counter
    private let received: [MessageType: Counter]
    private let sent: [MessageType: Counter]
    private let latency: [MessageType: ValueHistogram]
    private let broadcasts: [String: (count: Counter, duration: ValueHistogram)]
    private let drains: [LingeringClose.Outcome: Counter]
    private let connectionErrors = Mutex<[String: Counter]>([:])
    private let messageErrors = Mutex<[String: Counter]>([:])
    /// mahavishnu's `websocket_errors_total{error_type}` (upstream's dashboard): every connection and message
    /// error, by the same labels as the two counters above.
    private let errors = Mutex<[String: Counter]>([:])
    private let alerts = Mutex<[String: Gauge]>([:])

    init(server: String, tls: Bool, channelLabels: [String]) {
        self.server = server
        let registry = self.registry
        let label = [("server", server)]
        connectionsTotal = registry.makeCounter(
            descriptor: .named("websocket_connections_total"), labels: label + [("tls_mode", tls ? "wss" : "ws")])
        connectionsActive = registry.makeGauge(descriptor: .named("websocket_connections_active"), labels: label)
        connections = registry.makeGauge(descriptor: .named("websocket_connections"), labels: label)
        rooms = registry.makeGauge(descriptor: .named("websocket_rooms"), labels: label)
        health = registry.makeGauge(descriptor: .named("websocket_health"), labels: label)
        subscriptions = registry.makeGauge(descriptor: .named("websocket_subscriptions"), labels: label)
        compressionContexts = registry.makeGauge(descriptor: .named("websocket_compression_contexts"), labels: label)
        compressionContextBytes = registry.makeGauge(descriptor: .named("websocket_compression_context_bytes"), labels: label)
        slowConsumers = registry.makeCounter(descriptor: .named("websocket_slow_consumers_total"), labels: label)
        rateLimited = registry.makeCounter(descriptor: .named("websocket_rate_limited_total"), labels: label)
        func messages(_ direction: String) -> [MessageType: Counter] {
            Dictionary(
                uniqueKeysWithValues: MessageType.allCases.map { type in
                    (
                        type,
                        registry.makeCounter(
                            descriptor: .named("websocket_messages_total"),
                            labels: label + [("message_type", type.rawValue), ("direction", direction)])
                    )
                })
        }
        received = messages("received")
        sent = messages("sent")
        latency = Dictionary(
            uniqueKeysWithValues: MessageType.allCases.map { type in
                (
                    type,
                    registry.makeValueHistogram(
                        descriptor: .named("websocket_latency_seconds"), labels: label + [("message_type", type.rawValue)],
                        buckets: Self.latencyBuckets)
                )
            })
        broadcasts = Dictionary(
            uniqueKeysWithValues: channelLabels.map { channel in
                (
                    channel,
                    (
                        registry.makeCounter(
                            descriptor: .named("websocket_broadcast_total"), labels: label + [("channel", channel)]),
                        registry.makeValueHistogram(
                            descriptor: .named("websocket_broadcast_duration_seconds"), labels: label + [("channel", channel)],
                            buckets: Self.latencyBuckets)
                    )
                )
            })
        drains = Dictionary(
            uniqueKeysWithValues: LingeringClose.Outcome.allCases.map { outcome in
                (
                    outcome,
                    registry.makeCounter(
                        descriptor: .named("websocket_close_drains_total"), labels: label + [("outcome", outcome.rawValue)])
                )
            })
        // Every label known in advance is exposed at 0 from the start, so `rate()` and alerts see the first one.
        for type in CloseCode.errorLabels + RefusalCode.allCases.map(\.label) {
            _ = counter(type, in: connectionErrors, name: "websocket_connection_errors_total")
            _ = counter(type, in: errors, name: "websocket_errors_total")
        }
        for code in ErrorCode.allCases {
            _ = counter(code.label, in: messageErrors, name: "websocket_message_errors_total")
            _ = counter(code.label, in: errors, name: "websocket_errors_total")
        }
        for name in Monitor.alertNames { alert(name, active: false) }
    }

    func connectionOpened() {
        connectionsTotal.increment()
        connectionsActive.increment()
        connections.increment()
    }

    func connectionClosed() {
        connectionsActive.decrement()
        connections.decrement()
    }

    func received(_ type: MessageType) { received[type]?.increment() }
    func sent(_ type: MessageType, count: Int = 1) { sent[type]?.increment(by: Int64(count)) }
    func handled(_ type: MessageType, seconds: Double) { latency[type]?.record(seconds) }

    func broadcast(channel: String, seconds: Double) {
        guard let metrics = broadcasts[channel] else { return }
        metrics.count.increment()
        metrics.duration.record(seconds)
    }

    /// `websocket_connection_errors_total{error_type}`: refused or dropped connections.
    public func connectionError(_ type: String) {
        counter(type, in: connectionErrors, name: "websocket_connection_errors_total").increment()
        counter(type, in: errors, name: "websocket_errors_total").increment()
    }

    /// `websocket_message_errors_total{error_type}`: error replies, by code.
    func messageError(_ code: ErrorCode) {
        counter(code.label, in: messageErrors, name: "websocket_message_errors_total").increment()
        counter(code.label, in: errors, name: "websocket_errors_total").increment()
    }

    /// `websocket_close_drains_total{outcome}`: how the drain after each close we started ended. Drains ended
    /// by `timeout` or `byte_limit` are peers that kept sending after our close frame.
    func drainEnded(_ outcome: LingeringClose.Outcome) { drains[outcome]?.increment() }

    func alert(_ name: String, active: Bool) {
        let gauge = alerts.withLock { gauges in
            if let gauge = gauges[name] { return gauge }
            let gauge = registry.makeGauge(
                descriptor: .named("websocket_alert_active"), labels: [("server", server), ("alert", name)])
            gauges[name] = gauge
            return gauge
        }
        gauge.set(to: active ? 1.0 : 0.0)
    }

    private func counter(_ type: String, in table: borrowing Mutex<[String: Counter]>, name: String) -> Counter {
        table.withLock { counters in
            if let counter = counters[type] { return counter }
            let counter = registry.makeCounter(descriptor: .named(name), labels: [("server", server), ("error_type", type)])
            counters[type] = counter
            return counter
        }
    }

    public func exposition() -> String { registry.emitToString() }
}

extension MetricNameDescriptor {
    /// The exact metric name (an empty unit adds no suffix).
    static func named(_ name: String) -> MetricNameDescriptor { .init(metricName: name, unitName: "", helpText: "") }
}
