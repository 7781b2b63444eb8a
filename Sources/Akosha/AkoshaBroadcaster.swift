import Common

/// Typed helpers for in-process producers: one method per akosha event.
public struct AkoshaBroadcaster: Sendable {
    typealias Events = Akosha.Events
    let sender: EventSender

    public init(_ server: RealtimeServer) { sender = EventSender(server) }

    /// Published to `patterns:<pattern type>`, as in the reference.
    @discardableResult
    public func patternDetected(
        patternID: String, patternType: String, description: String, confidence: Double, metadata: JSONObject = [:]
    ) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.patternDetected, patternType,
            [
                "pattern_id": .string(patternID), "pattern_type": .string(patternType),
                "description": .string(description), "confidence": .double(confidence),
            ],
            extra: metadata)
    }

    @discardableResult
    public func anomalyDetected(
        anomalyID: String, anomalyType: String, severity: String, description: String, metrics: JSONObject
    ) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.anomalyDetected,
            [
                "anomaly_id": .string(anomalyID), "anomaly_type": .string(anomalyType), "severity": .string(severity),
                "description": .string(description), "metrics": .object(metrics),
            ])
    }

    @discardableResult
    public func insightGenerated(
        insightID: String, insightType: String, title: String, description: String, data: JSONObject
    ) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.insightGenerated,
            [
                "insight_id": .string(insightID), "insight_type": .string(insightType), "title": .string(title),
                "description": .string(description), "data": .object(data),
            ])
    }

    @discardableResult
    public func aggregationCompleted(
        aggregationID: String, aggregationType: String, recordCount: Int, summary: JSONObject
    ) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.aggregationCompleted,
            [
                "aggregation_id": .string(aggregationID), "aggregation_type": .string(aggregationType),
                "record_count": JSONValue(recordCount), "summary": .object(summary),
            ])
    }
}
