import Common

/// Typed helpers for in-process producers: one method per crackerjack event.
public struct CrackerjackBroadcaster: Sendable {
    typealias Events = Crackerjack.Events
    let sender: EventSender

    public init(_ server: RealtimeServer) { sender = EventSender(server) }

    @discardableResult
    public func testStarted(runID: String, testSuite: String, totalTests: Int) async throws(ProtocolError) -> PublishReceipt {
        try await sender.send(
            Events.testStarted, runID,
            ["run_id": .string(runID), "test_suite": .string(testSuite), "total_tests": JSONValue(totalTests)])
    }

    @discardableResult
    public func testCompleted(
        runID: String, testsCompleted: Int, testsFailed: Int, durationSeconds: Double
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.testCompleted, runID,
            [
                "run_id": .string(runID), "tests_completed": JSONValue(testsCompleted),
                "tests_failed": JSONValue(testsFailed), "duration_seconds": .double(durationSeconds),
            ])
    }

    @discardableResult
    public func testFailed(
        runID: String, testName: String, error: String, traceback: String
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.testFailed, runID,
            [
                "run_id": .string(runID), "test_name": .string(testName), "error": .string(error),
                "traceback": .string(traceback),
            ])
    }

    @discardableResult
    public func qualityGateChecked(
        project: String, gateName: String, status: String, score: Double, threshold: Double
    )
        async throws(ProtocolError) -> PublishReceipt
    {
        try await sender.send(
            Events.qualityGateChecked, project,
            [
                "project": .string(project), "gate_name": .string(gateName), "status": .string(status),
                "score": .double(score), "threshold": .double(threshold),
            ])
    }

    /// Reported in the project's `quality:` room and in the `coverage` feed.
    @discardableResult
    public func coverageUpdated(
        project: String, lineCoverage: Double, branchCoverage: Double, pathCoverage: Double
    )
        async throws(ProtocolError) -> [PublishReceipt]
    {
        let fields: JSONObject = [
            "project": .string(project), "line_coverage": .double(lineCoverage),
            "branch_coverage": .double(branchCoverage), "path_coverage": .double(pathCoverage),
        ]
        return [
            try await sender.send(Events.coverageUpdated, project, fields),
            try await sender.send(Events.coverageFeed, fields),
        ]
    }
}
