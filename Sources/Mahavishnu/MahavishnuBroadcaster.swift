import Common

/// Typed helpers for in-process producers: one method per mahavishnu event.
public struct MahavishnuBroadcaster: Sendable {
    typealias Events = Mahavishnu.Events
    let sender: EventSender

    public init(_ server: RealtimeServer) { sender = EventSender(server) }

    @discardableResult
    public func workflowStarted(
        workflowID: String, adapter: String? = nil, prompt: String? = nil, metadata: JSONObject = [:]
    ) async throws(ProtocolError) -> PublishReceipt {
        var data: JSONObject = ["workflow_id": .string(workflowID)]
        if let adapter { data["adapter"] = .string(adapter) }
        if let prompt { data["prompt"] = .string(prompt) }
        return try await sender.send(Events.workflowStarted, workflowID, data, extra: metadata)
    }

    @discardableResult
    public func workflowStageCompleted(
        workflowID: String, stageName: String, result: JSONValue
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.workflowStageCompleted, workflowID,
            ["workflow_id": .string(workflowID), "stage_name": .string(stageName), "result": result])
    }

    @discardableResult
    public func workflowCompleted(workflowID: String, result: JSONValue) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.workflowCompleted, workflowID, ["workflow_id": .string(workflowID), "result": result])
    }

    @discardableResult
    public func workflowFailed(workflowID: String, error: String) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.workflowFailed, workflowID, ["workflow_id": .string(workflowID), "error": .string(error)])
    }

    @discardableResult
    public func poolStatusChanged(poolID: String, status: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.poolStatusChanged, poolID, ["pool_id": .string(poolID), "status": .object(status)])
    }

    @discardableResult
    public func poolSpawned(poolID: String, config: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.poolSpawned, poolID, ["pool_id": .string(poolID), "config": .object(config)])
    }

    @discardableResult
    public func poolScaled(poolID: String, workerCount: Int) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.poolScaled, poolID, ["pool_id": .string(poolID), "worker_count": JSONValue(workerCount)])
    }

    @discardableResult
    public func poolClosed(poolID: String) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.poolClosed, poolID, ["pool_id": .string(poolID)])
    }

    @discardableResult
    public func workerAdded(poolID: String, workerID: String) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.workerAdded, poolID, ["pool_id": .string(poolID), "worker_id": .string(workerID)])
    }

    @discardableResult
    public func workerRemoved(poolID: String, workerID: String) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(Events.workerRemoved, poolID, ["pool_id": .string(poolID), "worker_id": .string(workerID)])
    }

    /// Reported in the pool's room and in the worker's own room.
    @discardableResult
    public func workerStatusChanged(
        poolID: String, workerID: String, status: String
    )
        async throws(ProtocolError) -> [PublishReceipt]
    {
        let fields: JSONObject = ["worker_id": .string(workerID), "status": .string(status), "pool_id": .string(poolID)]
        return [
            try await sender.send(Events.poolWorkerStatusChanged, poolID, fields),
            try await sender.send(Events.workerStatusChanged, workerID, fields),
        ]
    }

    /// Reported in the pool's room and in the worker's own room.
    @discardableResult
    public func taskAssigned(poolID: String, workerID: String, task: JSONValue) async throws(ProtocolError) -> [PublishReceipt] {
        let fields: JSONObject = ["pool_id": .string(poolID), "worker_id": .string(workerID), "task": task]
        return [
            try await sender.send(Events.taskAssigned, poolID, fields),
            try await sender.send(Events.workerTaskAssigned, workerID, fields),
        ]
    }

    /// Reported in the pool's room and in the worker's own room.
    @discardableResult
    public func taskCompleted(poolID: String, workerID: String, result: JSONValue) async throws(ProtocolError) -> [PublishReceipt]
    {
        let fields: JSONObject = ["pool_id": .string(poolID), "worker_id": .string(workerID), "result": result]
        return [
            try await sender.send(Events.taskCompleted, poolID, fields),
            try await sender.send(Events.workerTaskCompleted, workerID, fields),
        ]
    }

    /// An announcement in `global`: any event name, any payload.
    @discardableResult
    public func announce(_ event: String, data: JSONObject) async throws(ProtocolError) -> PublishReceipt {
        try await sender.server.publish(event: event, room: EventCatalog.globalRoom, data: data)
    }
}
