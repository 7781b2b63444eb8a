import Common
import Testing
import TestSupport

@testable import Crackerjack

@Suite("crackerjack: typed broadcaster")
struct CrackerjackBroadcasterTests {
    @Test("every helper publishes its event to its room")
    func helpers() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let broadcast = CrackerjackBroadcaster(server.server)
            try await server.expectDeliveries([
                .init("test.started", in: "test:r1", ["run_id": "r1", "test_suite": "unit", "total_tests": 10]),
                .init("test.failed", in: "test:r1", ["test_name": "t_x", "error": "E", "traceback": "tb"]),
                .init("test.completed", in: "test:r1", ["tests_completed": 10, "tests_failed": 1, "duration_seconds": 1.5]),
                .init("quality_gate.checked", in: "quality:proj", ["gate_name": "lint", "status": "passed", "score": 0.95]),
                .init("coverage.updated", in: "quality:proj", ["project": "proj", "branch_coverage": 70.0]),
                .init("coverage.updated", in: "coverage", ["project": "proj", "line_coverage": 81.5]),
            ]) {
                try await broadcast.testStarted(runID: "r1", testSuite: "unit", totalTests: 10)
                try await broadcast.testFailed(runID: "r1", testName: "t_x", error: "E", traceback: "tb")
                try await broadcast.testCompleted(runID: "r1", testsCompleted: 10, testsFailed: 1, durationSeconds: 1.5)
                try await broadcast.qualityGateChecked(
                    project: "proj", gateName: "lint", status: "passed", score: 0.95, threshold: 0.8)
                try await broadcast.coverageUpdated(project: "proj", lineCoverage: 81.5, branchCoverage: 70, pathCoverage: 60)
            }
        }
    }
}
