import Common

/// The recent patterns and anomalies akosha has published, for `get_patterns` and `get_anomalies`.
/// Memory is bounded: the newest `capacity` of each kind are kept (older ones still count in `total_seen`).
final class DetectionState: Sendable {
    static let capacity = 1000
    static let defaultLimit = 100

    /// A pattern with the category (room parameter) it was published under.
    struct Pattern: Sendable {
        let category: String
        let payload: JSONObject
    }

    let patterns = RecentItems<Pattern>(capacity: capacity)
    let anomalies = RecentItems<JSONObject>(capacity: capacity)

    func observe(_ event: PublishedEvent) {
        switch event.event {
        case "pattern.detected":
            patterns.append(Pattern(category: Akosha.patterns.match(event.room) ?? "", payload: event.data))
        case "anomaly.detected":
            anomalies.append(event.data)
        default: break
        }
    }

    func recentPatterns(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let category = try request.optionalString("category")
        let limit = try request.integer("limit", in: 1...Self.capacity, default: Self.defaultLimit)
        let matching = patterns.newestFirst().filter { category == nil || $0.category == category }
        return [
            "category": .string(category ?? "all"),
            "patterns": .array(matching.prefix(limit).map { .object($0.payload) }),
            "count": JSONValue(matching.count),
            "total_seen": JSONValue(patterns.totalSeen),
        ]
    }

    func recentAnomalies(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let severity = try request.optionalString("severity")
        let limit = try request.integer("limit", in: 1...Self.capacity, default: Self.defaultLimit)
        let matching = anomalies.newestFirst().filter { severity == nil || $0["severity"]?.stringValue == severity }
        return [
            "anomalies": .array(matching.prefix(limit).map { .object($0) }),
            "count": JSONValue(matching.count),
            "total_seen": JSONValue(anomalies.totalSeen),
        ]
    }
}
