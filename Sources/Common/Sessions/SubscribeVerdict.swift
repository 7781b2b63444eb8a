import Synchronization

/// A subscribe waiting for the service's subscribe hook: the room, and whether the hook let the client in. Kept
/// in the session while the hook runs, so a connection that goes meanwhile still gets the unsubscribe hook for
/// a room the hook accepted (queued after the subscribe hook, it reads the verdict once that has run).
final class SubscribeVerdict: Sendable {
    let room: String
    private let accepted = Atomic<Bool>(false)

    init(room: String) { self.room = room }

    func accept() { accepted.store(true, ordering: .releasing) }
    var isAccepted: Bool { accepted.load(ordering: .acquiring) }
}
