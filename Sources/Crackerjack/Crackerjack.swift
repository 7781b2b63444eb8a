import Common

/// crackerjack (port 8686): test runs, quality gates and coverage.
@main
enum Crackerjack {
    static func main() async { await ServiceMain.run(definition()) }

    static let test: ChannelPattern = "test:{run_id}"
    static let quality: ChannelPattern = "quality:{project}"
    static let coverage: ChannelPattern = "coverage"
    static let global: ChannelPattern = "global"

    static let channels: [ChannelSpec] = [
        ChannelSpec(test, permissions: ["crackerjack:read", "read"], "Progress and failures of one test run"),
        ChannelSpec(quality, permissions: ["crackerjack:read", "read"], "Quality gates and coverage of one project"),
        ChannelSpec(coverage, permissions: ["crackerjack:read", "read"], "Coverage updates of every project"),
        ChannelSpec(global, "System-wide announcements"),
    ]

    // Aliases: the names of the integration report, which producers written from it send.
    static let coverageFields: [FieldSpec] = [
        .init("project", .string), .init("line_coverage", .number, aliases: ["line"]),
        .init("branch_coverage", .number, aliases: ["branch"]), .init("path_coverage", .number, aliases: ["path"]),
    ]

    enum Events {
        static let testStarted = EventSpec(
            "test.started", in: test,
            [
                .init("run_id", .string), .init("test_suite", .string, aliases: ["suite"]),
                .init("total_tests", .integer, aliases: ["total"]),
            ],
            "A test run began")
        static let testCompleted = EventSpec(
            "test.completed", in: test,
            [
                .init("run_id", .string), .init("tests_completed", .integer, aliases: ["completed"]),
                .init("tests_failed", .integer, aliases: ["failed"]), .init("duration_seconds", .number, aliases: ["duration"]),
            ],
            "A test run finished")
        static let testFailed = EventSpec(
            "test.failed", in: test,
            [
                .init("run_id", .string), .init("test_name", .string), .init("error", .string),
                .init("traceback", .string),
            ],
            "One test of the run failed")
        static let qualityGateChecked = EventSpec(
            "quality_gate.checked", in: quality,
            [
                .init("project", .string), .init("gate_name", .string, aliases: ["name"]), .init("status", .string),
                .init("score", .number), .init("threshold", .number),
            ],
            "A quality gate was evaluated")
        static let coverageUpdated = EventSpec(
            "coverage.updated", in: quality, coverageFields, "New coverage figures for the project")
        static let coverageFeed = EventSpec(
            "coverage.updated", in: coverage, coverageFields, "New coverage figures, any project")

        static let all = [testStarted, testCompleted, testFailed, qualityGateChecked, coverageUpdated, coverageFeed]
    }

    static func definition(state: QualityState = QualityState()) -> ServiceDefinition {
        var definition = ServiceDefinition(
            name: "crackerjack", environmentPrefix: "CRACKERJACK", defaultPort: 8686,
            welcomeMessage: "Connected to Crackerjack quality monitoring",
            channels: channels, events: Events.all,
            requests: [
                RequestSpec(
                    "get_test_status", parameters: [.init("run_id", .string)],
                    "`{run_id, status, test_suite, total_tests, tests_completed, tests_failed, failures, duration_seconds, "
                        + "updated_at}` from the run's test events; `status` is `running`, `passed` or `failed` "
                        + "(a failure reported after completion fails the run; `not_found` for an unknown run); the first \(QualityState.failuresKept) failures are listed",
                    handler: state.testStatus),
                RequestSpec(
                    "get_quality_gate", parameters: [.init("project", .string)],
                    "`{project, status, passed, all_passed, gates, coverage, coverage_details, updated_at}`: the latest "
                        + "result of each gate as upstream's checks `{name, passed, severity, score, threshold, message, "
                        + "details, duration_ms}` (plus `gate_name`, `status`, `checked_at`), `coverage` the latest line "
                        + "coverage (a number, as upstream), `coverage_details` `{line_coverage, branch_coverage, "
                        + "path_coverage, updated_at}`; `status` is `passed` when every gate passed, else `failed` "
                        + "(`not_found` for an unknown project)",
                    handler: state.qualityGate),
            ],
            observers: [state.observe])
        // The reference's crackerjack falls back to the ecosystem-wide secret.
        definition.environmentAliases = ["BODAI_SHARED_SECRET": "jwt_secret"]
        return definition
    }
}
