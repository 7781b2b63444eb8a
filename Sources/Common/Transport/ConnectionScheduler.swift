import NIOCore

/// What a connection needs from the event loop that owns it: registration, ordering, batched flushes and the
/// loop's compressors. The fan-out's `LoopShard` provides it (Rooms/Fanout.swift); the transport knows only
/// this protocol, so it does not depend on rooms.
protocol ConnectionScheduler: AnyObject, Sendable {
    var eventLoop: any EventLoop { get }
    /// Present unless `compression: off`: this loop's zlib streams.
    var compression: LoopCompression? { get }
    func add(_ connection: WebSocketConnection)
    /// The connection has ended: forget it and leave its rooms.
    func remove(_ connection: WebSocketConnection)
    /// The connection is closing: it leaves its rooms now, though the socket lives on until the drain ends.
    func leaveAll(_ connection: WebSocketConnection)
    /// Before anything else is written to `connection`: writes out what was broadcast to it earlier.
    func writeBatches(before connection: WebSocketConnection)
    /// Flushes `connection` once at the end of the loop pass.
    func needsFlush(_ connection: WebSocketConnection)
    /// Counts dedicated compression contexts (`compression: dedicated`).
    func compressionContextsChanged(by delta: Int)
}
