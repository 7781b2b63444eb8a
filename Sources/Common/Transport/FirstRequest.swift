import NIOCore
import NIOHTTP1

/// The first handler of every connection: reads the head of its first HTTP request and decides.
///
/// A WebSocket upgrade is answered right here (RFC 6455 §4.2): admission checks, then `101` and the WebSocket
/// handlers, or an HTTP error and close. No HTTP codec is ever added to such a connection, which halves the
/// cost of a connect compared with adding NIO's HTTP decoder, encoder and upgrade handler only to remove them
/// again. Any other request gets the HTTP pipeline (`http`) and the bytes read so far, so Hummingbird parses
/// it from its first byte, malformed requests included.
final class FirstRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The largest request head accepted on a new connection (request line and headers, like nginx's default
    /// buffers); a larger one is answered 431 and the connection closed.
    static let maxHeadBytes = 16 * 1024

    private let upgrade: WebSocketHandshake
    private let refused: @Sendable (UpgradeRefusal) -> Void
    /// Adds the HTTP pipeline after this handler and returns what the listener hands to Hummingbird.
    private let http: (any Channel) throws -> UpgradeOutcome
    private let outcome: EventLoopPromise<UpgradeOutcome>
    private var received: ByteBuffer?
    /// How much of `received` has been searched for the end of the head.
    private var searched = 0
    /// How the connection ends after a refusal.
    private let drain: LingeringClose.Policy

    init(
        upgrade: WebSocketHandshake, refused: @escaping @Sendable (UpgradeRefusal) -> Void, drain: LingeringClose.Policy,
        http: @escaping (any Channel) throws -> UpgradeOutcome, outcome: EventLoopPromise<UpgradeOutcome>
    ) {
        self.upgrade = upgrade
        self.refused = refused
        self.drain = drain
        self.http = http
        self.outcome = outcome
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        guard let buffered = received else { return }
        guard let end = Self.endOfHead(buffered, from: searched) else {
            searched = buffered.readableBytes
            if buffered.readableBytes > Self.maxHeadBytes { refuse(context, Self.headTooLarge) }
            return
        }
        guard end <= Self.maxHeadBytes else { return refuse(context, Self.headTooLarge) }
        guard let head = Self.parseHead(buffered.getSlice(at: buffered.readerIndex, length: end)!), Self.isUpgrade(head) else {
            return handToHTTP(context)
        }
        received = nil
        var rest = buffered
        rest.moveReaderIndex(forwardBy: end)
        switch upgrade.respond(to: head, on: context.channel) {
        case .failure(let refusal):
            refuse(context, refusal)
        case .success(let accepted):
            context.write(wrapInboundOut(ByteBuffer(string: accepted.response)), promise: nil)
            do {
                try upgrade.install(head, context.channel, accepted.deflate)
            } catch {
                outcome.fail(error)
                return context.close(promise: nil)
            }
            // One syscall for the 101 and the welcome the new connection has just queued.
            context.flush()
            outcome.succeed(.upgraded)
            // Frames a client sent right behind its handshake go to the WebSocket handlers (before this handler
            // leaves: a removed handler's context forwards nothing).
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    static let headTooLarge = UpgradeRefusal(
        .init(statusCode: 431, reasonPhrase: "Request Header Fields Too Large"), code: .headersTooLarge,
        "The request line and headers may take at most \(maxHeadBytes) bytes")

    /// Answers with an HTTP error and closes: no WebSocket, no HTTP pipeline. A client may still be sending
    /// (an oversized head): the answer is written, our side shut, and the rest drained unread (`LingeringClose`),
    /// so a reset cannot destroy the answer before the client reads it.
    private func refuse(_ context: ChannelHandlerContext, _ refusal: UpgradeRefusal) {
        received = nil
        outcome.succeed(.refused)
        refused(refusal)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapInboundOut(Self.response(refusal)), promise: written)
        LingeringClose.begin(context, before: nil, after: written.futureResult, policy: drain)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Installs the HTTP pipeline behind this handler, replays what was read, and steps aside.
    private func handToHTTP(_ context: ChannelHandlerContext) {
        do {
            outcome.succeed(try http(context.channel))
        } catch {
            outcome.fail(error)
            return context.close(promise: nil)
        }
        let buffered = received
        received = nil
        if let buffered { context.fireChannelRead(wrapInboundOut(buffered)) }
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client ended its side before finishing the request (allowRemoteHalfClosure is on).
        if case ChannelEvent.inputClosed = event { return context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        outcome.fail(ChannelError.inputClosed)  // ignored if already decided
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outcome.fail(error)
        context.close(promise: nil)
    }

    // MARK: Parsing (just enough to recognize an upgrade; everything else is Hummingbird's)

    /// The length of the head including its blank line, or nil when it is not complete yet. The search starts
    /// at `from` (bytes already searched, less the 3 a terminator could straddle), so a client sending its head
    /// byte by byte costs linear, not quadratic, time.
    static func endOfHead(_ buffer: ByteBuffer, from: Int = 0) -> Int? {
        let view = buffer.readableBytesView
        var index = view.startIndex + max(0, min(from - 3, view.count))
        while let cr = view[index...].firstIndex(of: UInt8(ascii: "\r")) {
            guard cr + 3 < view.endIndex else { return nil }
            if view[cr + 1] == UInt8(ascii: "\n"), view[cr + 2] == UInt8(ascii: "\r"), view[cr + 3] == UInt8(ascii: "\n") {
                return cr + 4 - view.startIndex
            }
            index = cr + 1
        }
        return nil
    }

    /// Request line and header fields; nil for anything unusual (left to the HTTP parser to reject). Works on
    /// the bytes: only names, values and the target become strings.
    static func parseHead(_ bytes: ByteBuffer) -> HTTPRequestHead? {
        bytes.withUnsafeReadableBytes { head -> HTTPRequestHead? in
            let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), colon = UInt8(ascii: ":")
            var lines: [Range<Int>] = []
            var start = 0
            var index = 0
            while index + 1 < head.count {
                if head[index] == UInt8(ascii: "\r"), head[index + 1] == UInt8(ascii: "\n") {
                    if index > start { lines.append(start..<index) }
                    index += 2
                    start = index
                } else {
                    index += 1
                }
            }
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeRawBufferPointer(rebasing: head[range]), as: UTF8.self)
            }
            guard let requestLine = lines.first else { return nil }
            let prefix = Array("GET /".utf8), suffix = Array(" HTTP/1.1".utf8)
            guard requestLine.count >= prefix.count + suffix.count,
                head[requestLine.prefix(prefix.count)].elementsEqual(prefix),
                head[requestLine.suffix(suffix.count)].elementsEqual(suffix)
            else { return nil }
            let target = (requestLine.lowerBound + 4)..<(requestLine.upperBound - suffix.count)
            guard !head[target].contains(space) else { return nil }
            var headers = HTTPHeaders()
            for line in lines.dropFirst() {
                guard let colon = head[line].firstIndex(of: colon), colon > line.lowerBound,
                    !head[line.lowerBound..<colon].contains(where: { $0 == space || $0 == tab })
                else { return nil }
                var from = colon + 1, to = line.upperBound
                while from < to, head[from] == space || head[from] == tab { from += 1 }
                while to > from, head[to - 1] == space || head[to - 1] == tab { to -= 1 }
                headers.add(name: text(line.lowerBound..<colon), value: text(from..<to))
            }
            return HTTPRequestHead(version: .http1_1, method: .GET, uri: text(target), headers: headers)
        }
    }

    /// `Upgrade: websocket` with `Connection: upgrade` (tokens, any case).
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        func has(_ name: String, _ token: String) -> Bool {
            head.headers[name].contains { value in
                value.split(separator: ",").contains { $0.trimmingCharacters(in: [" ", "\t"]).lowercased() == token }
            }
        }
        return has("upgrade", "websocket") && has("connection", "upgrade")
    }

    /// An HTTP error for a refused upgrade: JSON `{error_code, error_message}`, then the connection closes.
    static func response(_ refusal: UpgradeRefusal) -> ByteBuffer {
        let body = JSONWriter.string(
            ["error_code": .string(refusal.code.rawValue), "error_message": .string(refusal.message)] as JSONObject)
        var head = "HTTP/1.1 \(refusal.status.code) \(refusal.status.reasonPhrase)\r\nConnection: close\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nDate: \(HTTPDate.now())\r\n"
        for (name, value) in refusal.headers { head += "\(name): \(value)\r\n" }
        return ByteBuffer(string: head + "\r\n" + body)
    }
}

private extension Substring {
    func trimmingCharacters(in set: Set<Character>) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return result
    }
}
