import NIOCore

/// A connection's messages are handled in the order they came. When one has to wait for asynchronous work
/// (a token check, a resume read from Redis), the ones after it are held here and handled once it is done.
/// Lives on the connection, used only on its event loop.
struct HeldMessages {
    /// More than this many messages behind a pending one closes the connection (1008): a client that floods
    /// while it waits gets no unbounded buffer.
    static let limit = 16

    /// Asynchronous work for an earlier message is in flight.
    var active = false
    var messages: [(message: ByteBuffer, isText: Bool)] = []
}
