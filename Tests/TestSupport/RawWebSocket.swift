import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A deliberately naive WebSocket client on plain SwiftNIO for hostile-input tests.
///
/// It does the HTTP upgrade by hand and then writes whatever bytes a test asks for: frames masked or not,
/// any opcode, any reserved bits, fragments, lying lengths. Everything the server sends is kept as raw bytes
/// and parsed on demand into HTTP responses and frames, so a test sees exactly what went over the wire.
/// It never answers pings by itself. Every wait has a timeout.
public final class RawWebSocket: Sendable {
    /// One frame from the server.
    public struct Frame: Sendable, CustomStringConvertible {
        public let fin: Bool
        /// RSV1-3 as the low three bits (RSV1 = 4).
        public let rsv: UInt8
        public let opcode: UInt8
        public let masked: Bool
        public let payload: [UInt8]

        public var text: String { String(decoding: payload, as: UTF8.self) }
        /// For a close frame: its status code, if it has one.
        public var closeCode: UInt16? { payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
        public var closeReason: String { String(decoding: payload.dropFirst(2), as: UTF8.self) }

        public var description: String {
            let body =
                opcode == Opcode.close
                ? "code \(closeCode.map(String.init) ?? "none") '\(closeReason)'" : "\(payload.count) bytes"
            return "frame(opcode \(opcode), fin \(fin), rsv \(rsv), \(body))"
        }
    }

    public enum Opcode {
        public static let continuation: UInt8 = 0x0
        public static let text: UInt8 = 0x1
        public static let binary: UInt8 = 0x2
        public static let close: UInt8 = 0x8
        public static let ping: UInt8 = 0x9
        public static let pong: UInt8 = 0xA
    }

    public struct HTTPResponse: Sendable {
        public let status: Int
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: String
    }

    /// What the inbound handler saw; shared with it under a lock.
    final class Inbox: Sendable {
        struct State {
            var bytes: [UInt8] = []
            var tcpClosed = false
            var error: String?
        }
        let state = Mutex(State())
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(_ inbox: Inbox) { self.inbox = inbox }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            inbox.state.withLock { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            inbox.state.withLock { $0.tcpClosed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A reset after the server's close is normal; the bytes read before it stay readable.
            inbox.state.withLock { $0.error = "\(error)" }
            context.close(promise: nil)
        }
    }

    /// The RFC 6455 example key, whose accept value is known.
    public static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    public static let expectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    public let channel: any Channel
    private let inbox: Inbox

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    // MARK: Connecting

