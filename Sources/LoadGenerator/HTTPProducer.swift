import NIOCore
import NIOHTTP1
import NIOPosix

/// A producer publishing over HTTP: one keep-alive connection, `POST /api/events`, one request in flight (as a
/// typical HTTP client library does). Calls `answered(status)` for each response.
final class HTTPProducer: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used only on the load generator's single event loop.
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private var channel: (any Channel)?
    private var status = 0
    private let answered: (Int) -> Void

    private init(host: String, answered: @escaping (Int) -> Void) {
        self.host = host
        self.answered = answered
    }

    static func connect(
        to target: Target, on loop: any EventLoop, answered: @escaping (Int) -> Void
    ) -> EventLoopFuture<HTTPProducer> {
        let producer = HTTPProducer(host: target.hostHeader, answered: answered)
        return ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap { channel.pipeline.addHandler(producer) }
            }
            .connect(to: target.address)
            .map { channel in
                producer.channel = channel
                return producer
            }
    }

    func post(_ body: String) {
        guard let channel else { return }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/api/events")
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    func close() { channel?.close(promise: nil) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end: answered(status)
        }
    }
}
