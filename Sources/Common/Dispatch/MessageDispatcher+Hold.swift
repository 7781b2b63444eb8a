import NIOCore

/// Keeps a connection's messages in order while one of them waits for asynchronous work (`HeldMessages`).
extension MessageDispatcher {
    /// Holds the messages after the current one until `release(_:)`.
    func hold(_ connection: WebSocketConnection) {
        connection.session.held.active = true
    }

    /// Runs `work` off the loop while the connection's later messages are held, then `then` on the loop with
    /// its result. `then` ends the hold (`release`) or closes the connection.
    func whileHolding<T: Sendable>(
        _ connection: WebSocketConnection, _ work: @escaping @Sendable () async throws -> T,
        then: @escaping @Sendable (WebSocketConnection, Result<T, any Error>) -> Void
    ) {
        hold(connection)
        let bound = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        let done = connection.eventLoop.makePromise(of: T.self)
        done.completeWithTask(work)
        done.futureResult.whenComplete { result in then(bound.value, result) }
    }

    /// Handles the held messages in order; stops early if one of them has to wait in turn.
    func release(_ connection: WebSocketConnection) {
        connection.session.held.active = false
        while !connection.session.held.active, !connection.session.held.messages.isEmpty {
            let (message, isText) = connection.session.held.messages.removeFirst()
            self.connection(connection, received: message, isText: isText)
        }
    }
}
