import Synchronization

/// Open connections per client IP address, for `max_connections_per_ip`.
final class AddressCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func count(_ address: String) -> Int { counts.withLock { $0[address] ?? 0 } }

    func opened(_ address: String) { counts.withLock { $0[address, default: 0] += 1 } }

    func closed(_ address: String) {
        counts.withLock { counts in
            let left = (counts[address] ?? 1) - 1
            counts[address] = left > 0 ? left : nil  // no entry for addresses with nothing open
        }
    }

    var addresses: Int { counts.withLock { $0.count } }
}
