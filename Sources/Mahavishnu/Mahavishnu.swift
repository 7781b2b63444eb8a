import Common

/// mahavishnu (port 8690): workflows, worker pools and workers of the orchestrator.
@main
enum Mahavishnu {
    static func main() async { await ServiceMain.run(definition()) }

    static let workflow: ChannelPattern = "workflow:{workflow_id}"
    static let pool: ChannelPattern = "pool:{pool_id}"
    static let worker: ChannelPattern = "worker:{worker_id}"
    static let global: ChannelPattern = "global"

    static let channels: [ChannelSpec] =
        [
            ChannelSpec(workflow, permission: "workflow:read", "Progress of one workflow"),
            ChannelSpec(pool, permission: "pool:read", "A worker pool: status, scaling, workers, tasks"),
            ChannelSpec(worker, permission: "worker:read", "One worker's status and tasks"),
            ChannelSpec(global, "System-wide orchestration announcements"),
        ] + Ecosystem.channels

    enum Events {
        static let workflowStarted = EventSpec(
            "workflow.started", in: workflow,
            [
                .init("workflow_id", .string), .init("adapter", .string, required: false),
                .init("prompt", .string, required: false),
            ],
            "A workflow began; the caller's metadata keys (often `adapter`, `prompt`) follow `workflow_id`")
        static let workflowStageCompleted = EventSpec(
            "workflow.stage_completed", in: workflow,
            [.init("workflow_id", .string), .init("stage_name", .string), .init("result", .any)],
            "One stage of a workflow finished")
        static let workflowCompleted = EventSpec(
            "workflow.completed", in: workflow, [.init("workflow_id", .string), .init("result", .any)],
            "A workflow finished successfully")
        static let workflowFailed = EventSpec(
            "workflow.failed", in: workflow, [.init("workflow_id", .string), .init("error", .string)],
            "A workflow failed")
        static let poolStatusChanged = EventSpec(
            "pool.status_changed", in: pool, [.init("pool_id", .string), .init("status", .object)],
            "A pool's status object changed")
        static let poolWorkerStatusChanged = EventSpec(
            "worker.status_changed", in: pool,
            [.init("worker_id", .string), .init("status", .string), .init("pool_id", .string)],
            "A worker of the pool changed status")
        static let poolSpawned = EventSpec(
            "pool.spawned", in: pool, [.init("pool_id", .string), .init("config", .object)], "A pool was created")
        static let poolScaled = EventSpec(
            "pool.scaled", in: pool, [.init("pool_id", .string), .init("worker_count", .integer)],
            "A pool changed its number of workers")
        static let workerAdded = EventSpec(
            "worker.added", in: pool, [.init("pool_id", .string), .init("worker_id", .string)],
            "A worker joined the pool")
        static let workerRemoved = EventSpec(
            "worker.removed", in: pool, [.init("pool_id", .string), .init("worker_id", .string)],
            "A worker left the pool")
        static let taskAssigned = EventSpec(
            "task.assigned", in: pool, [.init("pool_id", .string), .init("worker_id", .string), .init("task", .any)],
            "A task was given to a worker of the pool")
        static let taskCompleted = EventSpec(
            "task.completed", in: pool,
            [.init("pool_id", .string), .init("worker_id", .string), .init("result", .any)],
            "A worker of the pool finished a task")
        static let poolClosed = EventSpec("pool.closed", in: pool, [.init("pool_id", .string)], "A pool was shut down")
        static let workerStatusChanged = EventSpec(
            "worker.status_changed", in: worker,
            [.init("worker_id", .string), .init("status", .string), .init("pool_id", .string, required: false)],
            "The worker changed status")
        static let workerTaskAssigned = EventSpec(
            "task.assigned", in: worker,
            [.init("worker_id", .string), .init("task", .any), .init("pool_id", .string, required: false)],
            "The worker was given a task")
        static let workerTaskCompleted = EventSpec(
            "task.completed", in: worker,
            [.init("worker_id", .string), .init("result", .any), .init("pool_id", .string, required: false)],
            "The worker finished a task")

        static let all =
            [
                workflowStarted, workflowStageCompleted, workflowCompleted, workflowFailed, poolStatusChanged,
                poolWorkerStatusChanged, poolSpawned, poolScaled, workerAdded, workerRemoved, taskAssigned, taskCompleted,
                poolClosed, workerStatusChanged, workerTaskAssigned, workerTaskCompleted,
            ] + Ecosystem.events
    }

    static func definition(state: OrchestrationState = OrchestrationState()) -> ServiceDefinition {
        ServiceDefinition(
            name: "mahavishnu", environmentPrefix: "MAHAVISHNU", defaultPort: 8690,
            welcomeMessage: "Connected to Mahavishnu orchestration",
            channels: channels, events: Events.all,
            requests: [
                RequestSpec(
                    "get_workflow_status", parameters: [.init("workflow_id", .string)],
                    "`{workflow_id, status, stages_completed, total_stages, stages, adapter, result, error, started_at, "
                        + "updated_at}` from the workflow events seen (`total_stages` from `workflow.started`'s metadata), "
                        + "or `{workflow_id, status: \"not_found\"}`",
                    handler: state.workflowStatus),
                RequestSpec(
                    "get_pool_status", parameters: [.init("pool_id", .string)],
                    "`{pool_id, status, workers: [{worker_id, status}], worker_count, config, details, updated_at}` "
                        + "from the pool and worker events seen, or `{pool_id, status: \"not_found\"}`",
                    handler: state.poolStatus),
            ],
            observers: [state.observe])
    }
}
