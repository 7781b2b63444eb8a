import ServiceLifecycle
import Synchronization

/// Start-up and shutdown state shared by the server's parts: the bound port, draining, the service group.
final class Lifecycle: Sendable {
    private struct State {
        var port: Int?
        var portWaiters: [CheckedContinuation<Int, Never>] = []
        var group: ServiceGroup?
        var shutdownRequested = false
    }

    private let state = Mutex(State())
    private let draining = Atomic<Bool>(false)

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Listening and not draining: what `/api/websocket/status` calls connected and `websocket_health` reports.
    var isServing: Bool { port != nil && !isDraining }

    func startDraining() { draining.store(true, ordering: .relaxed) }

    var port: Int? { state.withLock { $0.port } }

    func listening(on port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.portWaiters = [] }
            return state.portWaiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func waitForPort() async -> Int {
        await withCheckedContinuation { continuation in
            let port = state.withLock { state -> Int? in
                if state.port == nil { state.portWaiters.append(continuation) }
                return state.port
            }
            if let port { continuation.resume(returning: port) }
        }
    }

    /// Returns true if a shutdown was requested before the group existed (it then starts at once).
    func attach(_ group: ServiceGroup) -> Bool {
        state.withLock { state in
            state.group = group
            return state.shutdownRequested
        }
    }

    func requestShutdown() async {
        let group = state.withLock { state in
            state.shutdownRequested = true
            return state.group
        }
        await group?.triggerGracefulShutdown()
    }
}
