import NIOCore

extension Settings {
    /// The bounds of the drain that ends every close the server starts (WebSocket closes, refused requests).
    func drainPolicy(metrics: ServerMetrics) -> LingeringClose.Policy {
        LingeringClose.Policy(
            timeout: .interval(closeDrainTimeout), maxBytes: closeDrainBytes, ended: { metrics.drainEnded($0) })
    }
}
