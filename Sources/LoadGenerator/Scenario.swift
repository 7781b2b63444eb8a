import NIOCore

/// What every scenario shares: its event loop, an overall deadline (every wait is bounded by it), the
/// fields that open each result line, and the CPU window.
class Scenario: @unchecked Sendable {
    // @unchecked: subclasses are confined to `loop`, the load generator's only thread of work.
    let loop: any EventLoop
    let options: CommonOptions
    /// One server, or several instances of one clustered service: connection i goes to `targets[i % count]`.
    let targets: [Target]
    let deadline: NIODeadline
    var cpu: CPUWindow

    init(loop: any EventLoop, options: CommonOptions) throws {
        self.loop = loop
        self.options = options
        self.targets = try options.url.split(separator: ",").map { try Target(url: String($0), offersDeflate: options.deflate) }
        guard !targets.isEmpty else { throw LoadError("--url is empty") }
        self.deadline = .now() + .milliseconds(Int64(options.timeout * 1000))
        self.cpu = CPUWindow(serverPID: options.serverPid)
    }

    /// Polls `condition` every `every` until it holds; fails once the scenario's deadline has passed.
    func waitUntil(
        _ what: String, every: TimeAmount = .milliseconds(5), _ condition: @escaping @Sendable () -> Bool
    )
        -> EventLoopFuture<Void>
    {
        let promise = loop.makePromise(of: Void.self)
        let deadline = self.deadline
        let loop = self.loop
        @Sendable func check() {
            if condition() { return promise.succeed() }
            if NIODeadline.now() >= deadline { return promise.fail(LoadError("timed out waiting for \(what)")) }
            loop.scheduleTask(in: every) { check() }
        }
        check()
        return promise.futureResult
    }

    /// The first fields of every result line.
    func header(_ scenario: String, _ parameters: [(String, JSON)]) -> [(String, JSON)] {
        [("scenario", .string(scenario)), ("server", .string(options.label)), ("params", .object(parameters))]
    }
}
