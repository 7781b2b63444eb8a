import Logging
import NIOCore
import NIOWebSocket

/// What a connection hands to the server: decoded lifecycle events and complete messages.
/// Called on the connection's event loop; implementations must not block.
protocol ConnectionDelegate: AnyObject, Sendable {
    func connectionOpened(_ connection: WebSocketConnection)
    /// A complete message; `isText` tells text frames from binary ones.
    func connection(_ connection: WebSocketConnection, received message: ByteBuffer, isText: Bool)
    func connectionClosed(_ connection: WebSocketConnection)
    /// The server is closing the connection with `code` (errors, limits, shutdown).
    func connection(_ connection: WebSocketConnection, closingWith code: CloseCode)
}

extension ConnectionDelegate {
    func connection(_ connection: WebSocketConnection, closingWith code: CloseCode) {}
}

/// One WebSocket connection: the last handler of its channel pipeline, after NIO's frame decoder.
///
/// It owns the RFC 6455 rules the decoder leaves to the application (masking, reserved bits, fragmentation,
/// UTF-8, control frames, the close handshake) and writes pre-built frames (`ServerFrame`) as raw bytes.
/// Every member is used only on the channel's event loop, which is what makes the unchecked `Sendable` sound.
final class WebSocketConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    /// The public connection id (uuid4), as sent in the welcome.
    let id: String
    /// A process-unique small integer: cheaper than the uuid as a dictionary key on the hot path.
    let slot: Int
    let remoteAddress: String
    /// The loop that owns this connection (the fan-out shard).
    let shard: any ConnectionScheduler
    /// When the upgrade completed (for the upgrade-to-welcome latency).
    let openedAt = NIODeadline.now()
    private let delegate: any ConnectionDelegate
    private let maxMessageSize: Int
    /// How a close we start ends: the bounds of the drain after our close frame.
    private let drain: LingeringClose.Policy
    /// permessage-deflate, when the client offered it and we accepted (docs/protocol.md, "Compression").
    let deflate: PerMessageDeflate?
    /// With server context takeover (`compression: dedicated`): this connection's own compressor, made on its
    /// first compressed message and counted in `websocket_compression_contexts`.
    private var contextCompressor: FrameCompressor?

    /// Set when a heartbeat ping is out; cleared by any pong.
    var awaitingPong = false
    /// Set by the shard while the connection has writes waiting for the loop's batched flush.
    var pendingFlush = false
    /// The client's state above the transport (rooms, auth, budgets); the dispatcher and the shard own it.
    var session: ClientSession
    private(set) var isClosing = false
    private var context: ChannelHandlerContext?
    private var fragments: ByteBuffer?
    private var fragmentsAreText = false
    /// The message being reassembled came with RSV1: it is inflated once complete.
    private var fragmentsAreCompressed = false

    init(
        id: String, slot: Int, remoteAddress: String, shard: any ConnectionScheduler, delegate: any ConnectionDelegate,
        maxMessageSize: Int, messageRate: Int, drain: LingeringClose.Policy, deflate: PerMessageDeflate? = nil
    ) {
        self.session = ClientSession(messageRate: messageRate)
        self.id = id
        self.slot = slot
        self.remoteAddress = remoteAddress
        self.shard = shard
        self.delegate = delegate
        self.maxMessageSize = maxMessageSize
        self.drain = drain
        self.deflate = deflate
    }

    var eventLoop: any EventLoop { shard.eventLoop }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        shard.add(self)
        delegate.connectionOpened(self)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    /// Hummingbird allows half-closed connections, so a client that drops its side (FIN without a close
    /// frame) shows up as `inputClosed`, not as an inactive channel: close our side too, at once.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    /// The connection has ended and left its shard: asynchronous work that completes later must not join it
    /// to rooms again.
    private(set) var isFinished = false

    /// Runs once, whichever of inactive/removed comes first: report the close, then leave every room.
    private func finish() {
        guard !isFinished else { return }
        isFinished = true
        session.auth.cancelTimers()
        slowConsumerCheck?.cancel()
        if contextCompressor != nil {
            contextCompressor = nil
            shard.compressionContextsChanged(by: -1)
        }
        delegate.connectionClosed(self)
        shard.remove(self)
    }

    // MARK: Inbound frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // Frames decoded from bytes read before our close are not acted on; later bytes are drained unread.
        if isClosing { return }
        guard frame.maskKey != nil else { return close(.init(1002, "Client frames must be masked")) }
        guard !frame.rsv2, !frame.rsv3 else { return close(.init(1002, "Reserved bits set without a negotiated extension")) }
        if frame.rsv1 {
            // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message, nothing else.
            guard deflate != nil else { return close(.init(1002, "RSV1 set without negotiated permessage-deflate")) }
            guard frame.opcode == .text || frame.opcode == .binary else {
                return close(.init(1002, "RSV1 is only valid on the first frame of a data message"))
            }
        }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return close(.init(1002, "Expected a continuation frame")) }
            if frame.fin {
                deliver(frame.unmaskedData, isText: frame.opcode == .text, compressed: frame.rsv1)
            } else {
                fragments = frame.unmaskedData
                fragmentsAreText = frame.opcode == .text
                fragmentsAreCompressed = frame.rsv1
            }
        case .continuation:
            guard var message = fragments else { return close(.init(1002, "Continuation frame without a message")) }
            fragments = nil  // drop our reference first so appending does not copy the buffer
            var more = frame.unmaskedData
            guard message.readableBytes + more.readableBytes <= maxMessageSize else { return close(.messageTooBig) }
            message.writeBuffer(&more)
            if frame.fin {
                deliver(message, isText: fragmentsAreText, compressed: fragmentsAreCompressed)
            } else {
                fragments = message
            }
        case .ping:
            write(ServerFrame.control(.pong, payload: frame.unmaskedData), flush: false)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            answerClose(frame.unmaskedData)
        default:
            close(.init(1002, "Unknown opcode"))
        }
    }

    private func deliver(_ message: ByteBuffer, isText: Bool, compressed: Bool) {
        var message = message
        if compressed {
            do {
                // The limit applies to what the message inflates to, not to its compressed size.
                message = try shard.compression!.inflate(message, limit: maxMessageSize)
            } catch .tooBig {
                return close(.messageTooBig)
            } catch {
                return close(.invalidCompressedData)
            }
        }
        if isText && !message.isValidUTF8 { return close(.invalidPayload) }
        awaitingPong = false  // any traffic proves the peer is alive
        delegate.connection(self, received: message, isText: isText)
    }

    /// Echoes a client's close (RFC 6455 §5.5.1), or answers a malformed one with 1002/1007.
    private func answerClose(_ payload: ByteBuffer) {
        var payload = payload
        guard let code = payload.readInteger(as: UInt16.self) else {
            return close(payload.readableBytes == 1 ? .init(1002, "Malformed close frame") : .normal, answering: true)
        }
        guard Self.isValidCloseCode(code) else { return close(.init(1002, "Invalid close code \(code)"), answering: true) }
        guard payload.isValidUTF8 else { return close(.invalidPayload, answering: true) }
        close(.echo(code), answering: true)
    }

    /// Codes a peer may send (RFC 6455 §7.4): the defined 1000-1003, 1007-1014, and the 3000-4999 ranges.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? NIOWebSocketError else {
            context.close(promise: nil)  // an I/O error: nothing can be sent any more
            return
        }
        close(error == .invalidFrameLength ? .messageTooBig : .init(1002, "Malformed frame"))
    }

    /// How long the outbound buffer may stay past `max_outbound_buffer` before the client counts as slow.
    /// One large message fills the buffer at once even for a fast reader; a slow one keeps it full.
    static let slowConsumerGrace = TimeAmount.milliseconds(250)
    private var slowConsumerCheck: Scheduled<Void>?

    /// The outbound buffer passed `max_outbound_buffer` (the write buffer's high-water mark). If it is still
    /// that full after the grace period the client reads slower than we send: close it (4008) rather than
    /// buffer without bound or slow anyone else down.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            slowConsumerCheck?.cancel()
            slowConsumerCheck = nil
        } else if slowConsumerCheck == nil {
            slowConsumerCheck = context.eventLoop.assumeIsolated().scheduleTask(in: Self.slowConsumerGrace) {
                self.slowConsumerCheck = nil
                if !context.channel.isWritable { self.close(.slowConsumer) }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    /// Writes a complete frame, after the broadcasts already batched on this loop (so the connection sees
    /// everything in the order it happened). With `flush: false` the shard flushes once at the end of the loop
    /// pass, so a burst of messages costs one syscall per connection, not one per message.
    func write(_ frame: ByteBuffer, flush: Bool) {
        shard.writeBatches(before: self)
        write(encoded: frame, flush: flush)
    }

    /// Writes a plain frame as this connection's compression makes it (compressed or not).
    func write(encoded frame: ByteBuffer, flush: Bool) {
        writeFrame(encoded(frame), flush: flush)
    }

    /// A plain frame as this connection sends it: compressed when permessage-deflate was negotiated and the
    /// payload is large enough; control frames never are.
    private func encoded(_ frame: ByteBuffer) -> ByteBuffer {
        guard let deflate, let compression = shard.compression, !isClosing else { return frame }
        if deflate.serverNoContextTakeover { return compression.compress(frame, windowBits: deflate.serverWindowBits) }
        if contextCompressor == nil {
            contextCompressor = try? FrameCompressor(
                windowBits: deflate.serverWindowBits, settings: compression.settings, resetsEachMessage: false)
            if contextCompressor != nil { shard.compressionContextsChanged(by: 1) }
        }
        return contextCompressor?.compress(frame) ?? frame
    }

    /// The shard's batched broadcast write: no ordering work; flushed now, or at the end of the pass.
    func writeFrame(_ frame: ByteBuffer, flush: Bool) {
        guard let context, !isClosing else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        if flush {
            context.flush()
        } else {
            shard.needsFlush(self)
        }
    }

    func flush() {
        pendingFlush = false
        context?.flush()
    }

    func send(_ envelope: Envelope) {
        // Flushed at the end of the loop pass: the replies to one read of several messages share a syscall.
        write(ServerFrame.envelope(envelope, allocator: context?.channel.allocator ?? ByteBufferAllocator()), flush: false)
    }

    /// Closes the connection with `code`, losing nothing the peer was sent (docs/protocol.md, "How closes end").
    ///
    /// What was broadcast before goes first, then the close frame. When the peer started the handshake
    /// (`answering`: its close is already here and nothing may follow it) TCP closes once our close is written.
    /// Otherwise the peer may still be sending: reading stops at once, our side is shut after the close frame,
    /// and the rest is drained unread until the peer closes (`LingeringClose`), within `close_drain_timeout`
    /// and `close_drain_bytes`. The connection leaves its rooms now, but counts against the connection limits
    /// until the socket is gone.
    func close(_ code: CloseCode, answering: Bool = false) {
        shard.writeBatches(before: self)  // what was broadcast before the close still goes first
        guard let context, !isClosing else { return }
        isClosing = true
        fragments = nil
        delegate.connection(self, closingWith: code)
        shard.leaveAll(self)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ServerFrame.close(code)), promise: written)
        if answering {
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            let decoder = try? context.pipeline.syncOperations.context(handlerType: WebSocketDecoder.self).handler
            LingeringClose.begin(context, before: decoder ?? self, after: written.futureResult, policy: drain)
        }
    }
}

/// NIO's RFC 6455 frame decoder, the handler before `WebSocketConnection`.
typealias WebSocketDecoder = ByteToMessageHandler<WebSocketFrameDecoder>
