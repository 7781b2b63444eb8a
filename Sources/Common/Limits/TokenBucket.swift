import NIOCore

/// Per-connection message rate limit (the reference's mahavishnu rule): `rate` tokens per second, holding at
/// most `capacity` (1.5x rate), starting full; each message costs one.
struct TokenBucket {
    let rate: Double
    let capacity: Double
    private(set) var tokens: Double
    private var refilledAt: NIODeadline
    /// Messages refused in the current one-second window; a client that keeps pushing is closed (`isAbusive`).
    private(set) var refusedInWindow = 0
    private var windowStart: NIODeadline

    init(rate: Int, now: NIODeadline = .now()) {
        self.rate = Double(rate)
        self.capacity = Double(rate) * 1.5
        self.tokens = capacity
        self.refilledAt = now
        self.windowStart = now
    }

    /// Takes `cost` tokens (a batch of events costs one per event); false, taking none, when there are fewer.
    mutating func take(_ cost: Int = 1, now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - refilledAt).nanoseconds) / 1e9
        tokens = min(capacity, tokens + elapsed * rate)
        refilledAt = now
        guard tokens >= Double(cost) else {
            if now - windowStart > Self.abuseWindow {
                windowStart = now
                refusedInWindow = 0
            }
            refusedInWindow += 1
            return false
        }
        tokens -= Double(cost)
        return true
    }

    /// Seconds until the next token, as the reference reports it (3 decimals).
    var retryAfter: String {
        let seconds = max(0, (1 - tokens) / rate)
        let millis = Int((seconds * 1000).rounded(.up))
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// More refusals within a second than a full burst: the client ignores the errors it gets. (Counting
    /// refusals in a row instead would depend on how fast the server is: every token that refills while a
    /// flood is read lets one message through and would start the count again.)
    var isAbusive: Bool { Double(refusedInWindow) > capacity }
    static let abuseWindow = TimeAmount.seconds(1)
}