    /// A TCP connection and nothing else. `receiveBuffer` shrinks SO_RCVBUF (for slow-consumer tests).
    public static func connect(port: Int, host: String = "127.0.0.1", receiveBuffer: Int? = nil) async throws -> RawWebSocket {
        let inbox = Inbox()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(inbox)) }
        }.connect(host: host, port: port).get()
        return RawWebSocket(channel: channel, inbox: inbox)
    }

    /// Connects and upgrades; fails unless the answer is 101 with the right accept key. With
    /// `readWelcome` the server's first frame (the welcome) is read and checked to be a text frame.
    public static func open(
        port: Int, path: String = "/ws", headers: [(String, String)] = [], readWelcome: Bool = true,
        receiveBuffer: Int? = nil
    ) async throws -> RawWebSocket {
        let socket = try await connect(port: port, receiveBuffer: receiveBuffer)
        let response = try await socket.upgrade(path: path, headers: headers)
        guard response.status == 101, response.headers["sec-websocket-accept"] == expectedAccept else {
            await socket.closeTCP()
            throw TestTimeout(description: "upgrade refused: \(response.status) \(response.body)")
        }
        if readWelcome {
            let welcome = try await socket.nextFrame()
            guard welcome.opcode == Opcode.text, welcome.text.contains("session.created") else {
                throw TestTimeout(description: "expected the welcome, got \(welcome)")
            }
        }
        return socket
    }

    /// Sends an upgrade request and reads the HTTP response head (and a Content-Length body).
    public func upgrade(path: String = "/ws", headers: [(String, String)] = []) async throws -> HTTPResponse {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(Self.key)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        try await write(Array((request + "\r\n").utf8))
        return try await readHTTPResponse()
    }

    public func readHTTPResponse(timeout: Duration = .seconds(5)) async throws -> HTTPResponse {
        try await take(timeout, "an HTTP response") { bytes in
            let terminator: [UInt8] = [13, 10, 13, 10]
            guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0..<$0 + 4].elementsEqual(terminator) }) else {
                return nil
            }
            let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
            guard bytes.count >= end + 4 + bodyLength else { return nil }
            let statusLine = head.first?.split(separator: " ") ?? []
            let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
            let body = String(decoding: bytes[(end + 4)..<(end + 4 + bodyLength)], as: UTF8.self)
            return (HTTPResponse(status: status, headers: headers, body: body), end + 4 + bodyLength)
        }
    }

    // MARK: Sending

    /// Builds a client frame. `mask: nil` sends it unmasked; `length` lies about the payload length.
    public static func frame(
        opcode: UInt8, payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0,
        mask: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D], length: UInt64? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0xF)]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let declared = length ?? UInt64(payload.count)
        switch declared {
        case 0...125: bytes.append(maskBit | UInt8(declared))
        case 126...0xFFFF:
            bytes.append(maskBit | 126)
            bytes += [UInt8(declared >> 8), UInt8(declared & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((declared >> (8 * UInt64($0))) & 0xFF) }
        }
        if let mask {
            bytes += mask
            bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            bytes += payload
        }
        return bytes
    }

    /// A close frame payload: the code, then the reason bytes.
    public static func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    public func send(
        opcode: UInt8, payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0, masked: Bool = true, length: UInt64? = nil
    ) async throws {
        try await write(
            Self.frame(
                opcode: opcode, payload: payload, fin: fin, rsv: rsv, mask: masked ? [0x37, 0xFA, 0x21, 0x3D] : nil,
                length: length))
    }

    public func sendText(_ text: String) async throws { try await send(opcode: Opcode.text, payload: Array(text.utf8)) }

    /// Stops (or resumes) reading from the socket, so the kernel buffers fill and the server sees a slow reader.
    /// (NIO reads to the end anyway once the server shuts its side: see `BlockingWebSocket` for a client
    /// that truly does not read.) Resuming on a connection that has closed meanwhile does nothing.
    public func setReading(_ on: Bool) async throws {
        if on && !channel.isActive { return }
        try await channel.setOption(.autoRead, value: on).get()
        if on { channel.read() }
    }

    /// The close handshake: sends close 1000, reads up to the server's close frame, waits for the TCP close.
    public func closeCleanly(timeout: Duration = .seconds(5)) async throws {
        try await send(opcode: Opcode.close, payload: Self.closePayload(1000))
        _ = try await readUntilClose(timeout: timeout)
        try await waitForTCPClose(timeout: timeout)
    }

    /// Closes the TCP connection at once, without a close handshake (as a crashed client would).
    public func closeTCP() async {
        try? await channel.close().get()
    }

    // MARK: Receiving

    /// The next complete frame from the server.
    public func nextFrame(timeout: Duration = .seconds(5)) async throws -> Frame {
        try await take(timeout, "a frame") { Self.parseFrame($0) }
    }

    /// The next frame, which must be a close frame: returns its code and reason.
    public func closeFrame(timeout: Duration = .seconds(5)) async throws -> (code: UInt16?, reason: String) {
        let frame = try await nextFrame(timeout: timeout)
        guard frame.opcode == Opcode.close else { throw TestTimeout(description: "expected a close frame, got \(frame)") }
        return (frame.closeCode, frame.closeReason)
    }

    /// Skips data frames until a close frame; returns the skipped frames too.
    public func readUntilClose(timeout: Duration = .seconds(5)) async throws -> (frames: [Frame], code: UInt16?, reason: String) {
        var frames: [Frame] = []
        while true {
            let frame = try await nextFrame(timeout: timeout)
            if frame.opcode == Opcode.close { return (frames, frame.closeCode, frame.closeReason) }
            frames.append(frame)
        }
    }

    /// Waits until the server has closed the TCP connection (EOF or reset).
    public func waitForTCPClose(timeout: Duration = .seconds(5)) async throws {
        try await TestClient.poll(timeout, "the TCP connection to close") { inbox.state.withLock { $0.tcpClosed ? true : nil } }
    }

    public var isTCPClosed: Bool { inbox.state.withLock { $0.tcpClosed } }
    /// Bytes received and not yet consumed as a response or frame.
    public var unreadByteCount: Int { inbox.state.withLock { $0.bytes.count } }

    /// True if neither a byte nor a TCP close arrives within `duration`.
    public func receivesNothing(for duration: Duration = .milliseconds(200)) async -> Bool {
        try? await Task.sleep(for: duration)
        return inbox.state.withLock { $0.bytes.isEmpty && !$0.tcpClosed }
    }

    /// Polls until `parse` finds a complete item at the front of the received bytes; removes what it consumed.
    private func take<T>(_ timeout: Duration, _ what: String, _ parse: @escaping ([UInt8]) -> (T, Int)?) async throws -> T {
        let outcome = try await TestClient.poll(timeout, what) {
            inbox.state.withLock { state -> Result<T, TestTimeout>? in
                if let (item, used) = parse(state.bytes) {
                    state.bytes.removeFirst(used)
                    return .success(item)
                }
                // Nothing more can come once the connection is closed.
                return state.tcpClosed ? .failure(TestTimeout(description: "connection closed while waiting for \(what)")) : nil
            }
        }
        return try outcome.get()
    }

    /// Parses one frame at the start of `bytes`: the frame and its length, or nil if incomplete.
    public static func parseFrame(_ bytes: [UInt8]) -> (Frame, Int)? {
        guard bytes.count >= 2 else { return nil }
        let masked = bytes[1] & 0x80 != 0
        var length = UInt64(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
            offset = 10
        }
        let maskKey = masked ? Array(bytes.dropFirst(offset).prefix(4)) : []
        offset += maskKey.count
        guard maskKey.count == (masked ? 4 : 0), UInt64(bytes.count - offset) >= length else { return nil }
        var payload = Array(bytes[offset..<offset + Int(length)])
        if masked { for index in payload.indices { payload[index] ^= maskKey[index % 4] } }
        let frame = Frame(
            fin: bytes[0] & 0x80 != 0, rsv: (bytes[0] >> 4) & 0x7, opcode: bytes[0] & 0xF, masked: masked, payload: payload)
        return (frame, offset + Int(length))
    }
}

extension RawWebSocket {
    /// Writes `frame` again and again until the connection refuses writes; returns how many were written.
    public func keepWriting(_ frame: [UInt8]) -> Task<Int, Never> {
        Task {
            var written = 0
            while (try? await write(frame)) != nil { written += 1 }
            return written
        }
    }
}
