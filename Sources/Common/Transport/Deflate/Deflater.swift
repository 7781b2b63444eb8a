import CompressNIO
import NIOCore

/// Turns a plain server frame into a permessage-deflate one (RFC 7692 §7.2.1): the payload deflated and
/// sync-flushed, its trailing `00 00 ff ff` removed, RSV1 set. Only on the thread that owns it.
final class FrameCompressor {
    private let compressor: ZlibCompressor
    /// No context takeover: every message starts from an empty window, so the output stands alone and may be
    /// shared by every subscriber that agreed to it.
    private let resetsEachMessage: Bool
    private let threshold: Int

    init(windowBits: Int, settings: CompressionSettings, resetsEachMessage: Bool) throws {
        self.compressor = try ZlibCompressor(
            algorithm: .deflate,
            configuration: ZlibConfiguration(
                windowSize: Int32(windowBits), compressionLevel: Int32(settings.level),
                memoryLevel: Int32(settings.memoryLevel)))
        self.resetsEachMessage = resetsEachMessage
        self.threshold = settings.threshold
    }

    /// The frame compressed; the frame itself when it is a control frame or below the threshold. (Data that
    /// does not shrink is still sent compressed, a few bytes larger, as Python `websockets` does: a message's
    /// form then depends only on its size.)
    func compress(_ frame: ByteBuffer) -> ByteBuffer {
        guard var (opcode, payload) = ServerFrame.dataPayload(of: frame), payload.readableBytes >= threshold else {
            return frame
        }
        var out = ServerFrame.begin(capacity: compressor.maxSize(from: payload))
        do {
            try compressor.deflate(from: &payload, to: &out, flush: .sync)
            if resetsEachMessage { try compressor.reset() }
        } catch {
            // zlib failed (out of memory): start the next message from scratch; this one goes plain.
            try? compressor.reset()
            return frame
        }
        // A sync flush always ends with an empty stored block, whose 4 bytes the receiver adds back.
        out.moveWriterIndex(to: out.writerIndex - 4)
        return ServerFrame.finish(out, opcode: opcode, compressed: true)
    }
}

/// The inflater of one event loop, shared by its connections: clients never keep a window
/// (`client_no_context_takeover`), so each message is inflated from a fresh state.
final class MessageInflater {
    enum Failure: Error {
        /// Inflated past the limit (`max_message_size`): 1009.
        case tooBig
        /// Not a valid deflate stream: 1007.
        case invalid
    }

    private let inflater: ZlibDecompressor
    private let allocator = ByteBufferAllocator()

    init() throws { inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15) }

    /// Inflates one message, stopping as soon as the output passes `limit`: a decompression bomb costs at most
    /// about twice the limit in memory and the work to produce it, not its inflated size.
    func inflate(_ message: ByteBuffer, limit: Int) throws(Failure) -> ByteBuffer {
        var input = message
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        var output = allocator.buffer(capacity: min(limit + 1, max(1024, input.readableBytes * 4)))
        defer { try? inflater.reset() }
        while true {
            do {
                try inflater.inflate(from: &input, to: &output)
                break  // all input consumed (or the stream's final block reached)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                guard output.readableBytes <= limit else { throw .tooBig }
                output.reserveCapacity(minimumWritableBytes: min(output.capacity, limit + 1 - output.readableBytes))
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                break  // no more input to make progress with
            } catch {
                throw .invalid
            }
        }
        guard output.readableBytes <= limit else { throw .tooBig }
        return output
    }
}
