import Common
import Foundation

/// Skill invocations and anomalies from session-buddy's `skills` events: what the metrics stream reports.
final class SkillMetrics: Sendable {
    struct Skill: Sendable {
        var invocations = 0
        var completed = 0
        var totalDuration = 0.0
        var timedInvocations = 0
    }

    struct Anomaly: Sendable {
        let skillName: String
        let detectedAt: String
        let seenAt: Date
        let anomalyType: String
        let deviationScore: Double
    }

    let skills = KeyedStore<Skill>(capacity: 10_000)
    let anomalies = RecentItems<Anomaly>(capacity: 100)

    func observe(_ event: PublishedEvent) {
        let data = event.data
        guard let name = data["skill_name"]?.stringValue else { return }
        switch event.event {
        case "skill.invoked":
            skills.update(name, default: Skill()) { skill in
                skill.invocations += 1
                if data["completed"]?.boolValue ?? true { skill.completed += 1 }
                if let duration = data["duration_seconds"]?.doubleValue {
                    skill.totalDuration += duration
                    skill.timedInvocations += 1
                }
            }
        case "skill.anomaly":
            anomalies.append(
                Anomaly(
                    skillName: name, detectedAt: data["detected_at"]?.stringValue ?? data["timestamp"]?.stringValue ?? "",
                    seenAt: Date(), anomalyType: data["anomaly_type"]?.stringValue ?? "",
                    deviationScore: data["deviation_score"]?.doubleValue ?? 0))
        default: break
        }
    }

    /// Upstream's `top_skills`: at most 10, most invoked first; `completion_rate` in percent.
    func topSkills(limit: Int = 10) -> [JSONValue] {
        skills.all.sorted { ($0.value.invocations, $1.key) > ($1.value.invocations, $0.key) }.prefix(limit).map { entry in
            let skill = entry.value
            return .object([
                "skill_name": .string(entry.key),
                "total_invocations": JSONValue(skill.invocations),
                "completion_rate": .double(
                    skill.invocations == 0 ? 0 : 100 * Double(skill.completed) / Double(skill.invocations)),
                "avg_duration_seconds": .double(
                    skill.timedInvocations == 0 ? 0 : skill.totalDuration / Double(skill.timedInvocations)),
            ])
        }
    }

    /// Upstream's `anomalies`: at most 10 from the last hour, newest first.
    func recentAnomalies(limit: Int = 10) -> [JSONValue] {
        let hourAgo = Date().addingTimeInterval(-3600)
        return anomalies.newestFirst().filter { $0.seenAt >= hourAgo }.prefix(limit).map { anomaly in
            .object([
                "skill_name": .string(anomaly.skillName), "detected_at": .string(anomaly.detectedAt),
                "anomaly_type": .string(anomaly.anomalyType), "deviation_score": .double(anomaly.deviationScore),
            ])
        }
    }
}
