import Synchronization

/// The latest state per id (a workflow, a pool, a test run...), bounded: past `capacity` entries, the
/// least recently updated tenth is dropped, so a service that sees endless new ids keeps flat memory.
public final class KeyedStore<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var touched: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var clock: UInt64 = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 10_000) { self.capacity = max(capacity, 1) }

    /// Changes the value for `key`, starting from `initial` when there is none yet.
    public func update(_ key: String, default initial: @autoclosure () -> Value, _ body: (inout Value) -> Void) {
        state.withLock { state in
            var value = state.entries[key]?.value ?? initial()
            body(&value)
            state.clock += 1
            state.entries[key] = Entry(value: value, touched: state.clock)
            if state.entries.count > capacity { evictOldest(&state) }
        }
    }

    public subscript(key: String) -> Value? { state.withLock { $0.entries[key]?.value } }

    public var count: Int { state.withLock { $0.entries.count } }

    /// Every key and value, in no particular order.
    public var all: [(key: String, value: Value)] { state.withLock { $0.entries.map { ($0.key, $0.value.value) } } }

    private func evictOldest(_ state: inout State) {
        let excess = state.entries.count - capacity + capacity / 10
        let oldest = state.entries.sorted { $0.value.touched < $1.value.touched }.prefix(excess)
        for (key, _) in oldest { state.entries[key] = nil }
    }
}

/// The most recent items of a kind (patterns, anomalies...), newest last, at most `capacity` of them.
public final class RecentItems<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var start = 0  // ring buffer: index of the oldest item once full
        var total = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 1000) { self.capacity = max(capacity, 1) }

    public func append(_ item: Item) {
        state.withLock { state in
            state.total += 1
            if state.items.count < capacity {
                state.items.append(item)
            } else {
                state.items[state.start] = item
                state.start = (state.start + 1) % capacity
            }
        }
    }

    /// Newest first.
    public func newestFirst() -> [Item] {
        state.withLock { state in
            // Oldest to newest is items[start...] then items[..<start]; reverse that whole sequence.
            Array(state.items[..<state.start].reversed()) + Array(state.items[state.start...].reversed())
        }
    }

    /// How many were ever appended (not only those kept).
    public var totalSeen: Int { state.withLock { $0.total } }
}
