import Synchronization

/// Process-wide counters, updated with relaxed atomics from every loop.
final class Statistics: Sendable {
    let startedAt = Timestamp.currentMicroseconds()
    let activeConnections = Atomic<Int>(0)
    let peakConnections = Atomic<Int>(0)
    let totalConnections = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let messagesSent = Atomic<Int>(0)
    let broadcasts = Atomic<Int>(0)
    let errorsSent = Atomic<Int>(0)
    /// Sum of message handling times, and how many messages were timed.
    let latencyMicros = Atomic<Int>(0)
    let messagesHandled = Atomic<Int>(0)
    /// Sum of upgrade-to-welcome times.
    let connectLatencyMicros = Atomic<Int>(0)
    /// Unix microseconds of the last message received.
    let lastActivity = Atomic<Int64>(0)

    func connectionOpened() {
        let open = activeConnections.add(1, ordering: .relaxed).newValue
        totalConnections.add(1, ordering: .relaxed)
        var peak = peakConnections.load(ordering: .relaxed)
        while open > peak {
            let (exchanged, current) = peakConnections.compareExchange(
                expected: peak, desired: open, ordering: .relaxed)
            if exchanged { break }
            peak = current
        }
    }

    func counts() -> Monitor.Counts {
        Monitor.Counts(
            at: Double(Timestamp.currentMicroseconds()) / 1e6,
            received: messagesReceived.load(ordering: .relaxed), delivered: messagesSent.load(ordering: .relaxed),
            errors: errorsSent.load(ordering: .relaxed), latencyMicros: latencyMicros.load(ordering: .relaxed),
            handled: messagesHandled.load(ordering: .relaxed),
            connectLatencyMicros: connectLatencyMicros.load(ordering: .relaxed),
            connected: totalConnections.load(ordering: .relaxed))
    }
}
