import Common

/// akosha (port 8692): detected patterns, anomalies, insights and aggregation metrics.
@main
enum Akosha {
    static func main() async { await ServiceMain.run(definition()) }

    // The room is named by the pattern's type, as upstream publishes it (`patterns:{pattern_type}`); its
    // `get_patterns` calls that value the category.
    static let patterns: ChannelPattern = "patterns:{pattern_type}"
    static let anomalies: ChannelPattern = "anomalies"
    static let insights: ChannelPattern = "insights"
    static let metrics: ChannelPattern = "metrics"
    static let global: ChannelPattern = "global"

    static let channels: [ChannelSpec] = [
        ChannelSpec(patterns, permission: "akosha:read", "Patterns detected of one type (the category)"),
        ChannelSpec(anomalies, permission: "akosha:read", "Every anomaly detected"),
        ChannelSpec(insights, permission: "akosha:read", "Generated insights"),
        ChannelSpec(metrics, permission: "akosha:read", "Completed aggregations"),
        ChannelSpec(global, "System-wide announcements"),
    ]

    enum Events {
        static let patternDetected = EventSpec(
            "pattern.detected", in: patterns,
            // Aliases: the integration report's `type`, which producers written from it send.
            [
                .init("pattern_id", .string), .init("pattern_type", .string, aliases: ["type"]), .init("description", .string),
                .init("confidence", .number),
            ],
            "A pattern was detected; extra metadata keys follow the required ones")
        static let anomalyDetected = EventSpec(
            "anomaly.detected", in: anomalies,
            [
                .init("anomaly_id", .string), .init("anomaly_type", .string, aliases: ["type"]), .init("severity", .string),
                .init("description", .string), .init("metrics", .object),
            ],
            "An anomaly was detected")
        static let insightGenerated = EventSpec(
            "insight.generated", in: insights,
            [
                .init("insight_id", .string), .init("insight_type", .string, aliases: ["type"]), .init("title", .string),
                .init("description", .string), .init("data", .object),
            ],
            "An insight was generated")
        static let aggregationCompleted = EventSpec(
            "aggregation.completed", in: metrics,
            [
                .init("aggregation_id", .string), .init("aggregation_type", .string, aliases: ["type"]),
                .init("record_count", .integer),
                .init("summary", .object),
            ],
            "An aggregation run finished")

        static let all = [patternDetected, anomalyDetected, insightGenerated, aggregationCompleted]
    }

    static func definition(state: DetectionState = DetectionState()) -> ServiceDefinition {
        let kept = "the newest \(DetectionState.capacity) are kept; `limit` defaults to \(DetectionState.defaultLimit)"
        return ServiceDefinition(
            name: "akosha", environmentPrefix: "AKOSHA", defaultPort: 8692,
            welcomeMessage: "Connected to Akosha pattern detection",
            channels: channels, events: Events.all,
            requests: [
                RequestSpec(
                    "get_patterns",
                    parameters: [.init("category", .string, required: false), .init("limit", .integer, required: false)],
                    "`{category, patterns, count, total_seen}`: recent `pattern.detected` payloads, newest first, "
                        + "of one category (the room's `{pattern_type}`) or `all`; \(kept)",
                    handler: state.recentPatterns),
                RequestSpec(
                    "get_anomalies",
                    parameters: [.init("severity", .string, required: false), .init("limit", .integer, required: false)],
                    "`{anomalies, count, total_seen}`: recent `anomaly.detected` payloads, newest first; \(kept)",
                    handler: state.recentAnomalies),
            ],
            observers: [state.observe])
    }
}
