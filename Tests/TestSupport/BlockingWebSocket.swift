import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a plain blocking socket, for tests where the client must go on writing without
/// reading, as a busy client does. (NIO cannot play that part: once the server shuts its side, NIO reads
/// everything at once whatever `autoRead` says.) What the kernel had received when a reset arrives is lost
/// exactly as it would be for a real client, so a test sees what such a client would.
///
/// Every call blocks; run them through `BlockingWebSocket.run` so they stay off the concurrency pool.
public final class BlockingWebSocket: @unchecked Sendable {
    /// How reading ended.
    public enum End: Sendable, Equatable {
        /// The server closed its side (FIN) after everything it sent.
        case closed
        /// A reset (what the server wrote and we had not read yet is gone) or another error.
        case failed(Int32)
        case timedOut
    }

    private let fd: Int32
    private var received: [UInt8] = []

    private init(fd: Int32) { self.fd = fd }

    deinit { Glibc.close(fd) }

    /// Runs blocking work on a thread of its own and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Connects to 127.0.0.1:`port`, upgrades at `/ws` and reads the welcome.
    public static func open(port: Int) throws -> BlockingWebSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestTimeout(description: "socket: errno \(errno)") }
        let socket = BlockingWebSocket(fd: fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestTimeout(description: "connect: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(RawWebSocket.key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard socket.send(Array(request.utf8)) else { throw TestTimeout(description: "upgrade not sent") }
        let terminator: [UInt8] = [13, 10, 13, 10]
        while !socket.received.indices.dropLast(3).contains(where: { socket.received[$0..<$0 + 4].elementsEqual(terminator) }) {
            guard socket.receive() == nil else { throw TestTimeout(description: "no upgrade response") }
        }
        let end = socket.received.indices.dropLast(3).first { socket.received[$0..<$0 + 4].elementsEqual(terminator) }!
        let head = String(decoding: socket.received[..<end], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw TestTimeout(description: "upgrade refused: \(head)") }
        socket.received.removeFirst(end + 4)
        guard let welcome = try socket.nextFrame(), welcome.text.contains("session.created") else {
            throw TestTimeout(description: "no welcome")
        }
        return socket
    }

    /// Sends all of `bytes`; false once the connection refuses (reset, shut, timed out).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Sends `frame` every `pace` (as fast as it can with `.zero`) for `duration`, reading nothing; stops
    /// early when sending fails. Returns how many were sent.
    public func keepSending(_ frame: [UInt8], for duration: Duration, every pace: Duration) -> Int {
        let end = ContinuousClock.now + duration
        var sent = 0
        while ContinuousClock.now < end, send(frame) {
            sent += 1
            if pace > .zero { Thread.sleep(forTimeInterval: Double(pace.components.attoseconds) / 1e18) }
        }
        return sent
    }

    /// Reads every frame up to the end of the connection.
    public func readToEnd() -> (frames: [RawWebSocket.Frame], end: End) {
        var frames: [RawWebSocket.Frame] = []
        while true {
            while let (frame, used) = RawWebSocket.parseFrame(received) {
                received.removeFirst(used)
                frames.append(frame)
            }
            if let end = receive() { return (frames, end) }
        }
    }

    /// The next frame, or nil if the connection ends first.
    private func nextFrame() throws -> RawWebSocket.Frame? {
        while true {
            if let (frame, used) = RawWebSocket.parseFrame(received) {
                received.removeFirst(used)
                return frame
            }
            if receive() != nil { return nil }
        }
    }

    /// One read into `received`; how the connection ended, or nil if bytes came.
    private func receive() -> End? {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            received += buffer[..<count]
            return nil
        }
        if count == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .failed(errno)
    }
}
