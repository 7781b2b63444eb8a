import NIOCore

/// Builds complete server-to-client WebSocket frames (header + payload in one buffer).
///
/// Server frames are never masked, so a broadcast's frame is identical for every subscriber: it is built
/// once and the same `ByteBuffer` (reference-counted storage) is written to every connection.
public enum ServerFrame {
    /// Room reserved in front of the payload for the largest header (2 + 8 bytes).
    package static let headerReserve = 10

    /// Encodes the payload straight into the frame buffer, then writes the header into the reserved room
    /// in front of it: one allocation, no copy.
    public static func make(
        opcode: FrameOpcode = .text, allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 512,
        payload: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = begin(allocator: allocator, capacity: capacity)
        payload(&buffer)
        return finish(buffer, opcode: opcode)
    }

    /// A buffer with room for the header in front: write the payload, then `finish` it.
    public static func begin(allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 512) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: capacity + headerReserve)
        buffer.moveWriterIndex(forwardBy: headerReserve)
        buffer.moveReaderIndex(forwardBy: headerReserve)
        return buffer
    }

    /// Writes the header in front of the payload written since `begin`; `compressed` sets RSV1 (the payload is
    /// a permessage-deflate message).
    public static func finish(_ buffer: ByteBuffer, opcode: FrameOpcode = .text, compressed: Bool = false) -> ByteBuffer {
        var buffer = buffer
        let length = buffer.readableBytes
        let headerLength = length <= 125 ? 2 : (length <= 0xFFFF ? 4 : 10)
        let start = headerReserve - headerLength
        buffer.setInteger(0x80 | (compressed ? 0x40 : 0) | opcode.rawValue, at: start)  // FIN, RSV1, opcode
        switch headerLength {
        case 2: buffer.setInteger(UInt8(length), at: start + 1)
        case 4:
            buffer.setInteger(UInt8(126), at: start + 1)
            buffer.setInteger(UInt16(length), at: start + 2)
        default:
            buffer.setInteger(UInt8(127), at: start + 1)
            buffer.setInteger(UInt64(length), at: start + 2)
        }
        buffer.moveReaderIndex(to: start)
        return buffer
    }

    /// The opcode and payload of a text or binary frame built here (unmasked, one frame per message, RSV1
    /// clear); nil for control frames and anything else.
    package static func dataPayload(of frame: ByteBuffer) -> (opcode: FrameOpcode, payload: ByteBuffer)? {
        guard let first = frame.getInteger(at: frame.readerIndex, as: UInt8.self), first & 0x70 == 0,
            let opcode = FrameOpcode(rawValue: first & 0x0F), opcode == .text || opcode == .binary,
            let second = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self)
        else { return nil }
        let headerLength =
            switch second & 0x7F {
            case 126: 4
            case 127: 10
            default: 2
            }
        guard let payload = frame.getSlice(at: frame.readerIndex + headerLength, length: frame.readableBytes - headerLength)
        else { return nil }
        return (opcode, payload)
    }

    public static func envelope(_ envelope: Envelope, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        make(allocator: allocator) { envelope.encode(into: &$0) }
    }

    /// A text frame around JSON bytes already encoded (an envelope as Redis hands it back).
    public static func text(_ json: ByteBuffer) -> ByteBuffer {
        var json = json
        return make(capacity: json.readableBytes) { $0.writeBuffer(&json) }
    }

    public static func control(_ opcode: FrameOpcode, payload: ByteBuffer) -> ByteBuffer {
        var payload = payload
        return make(opcode: opcode, capacity: payload.readableBytes) { $0.writeBuffer(&payload) }
    }

    public static func close(_ code: CloseCode) -> ByteBuffer {
        make(opcode: .close, capacity: 2 + code.reason.utf8.count) { buffer in
            buffer.writeInteger(code.code)
            buffer.writeString(code.reason)
        }
    }
}

/// The RFC 6455 opcodes a server writes (§5.2), so building frames needs no WebSocket module.
public enum FrameOpcode: UInt8, Sendable {
    case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
}
