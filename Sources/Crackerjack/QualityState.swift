import Common

/// Test runs and quality gates as crackerjack's events report them, for `get_test_status` and
/// `get_quality_gate` (the reference answered with placeholders).
final class QualityState: Sendable {
    /// Failures kept per run; later ones are only counted.
    static let failuresKept = 100

    struct Run: Sendable {
        var status = "running"
        var testSuite: JSONValue = .null
        var totalTests: JSONValue = .null
        var testsCompleted: JSONValue = .null
        var testsFailed = 0
        var failures: [JSONValue] = []
        var durationSeconds: JSONValue = .null
        var updatedAt = ""
    }

    struct Project: Sendable {
        var gates: [String: JSONObject] = [:]
        /// Line coverage in percent, as upstream's `coverage`.
        var coverage: JSONValue = .null
        var coverageDetails: JSONValue = .null
        var updatedAt = ""
    }

    static func isPassing(_ status: JSONValue?) -> Bool {
        ["passed", "pass", "ok"].contains(status?.stringValue?.lowercased() ?? "")
    }

    /// A gate under upstream's check keys (`name`, `passed`, `severity`, `score`, `threshold`, `message`, `details`,
    /// `duration_ms`, taken from the report's check of that name when it has one), and ours.
    static func gate(_ name: String, _ data: JSONObject, at: String) -> JSONObject {
        let check = data["quality_gate_report"]?["checks"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        return [
            "name": .string(name),
            "passed": check?["passed"] ?? .bool(isPassing(data["status"])),
            "severity": check?["severity"] ?? .null,
            "score": data["score"] ?? check?["score"] ?? .null,
            "threshold": data["threshold"] ?? check?["threshold"] ?? .null,
            "message": check?["message"] ?? .null,
            "details": check?["details"] ?? .null,
            "duration_ms": check?["duration_ms"] ?? .null,
            "gate_name": .string(name), "status": data["status"] ?? .null, "checked_at": .string(at),
        ]
    }

    let runs = KeyedStore<Run>(capacity: 10_000)
    let projects = KeyedStore<Project>(capacity: 10_000)

    func observe(_ event: PublishedEvent) {
        let data = event.data
        let at = data["timestamp"]?.stringValue ?? ""
        if let runID = data["run_id"]?.stringValue, event.event.hasPrefix("test.") {
            runs.update(runID, default: Run()) { run in
                run.updatedAt = at
                switch event.event {
                case "test.started":
                    run = Run(testSuite: data["test_suite"] ?? .null, totalTests: data["total_tests"] ?? .null, updatedAt: at)
                case "test.failed":
                    run.testsFailed += 1
                    // A failure reported after the run completed still fails it.
                    if run.status != "running" { run.status = "failed" }
                    if run.failures.count < Self.failuresKept {
                        run.failures.append(["test_name": data["test_name"] ?? .null, "error": data["error"] ?? .null])
                    }
                case "test.completed":
                    run.testsCompleted = data["tests_completed"] ?? .null
                    // The larger count wins: failures already reported one by one are not forgotten.
                    run.testsFailed = max(run.testsFailed, Int(data["tests_failed"]?.intValue ?? 0))
                    run.durationSeconds = data["duration_seconds"] ?? .null
                    run.status = run.testsFailed > 0 ? "failed" : "passed"
                default: break
                }
            }
        }
        guard let project = data["project"]?.stringValue, event.room.hasPrefix("quality:") else { return }
        projects.update(project, default: Project()) { state in
            state.updatedAt = at
            switch event.event {
            case "quality_gate.checked":
                if let gate = data["gate_name"]?.stringValue {
                    state.gates[gate] = Self.gate(gate, data, at: at)
                }
                if let coverage = data["quality_gate_report"]?["coverage"], coverage.doubleValue != nil {
                    state.coverage = coverage
                }
            case "coverage.updated":
                state.coverage = data["line_coverage"] ?? state.coverage
                state.coverageDetails = [
                    "line_coverage": data["line_coverage"] ?? .null, "branch_coverage": data["branch_coverage"] ?? .null,
                    "path_coverage": data["path_coverage"] ?? .null, "updated_at": .string(at),
                ]
            default: break
            }
        }
    }

    func testStatus(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let id = try request.string("run_id")
        guard let run = runs[id] else { return ["run_id": .string(id), "status": "not_found"] }
        return [
            "run_id": .string(id),
            "status": .string(run.status),
            "test_suite": run.testSuite,
            "total_tests": run.totalTests,
            "tests_completed": run.testsCompleted,
            "tests_failed": JSONValue(run.testsFailed),
            "failures": .array(run.failures),
            "duration_seconds": run.durationSeconds,
            "updated_at": .string(run.updatedAt),
        ]
    }

    /// Gate statuses other than `passed`/`pass`/`ok` fail the project.
    func qualityGate(_ request: RequestContext) throws(ProtocolError) -> JSONObject {
        let name = try request.string("project")
        guard let project = projects[name] else { return ["project": .string(name), "status": "not_found"] }
        let gates = project.gates.sorted { $0.key < $1.key }.map(\.value)
        let passed = gates.allSatisfy { $0["passed"]?.boolValue ?? Self.isPassing($0["status"]) }
        return [
            "project": .string(name),
            "status": .string(gates.isEmpty ? "unknown" : (passed ? "passed" : "failed")),
            "passed": .bool(!gates.isEmpty && passed),
            "all_passed": .bool(!gates.isEmpty && passed),
            "gates": .array(gates.map { .object($0) }),
            "coverage": project.coverage,
            "coverage_details": project.coverageDetails,
            "updated_at": .string(project.updatedAt),
        ]
    }
}
