import NIOCore

/// The end of every close the server starts: our last bytes are written, our side of TCP is shut (FIN), and
/// what the peer still sends is read and thrown away until it closes too. Only then is the socket closed.
///
/// Closing a socket whose receive queue still holds bytes makes the kernel answer with a reset, and a reset
/// makes the *peer's* kernel discard everything it had received but not yet read: the replies, the error
/// frames and the close frame with its reason. A client that was still writing when we decided to close would
/// learn nothing. (nginx's `lingering_close` does the same for HTTP.) The drain is bounded by time and by bytes,
/// and nothing drained is parsed: the bytes never reach a decoder.
final class LingeringClose: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// How a drain ended; the label of `websocket_close_drains_total`.
    enum Outcome: String, CaseIterable, Sendable {
        /// The peer closed its side (or reset): the normal end.
        case peerClosed = "peer_closed"
        /// `close_drain_timeout` passed with the peer still connected.
        case timeout
        /// The peer sent more than `close_drain_bytes` after our close.
        case byteLimit = "byte_limit"
    }

    /// The bounds of a drain, and who is told how each ended (the metric).
    struct Policy: Sendable {
        var timeout: TimeAmount
        var maxBytes: Int
        var ended: @Sendable (Outcome) -> Void = { _ in }
    }

    private let policy: Policy
    private var drained = 0
    private var isEnded = false
    private var deadline: Scheduled<Void>?

    private init(policy: Policy) { self.policy = policy }

    /// Starts draining `context`'s channel: bytes stop reaching `context`'s handler (and any decoder before it)
    /// at once, and our side is shut as soon as `lastWrite` (the close frame, or an HTTP error) is written.
    /// The time bound starts now, so a peer that reads nothing cannot hold the connection longer either.
    static func begin(
        _ context: ChannelHandlerContext, before handler: (any ChannelHandler)?, after lastWrite: EventLoopFuture<Void>,
        policy: Policy
    ) {
        let drain = LingeringClose(policy: policy)
        let position: ChannelPipeline.SynchronousOperations.Position = handler.map { .before($0) } ?? .after(context.handler)
        do {
            try context.pipeline.syncOperations.addHandler(drain, position: position)
        } catch {
            return context.close(promise: nil)
        }
        let channel = context.channel
        lastWrite.assumeIsolated().whenComplete { result in
            switch result {
            // Channels that cannot half-close (rare) keep draining until the peer goes or the bounds end it.
            case .success: channel.close(mode: .output, promise: nil)
            case .failure: channel.close(promise: nil)
            }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: policy.timeout) { [self] in
            end(context, .timeout)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        drained += unwrapInboundIn(data).readableBytes
        if drained > policy.maxBytes { end(context, .byteLimit) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { return end(context, .peerClosed) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(context, .peerClosed)
        context.fireChannelInactive()
    }

    /// A reset from the peer also ends the drain; what we wrote before was already sent.
    func errorCaught(context: ChannelHandlerContext, error: any Error) { end(context, .peerClosed) }

    private func end(_ context: ChannelHandlerContext, _ outcome: Outcome) {
        guard !isEnded else { return }
        isEnded = true
        deadline?.cancel()
        policy.ended(outcome)
        context.close(promise: nil)
    }
}
