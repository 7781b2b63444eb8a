import NIOCore

/// What a scenario hears from its connections. Every call happens on the single event loop.
protocol ClientEvents: AnyObject {
    /// The server answered the handshake with 101; frames may follow at once.
    func connectionOpened(_ connection: ClientConnection)
    /// One complete text or binary message. The bytes are only valid during the call.
    func connection(_ connection: ClientConnection, received message: UnsafeRawBufferPointer)
    /// The TCP connection ended (before or after the handshake: see `connection.isOpen`).
    func connectionClosed(_ connection: ClientConnection)
}

/// One client WebSocket: the only handler in its pipeline. It writes the handshake, parses server frames
/// straight from the socket buffers (no per-frame allocation), answers pings and closes, and hands whole
/// messages to the scenario. A hand-written client keeps each idle connection small: one handler, no HTTP codec.
final class ClientConnection: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: every member is touched only on the one event loop that runs the whole load generator.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State { case connecting, handshaking, open, closed }

    /// The scenario's index for this connection (its slot in per-connection arrays).
    let index: Int
    /// When the connect began (monotonic ns): the start of the handshake latency.
    let startedAt: UInt64
    /// When the 101 arrived (monotonic ns), 0 before.
    private(set) var openedAt: UInt64 = 0
    /// Set by the Connector once it has counted this connection as opened or failed.
    var settled = false
    private(set) var state = State.connecting
    /// The close code of a server close frame, if one came.
    private(set) var serverCloseCode: Int?
    private(set) var protocolError: String?

    /// When the current read batch began (monotonic ns): the receive time of every message in it. One clock
    /// read per socket read instead of per message (at millions of messages/s the clock itself shows up).
    private(set) var readAt: UInt64 = 0

    // unowned(unsafe): the scenario outlives every connection (the process exits after the result line), and
    // a checked unowned reference costs an atomic retain/release per message.
    private unowned(unsafe) let events: any ClientEvents
    private let handshake: ByteBuffer
    /// We offered permessage-deflate; `inflater` is set when the server accepted it.
    private let offersDeflate: Bool
    private var inflater: ClientInflater?
    /// The server accepted permessage-deflate.
    var negotiatedDeflate: Bool { inflater != nil }
    /// Messages that came compressed (RSV1).
    private(set) var compressedMessages = 0
    private var context: ChannelHandlerContext?
    /// Bytes of an incomplete header or frame carried over to the next read.
    private var pending: ByteBuffer?
    /// A fragmented message being reassembled (servers here rarely fragment; kept correct anyway).
    private var fragments: [UInt8]?
    private var fragmentsAreCompressed = false
    private var needsFlush = false

    static let maxHandshakeBytes = 16 * 1024
    static let maxFrameBytes = 64 * 1024 * 1024

    init(index: Int, events: any ClientEvents, handshake: ByteBuffer, offersDeflate: Bool = false) {
        self.index = index
        self.events = events
        self.handshake = handshake
        self.offersDeflate = offersDeflate
        self.startedAt = Clock.nanos()
    }

    var isOpen: Bool { state == .open }
    var handshakeNanos: UInt64 { openedAt > startedAt ? openedAt - startedAt : 0 }

    // MARK: Sending

    /// Queues a frame; it goes out at the end of the current read batch (`channelReadComplete`) or at `flush()`.
    /// Replies triggered by many frames of one read then share one syscall.
    func write(_ frame: ByteBuffer) {
        guard state == .open, let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        needsFlush = true
    }

    func flush() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    func send(_ frame: ByteBuffer) {
        write(frame)
        flush()
    }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        state = .handshaking
        context.writeAndFlush(wrapOutboundOut(handshake), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        pending = nil
        events.connectionClosed(self)
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        protocolError = protocolError ?? "\(error)"
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        readAt = Clock.nanos()
        if var carried = pending {
            pending = nil
            carried.writeBuffer(&buffer)
            buffer = carried
        }
        if state == .handshaking {
            guard readHandshakeResponse(&buffer) else { return }
        }
        if state == .open { parseFrames(&buffer) }
        if state == .open, buffer.readableBytes > 0 {
            // Copy the tail (less than one frame) so the large read buffer is not kept alive.
            var tail = context.channel.allocator.buffer(capacity: max(buffer.readableBytes * 2, 1024))
            tail.writeBuffer(&buffer)
            pending = tail
        }
    }

    /// Consumes the HTTP response head. Returns false when it is incomplete (kept) or not a 101 (closed).
    private func readHandshakeResponse(_ buffer: inout ByteBuffer) -> Bool {
        let view = buffer.readableBytesView
        guard let end = Scan.find(Scan.headerEnd, in: view) else {
            if buffer.readableBytes > Self.maxHandshakeBytes { fail("handshake response too large") } else { pending = buffer }
            return false
        }
        let statusOK = view.starts(with: Scan.status101)
        guard statusOK else {
            let line = String(decoding: view.prefix { $0 != 13 }, as: UTF8.self)
            fail("handshake refused: \(line)")
            return false
        }
        if offersDeflate { inflater = ClientInflater(responseHead: String(decoding: view.prefix(end), as: UTF8.self)) }
        buffer.moveReaderIndex(forwardBy: end + Scan.headerEnd.count)
        state = .open
        openedAt = Clock.nanos()
        events.connectionOpened(self)
        return true
    }

    private func fail(_ reason: String) {
        protocolError = protocolError ?? reason
        context?.close(promise: nil)
    }

    /// Parses every complete frame in `buffer` (server frames are unmasked) and leaves the rest unread.
    private func parseFrames(_ buffer: inout ByteBuffer) {
        let consumed = buffer.withUnsafeReadableBytes { bytes -> Int in
            var offset = 0
            while state == .open {
                let available = bytes.count - offset
                guard available >= 2 else { break }
                let first = bytes[offset], second = bytes[offset + 1]
                var header = 2
                var length = Int(second & 0x7F)
                if length == 126 {
                    guard available >= 4 else { break }
                    length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                    header = 4
                } else if length == 127 {
                    guard available >= 10 else { break }
                    length = 0
                    for i in 2..<10 { length = length << 8 | Int(bytes[offset + i]) }
                    header = 10
                }
                guard second & 0x80 == 0, length <= Self.maxFrameBytes else {
                    fail("masked or oversized server frame")
                    break
                }
                guard available >= header + length else { break }
                let start = offset + header
                offset = start + length
                handleFrame(
                    fin: first & 0x80 != 0, compressed: first & 0x40 != 0, opcode: first & 0x0F,
                    payload: UnsafeRawBufferPointer(rebasing: bytes[start..<start + length]))
            }
            return offset
        }
        buffer.moveReaderIndex(forwardBy: consumed)
    }

    private func handleFrame(fin: Bool, compressed: Bool, opcode: UInt8, payload: UnsafeRawBufferPointer) {
        switch opcode {
        case 0x1, 0x2:
            guard fragments == nil else { return fail("new message inside a fragmented one") }
            if fin {
                deliver(payload, compressed: compressed)
            } else {
                fragments = Array(payload)
                fragmentsAreCompressed = compressed
            }
        case 0x0:
            guard fragments != nil else { return fail("continuation without a message") }
            fragments!.append(contentsOf: payload)
            if fin, let message = fragments {
                fragments = nil
                message.withUnsafeBytes { deliver($0, compressed: fragmentsAreCompressed) }
            }
        case 0x9:
            write(ClientFrame.make(opcode: ClientFrame.pong, payload: payload))
        case 0xA:
            break
        case 0x8:
            serverCloseCode = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
            // Echo the code (RFC 6455 §5.5.1), then drop the connection.
            write(ClientFrame.make(opcode: ClientFrame.close, payload: UnsafeRawBufferPointer(rebasing: payload.prefix(2))))
            flush()
            state = .closed
            context?.close(promise: nil)
        default:
            fail("unknown opcode \(opcode)")
        }
    }

    /// A whole message to the scenario, inflated first when it came compressed (RSV1).
    private func deliver(_ message: UnsafeRawBufferPointer, compressed: Bool) {
        guard compressed else { return events.connection(self, received: message) }
        guard let inflater else { return fail("RSV1 without negotiated permessage-deflate") }
        compressedMessages += 1
        do {
            try inflater.inflate(message) { events.connection(self, received: $0) }
        } catch {
            fail("invalid compressed message: \(error)")
        }
    }
}
