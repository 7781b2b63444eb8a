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
        var coverage: JSONValue = .null
        var updatedAt = ""
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
                    if run.failures.count < Self.failuresKept {
                        run.failures.append(["test_name": data["test_name"] ?? .null, "error": data["error"] ?? .null])
                    }
                case "test.completed":
                    run.testsCompleted = data["tests_completed"] ?? .null
                    run.testsFailed = Int(data["tests_failed"]?.intValue ?? Int64(run.testsFailed))
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
                    state.gates[gate] = [
                        "gate_name": .string(gate), "status": data["status"] ?? .null, "score": data["score"] ?? .null,
                        "threshold": data["threshold"] ?? .null, "checked_at": .string(at),
                    ]
                }
            case "coverage.updated":
                state.coverage = [
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
        let passed = gates.allSatisfy { ["passed", "pass", "ok"].contains($0["status"]?.stringValue?.lowercased() ?? "") }
        return [
            "project": .string(name),
            "status": .string(gates.isEmpty ? "unknown" : (passed ? "passed" : "failed")),
            "gates": .array(gates.map { .object($0) }),
            "coverage": project.coverage,
            "updated_at": .string(project.updatedAt),
        ]
    }
}
