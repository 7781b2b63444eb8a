import NIOCore

/// Where every event reaches this instance's subscribers, whichever broker ordered it: the service's observers
/// first, then the hub's fan-out, counted and timed.
final class EventDelivery: Sendable {
    let hub: Hub
    private let observers: [@Sendable (PublishedEvent) -> Void]
    private let catalog: EventCatalog
    private let statistics: Statistics
    private let metrics: ServerMetrics
    private let group: any EventLoopGroup

    init(
        hub: Hub, catalog: EventCatalog, observers: [@Sendable (PublishedEvent) -> Void], statistics: Statistics,
        metrics: ServerMetrics, group: any EventLoopGroup
    ) {
        self.hub = hub
        self.observers = observers
        self.catalog = catalog
        self.statistics = statistics
        self.metrics = metrics
        self.group = group
    }

    /// Orders events here, under the hub's lock (the local broker): one step for the whole call.
    func order(_ events: [PreparedEvent], resultOn loop: any EventLoop) -> [EventLoopFuture<Int>] {
        for event in events { observe(event.event, room: event.room, data: event.payload) }
        let started = NIODeadline.now()
        let delivered =
            events.count == 1
            ? [hub.broadcast(open: events[0].open, to: events[0].room, resultOn: loop)]
            : hub.broadcast(batch: events.map { ($0.open, $0.room) }, resultOn: loop)
        return zip(events, delivered).map { event, delivery in measured(event.room, since: started, delivery) }
    }

    /// An event ordered in Redis, as it comes back to every instance with its position.
    func deliver(envelope: ByteBuffer, at position: RoomPosition, to room: String) {
        if !observers.isEmpty, let event = try? Envelope.decode(envelope), let name = event.event {
            observe(name, room: room, data: event.data)
        }
        let started = NIODeadline.now()
        let delivery = hub.broadcast(frame: ServerFrame.text(envelope), at: position, to: room, resultOn: group.any())
        _ = measured(room, since: started, delivery)
    }

    private func observe(_ event: String?, room: String, data: JSONObject) {
        guard let event else { return }  // observers keep projections of named events
        for observer in observers { observer(PublishedEvent(event: event, room: room, data: data)) }
    }

    /// Counts a broadcast and its deliveries, and times it.
    private func measured(_ room: String, since started: NIODeadline, _ delivery: EventLoopFuture<Int>) -> EventLoopFuture<Int> {
        statistics.broadcasts.add(1, ordering: .relaxed)
        let channel = catalog.channel(for: room)?.pattern.label ?? room
        return delivery.map { [statistics, metrics] delivered in
            statistics.messagesSent.add(delivered, ordering: .relaxed)
            metrics.sent(.event, count: delivered)
            metrics.broadcast(channel: channel, seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
            return delivered
        }
    }
}
