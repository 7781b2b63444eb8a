import NIOCore
import Synchronization

/// The zlib streams of one event loop (its shard owns them; only that loop uses them): compressors without
/// context, one per window size a client asked for, and the inflater of every client message.
final class LoopCompression {
    let settings: CompressionSettings
    private var compressors: [Int: FrameCompressor] = [:]
    private var inflater: MessageInflater?

    init(settings: CompressionSettings) { self.settings = settings }

    /// `frame` compressed from an empty window (shareable); `frame` itself when below the threshold, a control
    /// frame, or when zlib cannot be set up.
    func compress(_ frame: ByteBuffer, windowBits: Int) -> ByteBuffer {
        if compressors[windowBits] == nil {
            compressors[windowBits] = try? FrameCompressor(windowBits: windowBits, settings: settings, resetsEachMessage: true)
        }
        return compressors[windowBits]?.compress(frame) ?? frame
    }

    func inflate(_ message: ByteBuffer, limit: Int) throws(MessageInflater.Failure) -> ByteBuffer {
        if inflater == nil { inflater = try? MessageInflater() }
        guard let inflater else { throw .invalid }
        return try inflater.inflate(message, limit: limit)
    }
}

/// The compressed forms of one broadcast frame: made by the first loop that has a subscriber wanting one, and
/// then the same bytes for every such subscriber on every loop, as the plain frame is. Usually one form (one
/// window size); a lock per frame, taken once per loop pass and form.
final class SharedCompression: Sendable {
    let plain: ByteBuffer
    private let forms = Mutex<[(windowBits: Int, frame: ByteBuffer)]>([])

    init(plain: ByteBuffer) { self.plain = plain }

    func frame(windowBits: Int, compressingWith compression: LoopCompression) -> ByteBuffer {
        forms.withLock { forms in
            if let made = forms.first(where: { $0.windowBits == windowBits }) { return made.frame }
            let frame = compression.compress(plain, windowBits: windowBits)
            forms.append((windowBits, frame))
            return frame
        }
    }
}
