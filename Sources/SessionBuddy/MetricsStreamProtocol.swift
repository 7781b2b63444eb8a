import Common
import Foundation
import Synchronization

/// session-buddy's flat-JSON metrics stream: upstream's `RealTimeMetricsServer` protocol (port 8765), which
/// its example client, load test and dashboards speak. No envelope: `connected` on arrival (after a token
/// message when auth is on; a bad or missing one closes with 4001), `subscribe {skill}` →
/// `subscription_confirmed`, `unsubscribe` (no reply), `ping` → `pong`, and a `metrics_update` every
/// `metrics_stream.update_interval`. Anything else gets no reply, as upstream.
final class MetricsStreamProtocol: StreamHandler {
    /// Seconds a client has to send its token when auth is on (upstream: 5).
    static let authTimeout: Duration = .seconds(5)

    private struct Client {
        let client: StreamClient
        var ready: Bool
        /// nil: every skill; a name: only that skill, and only in updates where it is in the top 10.
        var skill: String?
    }

    private let metrics: SkillMetrics
    private let context: StreamContext
    private let clients = Mutex<[String: Client]>([:])

    init(metrics: SkillMetrics, context: StreamContext) {
        self.metrics = metrics
        self.context = context
    }

    func opened(_ client: StreamClient) {
        clients.withLock { $0[client.id] = Client(client: client, ready: !context.authRequired) }
        guard context.authRequired else { return welcome(client, authenticated: false) }
        Task {
            try? await Task.sleep(for: Self.authTimeout)
            if clients.withLock({ $0[client.id].map { !$0.ready } ?? false }) { refuse(client) }
        }
    }

    func received(_ message: JSONValue?, from client: StreamClient) {
        guard let ready = clients.withLock({ $0[client.id]?.ready }) else { return }
        guard ready else { return authenticate(message, client) }
        switch message?["type"]?.stringValue {
        case "subscribe":
            let skill = message?["skill"]?.stringValue
            clients.withLock { $0[client.id]?.skill = skill }
            client.send(["type": "subscription_confirmed", "skill": JSONValue(skill), "timestamp": .string(Timestamp.now())])
        case "unsubscribe":
            clients.withLock { $0[client.id]?.skill = nil }
        case "ping":
            client.send(["type": "pong"])
        default:
            return
        }
    }

    func closed(_ client: StreamClient) {
        _ = clients.withLock { $0.removeValue(forKey: client.id) }
    }

    func tick() {
        let targets = clients.withLock { $0.values.filter(\.ready) }
        guard !targets.isEmpty else { return }
        let top = metrics.topSkills()
        let timestamp = JSONValue.string(Timestamp.now())
        let everything: JSONObject = [
            "type": "metrics_update", "timestamp": timestamp,
            "data": ["top_skills": .array(top), "anomalies": .array(metrics.recentAnomalies())],
        ]
        for target in targets {
            let id = target.client.id
            // The filter is read on the client's loop, so a subscribe it has confirmed applies to this update.
            target.client.send(decidedOnLoop: { [self] in
                guard let client = clients.withLock({ $0[id] }) else { return nil }
                guard let skill = client.skill else { return everything }
                let mine = top.filter { $0["skill_name"]?.stringValue == skill }
                guard !mine.isEmpty else { return nil }
                return ["type": "metrics_update", "timestamp": timestamp, "data": ["top_skills": .array(mine), "anomalies": []]]
            })
        }
    }

    private func authenticate(_ message: JSONValue?, _ client: StreamClient) {
        guard let token = message?["token"]?.stringValue, !token.isEmpty else { return refuse(client) }
        Task {
            guard await context.verify(token) != nil else { return refuse(client) }
            // The welcome is queued on the connection's loop before the client counts as ready, so no update
            // from a tick on another thread can overtake it.
            welcome(client, authenticated: true)
            clients.withLock { $0[client.id]?.ready = true }
        }
    }

    private func welcome(_ client: StreamClient, authenticated: Bool) {
        client.send([
            "type": "connected", "message": "Connected to Session-Buddy real-time metrics",
            "authenticated": .bool(authenticated), "timestamp": .string(Timestamp.now()),
        ])
    }

    private func refuse(_ client: StreamClient) {
        clients.withLock { $0[client.id] = nil }
        client.close(code: 4001, reason: "Authentication failed")
    }
}
