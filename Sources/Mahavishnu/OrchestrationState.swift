import Common

/// What mahavishnu knows about workflows and pools, built only from the events it has published.
/// Answers `get_workflow_status` and `get_pool_status` (the reference answered with placeholders).
final class OrchestrationState: Sendable {
    struct Workflow: Sendable {
        var status = "running"
        var adapter: String?
        var stages: [String] = []
        var totalStages: JSONValue = .null
        var result: JSONValue = .null
        var error: JSONValue = .null
        var startedAt: String?
        var updatedAt = ""
    }

    struct Pool: Sendable {
        var status = "active"
        var details: JSONValue = .null
        var config: JSONValue = .null
        var workerCount: JSONValue = .null
        var workers: [String: String] = [:]  // worker_id → last status
        var updatedAt = ""
    }

    let workflows = KeyedStore<Workflow>(capacity: 10_000)
    let pools = KeyedStore<Pool>(capacity: 10_000)

    // MARK: Events in

    func observe(_ event: PublishedEvent) {
        let data = event.data
        let at = data["timestamp"]?.stringValue ?? ""
        if let id = data["workflow_id"]?.stringValue, event.event.hasPrefix("workflow.") {
            workflows.update(id, default: Workflow()) { workflow in
                workflow.updatedAt = at
                switch event.event {
                case "workflow.started":
                    workflow = Workflow(adapter: data["adapter"]?.stringValue, startedAt: at, updatedAt: at)
                    workflow.totalStages = data["total_stages"] ?? .null
                case "workflow.stage_completed":
                    if let stage = data["stage_name"]?.stringValue { workflow.stages.append(stage) }
                case "workflow.completed":
                    workflow.status = "completed"
                    workflow.result = data["result"] ?? .null
                case "workflow.failed":
                    workflow.status = "failed"
                    workflow.error = data["error"] ?? .null
                default: break
                }
            }
        }
        guard event.room.hasPrefix("pool:"), let poolID = data["pool_id"]?.stringValue else { return }
        pools.update(poolID, default: Pool()) { pool in
            pool.updatedAt = at
            let worker = data["worker_id"]?.stringValue
            switch event.event {
            case "pool.spawned":
                pool = Pool(config: data["config"] ?? .null, updatedAt: at)
            case "pool.status_changed":
                pool.details = data["status"] ?? .null
                if let state = data["status"]?["state"]?.stringValue { pool.status = state }
            case "pool.scaled":
                pool.workerCount = data["worker_count"] ?? .null
            case "pool.closed":
                pool.status = "closed"
            case "worker.added":
                if let worker { pool.workers[worker] = pool.workers[worker] ?? "idle" }
            case "worker.removed":
                if let worker { pool.workers[worker] = nil }
            case "worker.status_changed":
                if let worker, let status = data["status"]?.stringValue { pool.workers[worker] = status }
            case "task.assigned":
                if let worker { pool.workers[worker] = "busy" }
            case "task.completed":
                if let worker { pool.workers[worker] = "idle" }
            default: break
            }
        }
    }

    // MARK: Requests

    func workflowStatus(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let id = try request.string("workflow_id")
        guard let workflow = workflows[id] else { return ["workflow_id": .string(id), "status": "not_found"] }
        return [
            "workflow_id": .string(id),
            "status": .string(workflow.status),
            "stages_completed": JSONValue(workflow.stages.count),
            "total_stages": workflow.totalStages,
            "stages": .array(workflow.stages.map { .string($0) }),
            "adapter": JSONValue(workflow.adapter),
            "result": workflow.result,
            "error": workflow.error,
            "started_at": JSONValue(workflow.startedAt),
            "updated_at": .string(workflow.updatedAt),
        ]
    }

    func poolStatus(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let id = try request.string("pool_id")
        guard let pool = pools[id] else { return ["pool_id": .string(id), "status": "not_found"] }
        return [
            "pool_id": .string(id),
            "status": .string(pool.status),
            "workers": .array(
                pool.workers.sorted { $0.key < $1.key }.map {
                    ["worker_id": .string($0.key), "status": .string($0.value)]
                }),
            "worker_count": pool.workerCount == .null ? JSONValue(pool.workers.count) : pool.workerCount,
            "config": pool.config,
            "details": pool.details,
            "updated_at": .string(pool.updatedAt),
        ]
    }
}
