/// Padding that compresses like the payloads that matter here (test failures, quality reports): lines of a
/// test report from a small vocabulary with varied names and numbers. Deterministic per seed, so every server
/// gets the same bytes; safe inside a JSON string (no quotes, no backslashes).
enum ReportText {
    static func make(bytes: Int, seed: Int) -> String {
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let modules = ["worker_pool", "workflow", "session", "checkpoint", "quality_gate", "coverage", "insights"]
        let checks = ["scale_up", "retry_backoff", "resume_after_close", "rejects_bad_token", "fan_out_order", "drain"]
        let errors = ["AssertionError: expected", "TimeoutError: waited", "KeyError: missing", "ValueError: got"]
        var text = ""
        while text.utf8.count < bytes {
            text += "tests/unit/test_\(modules[next(modules.count)])_\(next(40)).py::test_\(checks[next(checks.count)])"
            text += "[\(next(16))] failed in 0.\(next(10_000))s: \(errors[next(errors.count)]) \(next(1000)) vs \(next(1000)); "
        }
        return String(text.utf8.prefix(bytes))!
    }
}
