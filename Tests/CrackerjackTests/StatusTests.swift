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

    @Test("the integration report's field names (completed, failed, line, branch, ...) are accepted over HTTP and counted")
    func aliasedFields() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let subscriber = try await server.client()
            _ = try await subscriber.request(["type": "subscribe", "data": ["channel": "test:r9"]])
            let client = try await server.client()
            for body in [
                #"{"room":"test:r9","event":"test.started","data":{"run_id":"r9","suite":"unit","total":4}}"#,
                #"{"room":"test:r9","event":"test.completed","data":{"run_id":"r9","completed":4,"failed":0,"duration":1.5}}"#,
                #"{"room":"quality:p9","event":"coverage.updated","data":{"project":"p9","line":81.5,"branch":70,"path":60}}"#,
            ] {
                let response = try await HTTP.post(server.httpURL + "/api/events", json: body)
                #expect(response.status == 200, "\(body): \(response.body)")
            }
            let started = try await subscriber.next()["data"]
            #expect(started?["suite"] == "unit", "delivered as sent")
            #expect(started?["test_suite"] == "unit", "and under the catalogue's name")
            let completed = try await subscriber.next()["data"]
            #expect(completed?["tests_completed"] == 4 && completed?["completed"] == 4)
            let status = try await client.ask("get_test_status", ["run_id": "r9"])
            #expect(status["status"] == "passed")
            #expect(status["total_tests"] == 4)
            #expect(status["tests_completed"] == 4)
            #expect(status["duration_seconds"] == 1.5)
            #expect(try await client.ask("get_quality_gate", ["project": "p9"])["coverage"] == 81.5)

            let mistyped = try await HTTP.post(
                server.httpURL + "/api/events",
                json: #"{"room":"quality:p9","event":"coverage.updated","data":{"project":"p9","line":"x","branch":1,"path":1}}"#)
            #expect(mistyped.status == 422)
            #expect(mistyped.body["error_message"] == "Field 'line_coverage' of 'coverage.updated' must be number, got string")
            await subscriber.close()
            await client.close()
        }
    }

    @Test("get_quality_gate keeps the latest result per gate and the coverage")
    func qualityGate() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let broadcast = CrackerjackBroadcaster(server.server)
            let client = try await server.client()
            #expect(try await client.ask("get_quality_gate", ["project": "proj"])["status"] == "not_found")
            try await broadcast.qualityGateChecked(
                project: "proj", gateName: "lint", status: "failed", score: 0.5, threshold: 0.8)
            try await broadcast.qualityGateChecked(project: "proj", gateName: "types", status: "passed", score: 1, threshold: 1)
            #expect(try await client.ask("get_quality_gate", ["project": "proj"])["status"] == "failed")
            try await broadcast.qualityGateChecked(
                project: "proj", gateName: "lint", status: "passed", score: 0.9, threshold: 0.8)
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
                "checks": [
                    [
                        "name": "coverage", "passed": true, "severity": "required", "score": 87.5, "threshold": 80.0,
                        "message": "ok", "details": ["files": 12], "duration_ms": 12.5,
                    ]
                ],
            ]
            _ = try await server.server.publish(
                event: "quality_gate.checked", room: "quality:crackerjack",
                data: [
                    "project": "crackerjack", "gate_name": "coverage", "status": "passed", "score": 87.5, "threshold": 80.0,
                    "quality_gate_report": .object(report),
                ])
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
