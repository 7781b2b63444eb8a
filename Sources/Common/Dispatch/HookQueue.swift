import NIOCore

/// Runs the service's connection hooks one at a time, in the order they were queued, on a task of its own:
/// never on an event loop, so a hook cannot stall the fan-out.
final class HookQueue: Sendable {
    private let jobs: AsyncStream<@Sendable () async -> Void>.Continuation
    private let worker: Task<Void, Never>

    init() {
        let (stream, jobs) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        self.jobs = jobs
        worker = Task {
            for await job in stream { await job() }
        }
    }

    func enqueue(_ job: @escaping @Sendable () async -> Void) {
        jobs.yield(job)
    }

    /// Queues `work` now (in order with what the caller queues next) and returns its outcome on `loop`.
    func submit(on loop: any EventLoop, _ work: @escaping @Sendable () async throws -> Void) -> EventLoopFuture<Void> {
        let outcome = loop.makePromise(of: Void.self)
        enqueue {
            do {
                try await work()
                outcome.succeed(())
            } catch {
                outcome.fail(error)
            }
        }
        return outcome.futureResult
    }

    /// Runs what is queued, then stops (the server has stopped).
    func finish() async {
        jobs.finish()
        await worker.value
    }
}
