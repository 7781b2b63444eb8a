import Common
import Testing
import TestSupport

@testable import Crackerjack

@Suite("crackerjack: test runs and quality gates from the events seen")
struct CrackerjackStatusTests {
    @Test("get_test_status follows a run from start to finish")
    func testStatus() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let broadcast = CrackerjackBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_test_status", ["run_id": "r1"])["status"] == "not_found")
            try await broadcast.testStarted(runID: "r1", testSuite: "unit", totalTests: 10)
            try await broadcast.testFailed(runID: "r1", testName: "test_a", error: "E", traceback: "tb")
            var status = try await client.ask("get_test_status", ["run_id": "r1"])
            #expect(status["status"] == "running")
            #expect(status["total_tests"] == 10)
            #expect(status["tests_failed"] == 1)
            #expect(status["failures"] == [["test_name": "test_a", "error": "E"]])
            try await broadcast.testCompleted(runID: "r1", testsCompleted: 10, testsFailed: 1, durationSeconds: 2.5)
            status = try await client.ask("get_test_status", ["run_id": "r1"])
            #expect(status["status"] == "failed")
            #expect(status["tests_completed"] == 10)
            #expect(status["duration_seconds"] == 2.5)
            await client.close()
        }
    }

    @Test("get_quality_gate keeps the latest result per gate and the coverage")
    func qualityGate() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let broadcast = CrackerjackBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_quality_gate", ["project": "proj"])["status"] == "not_found")
            try await broadcast.qualityGateChecked(project: "proj", gateName: "lint", status: "failed", score: 0.5, threshold: 0.8)
            try await broadcast.qualityGateChecked(project: "proj", gateName: "types", status: "passed", score: 1, threshold: 1)
            #expect(try await client.ask("get_quality_gate", ["project": "proj"])["status"] == "failed")
            try await broadcast.qualityGateChecked(project: "proj", gateName: "lint", status: "passed", score: 0.9, threshold: 0.8)
            try await broadcast.coverageUpdated(project: "proj", lineCoverage: 80, branchCoverage: 70, pathCoverage: 60)
            let gate = try await client.ask("get_quality_gate", ["project": "proj"])
            #expect(gate["status"] == "passed")
            #expect(gate["gates"]?.arrayValue?.map { $0["gate_name"] } == ["lint", "types"])
            #expect(gate["gates"]?.arrayValue?.first?["score"] == 0.9)
            #expect(gate["coverage"] == 80.0, "upstream's coverage is the line coverage, a number")
            #expect(gate["coverage_details"]?["line_coverage"] == 80.0)
            #expect(gate["passed"] == true)
            await client.close()
        }
    }

    @Test("a test.failed after test.completed fails the run, and keeps the count")
    func failedAfterCompleted() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let broadcast = CrackerjackBroadcaster(server.server)
            let client = try await server.client()
            try await broadcast.testStarted(runID: "r2", testSuite: "unit", totalTests: 3)
            try await broadcast.testCompleted(runID: "r2", testsCompleted: 3, testsFailed: 0, durationSeconds: 1)
            #expect(try await client.ask("get_test_status", ["run_id": "r2"])["status"] == "passed")
            try await broadcast.testFailed(runID: "r2", testName: "test_late", error: "E", traceback: "tb")
            let status = try await client.ask("get_test_status", ["run_id": "r2"])
            #expect(status["status"] == "failed")
            #expect(status["tests_failed"] == 1)
            await client.close()
        }
    }

    @Test("get_quality_gate answers with upstream's check keys, from the report upstream sends")
    func upstreamGateKeys() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let client = try await server.client()
            let report: JSONObject = [
                "coverage": 87.5,
                "checks": [["name": "coverage", "passed": true, "severity": "required", "score": 87.5, "threshold": 80.0,
                    "message": "ok", "details": ["files": 12], "duration_ms": 12.5]],
            ]
            _ = try await server.server.publish(
                event: "quality_gate.checked", room: "quality:crackerjack",
                data: ["project": "crackerjack", "gate_name": "coverage", "status": "passed", "score": 87.5, "threshold": 80.0,
                    "quality_gate_report": .object(report)])
            let reply = try await client.ask("get_quality_gate", ["project": "crackerjack"])
            let gate = reply["gates"]?.arrayValue?.first?.objectValue ?? [:]
            #expect(gate["name"] == "coverage")
            #expect(gate["passed"] == true)
            #expect(gate["severity"] == "required")
            #expect(gate["message"] == "ok")
            #expect(gate["details"] == ["files": 12])
            #expect(gate["duration_ms"] == 12.5)
            #expect(gate["gate_name"] == "coverage", "our keys stay")
            #expect(reply["coverage"] == 87.5)
            #expect(reply["status"] == "passed")
            await client.close()
        }
    }
}
