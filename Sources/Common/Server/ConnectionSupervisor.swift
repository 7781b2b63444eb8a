import NIOCore
import ServiceLifecycle

/// Runs beside the HTTP server: heartbeats, monitoring samples and cleanup sweeps while the service runs, and
/// on shutdown closes every WebSocket with 1001 and waits (up to `shutdown_timeout`) for them to go.
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
        let loop = server.hub.shards[0].eventLoop
        let sampling = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .interval(Monitor.interval)) { [server] _ in
            server.monitor.sample(server.statistics, settings: server.settings, metrics: server.metrics, logger: server.logger)
        }
        let cleanup = TimeAmount.interval(server.settings.cleanupInterval)
        let sweeping = loop.scheduleRepeatedTask(initialDelay: cleanup, delay: cleanup) { [server] _ in
            for shard in server.hub.shards {
                shard.eventLoop.execute {
                    let released = shard.compact()
                    if released > 0 { server.logger.debug("cleanup released table slots", metadata: ["slots": "\(released)"]) }
                }
            }
        }
        defer { for task in tasks + [sampling, sweeping] { task.cancel() } }
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
