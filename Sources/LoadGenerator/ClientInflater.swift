import CompressNIO
import NIOCore

/// The receiving side of permessage-deflate for one connection (RFC 7692 §7.2.2): append `00 00 ff ff` to a
/// compressed message and inflate it. A server that keeps its context (`websockets`' default) needs the window
/// kept between messages; one that agreed to `server_no_context_takeover` lets us reset after each message.
final class ClientInflater {
    private let stream: ZlibDecompressor
    private let resetsEachMessage: Bool
    /// Reused for every message: the load generator is single-threaded and hands messages on synchronously.
    private var input = ByteBuffer()
    private var output = ByteBuffer()

    /// nil when the 101 response's `Sec-WebSocket-Extensions` did not accept permessage-deflate.
    init?(responseHead: String) {
        let head = responseHead.lowercased()
        guard head.contains("permessage-deflate"), let stream = try? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        else { return nil }
        self.stream = stream
        self.resetsEachMessage = head.contains("server_no_context_takeover")
    }

    /// Inflates one whole message and passes the bytes to `body` (valid only during the call).
    func inflate(_ payload: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        input.clear()
        input.writeBytes(payload)
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        output.clear()
        output.reserveCapacity(max(4096, payload.count * 8))
        defer { if resetsEachMessage { try? stream.reset() } }
        while true {
            do {
                try stream.inflate(from: &input, to: &output)
                break
            } catch let error as CompressNIOError where error == .bufferOverflow {
                output.reserveCapacity(minimumWritableBytes: output.capacity)
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                break  // every input byte used: the message is complete
            }
        }
        output.withUnsafeReadableBytes(body)
    }
}
