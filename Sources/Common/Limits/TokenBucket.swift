import NIOCore

/// Per-connection message rate limit (the reference's mahavishnu rule): `rate` tokens per second, holding at
/// most `capacity` (1.5x rate), starting full; each message costs one.
struct TokenBucket {
    let rate: Double
    let capacity: Double
    private(set) var tokens: Double
    private var refilledAt: NIODeadline
    /// Messages refused since the last accepted one; a client that keeps pushing is closed (see `isAbusive`).
    private(set) var refusedInARow = 0

    init(rate: Int, now: NIODeadline = .now()) {
        self.rate = Double(rate)
        self.capacity = Double(rate) * 1.5
        self.tokens = capacity
        self.refilledAt = now
    }

    /// Takes a token; false when the bucket is empty.
    mutating func take(now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - refilledAt).nanoseconds) / 1e9
        tokens = min(capacity, tokens + elapsed * rate)
        refilledAt = now
        guard tokens >= 1 else {
            refusedInARow += 1
            return false
        }
        tokens -= 1
        refusedInARow = 0
        return true
    }

    /// Seconds until the next token, as the reference reports it (3 decimals).
    var retryAfter: String {
        let seconds = max(0, (1 - tokens) / rate)
        let millis = Int((seconds * 1000).rounded(.up))
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// More refusals in a row than a full burst: the client ignores the errors it gets.
    var isAbusive: Bool { Double(refusedInARow) > capacity }
}
