import Glibc
import Logging

/// Each connection holds a file descriptor. When they run out, `accept` fails at once while the listening
/// socket stays readable and NIO's loop spins at 100 % CPU until one is freed (measured: NIO's
/// AcceptBackoffHandler does not stop it). So the process starts by raising its soft limit to the hard one,
/// as most servers do, and says so when `max_connections` does not fit.
enum DescriptorLimit {
    /// Descriptors kept for everything but WebSockets: the listener, Redis, HTTP clients, logs.
    static let reserve = 64

    /// Raises the soft limit to the hard limit; returns the limit in force.
    @discardableResult
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    static func check(maxConnections: Int, logger: Logger) {
        let limit = raise()
        guard limit > 0, maxConnections + reserve > limit else { return }
        logger.warning(
            "max_connections exceeds the file-descriptor limit: connections beyond it are not accepted, and the accept loop busy-waits while the limit is reached",
            metadata: [
                "max_connections": "\(maxConnections)", "nofile_limit": "\(limit)",
                "fix": "raise LimitNOFILE (systemd) / ulimit -n, or lower max_connections",
            ])
    }
}
