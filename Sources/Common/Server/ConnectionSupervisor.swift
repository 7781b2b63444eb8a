import NIOCore
import ServiceLifecycle

/// Runs beside the HTTP server: heartbeats while the service runs, and on shutdown closes every WebSocket
/// with 1001 and waits (up to `shutdown_timeout`) for them to go.
///
/// It is listed before the HTTP application in the service group, so it shuts down after the listener
/// has stopped accepting.
struct ConnectionSupervisor: Service {
    let server: RealtimeServer

    func run() async throws {
        let interval = TimeAmount.interval(server.settings.heartbeatInterval)
        let tasks = server.hub.shards.map { shard in
            shard.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                shard.heartbeat()
            }
        }
        defer { for task in tasks { task.cancel() } }
        try? await gracefulShutdown()
        server.lifecycle.startDraining()
        await closeAll()
    }

    private func closeAll() async {
        let open = server.activeConnections
        guard open > 0 else { return }
        server.logger.info("closing connections for shutdown", metadata: ["connections": "\(open)"])
        for shard in server.hub.shards {
            shard.eventLoop.execute { shard.forEachConnection { $0.close(.goingAway) } }
        }
        let deadline = ContinuousClock.now + .milliseconds(Int(server.settings.shutdownTimeout * 1000))
        while server.activeConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension LoopShard {
    /// Pings every connection; one that has not answered the previous ping is closed (1011).
    func heartbeat() {
        forEachConnection { connection in
            if connection.awaitingPong {
                connection.close(.heartbeatTimeout)
            } else {
                connection.awaitingPong = true
                connection.write(ServerFrame.control(.ping, payload: ByteBuffer()), flush: false)
            }
        }
    }
}
