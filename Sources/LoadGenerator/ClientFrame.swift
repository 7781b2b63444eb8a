import NIOCore

/// Client-to-server WebSocket frames. RFC 6455 §5.3 requires every client frame to be masked.
///
/// One fixed mask key serves every frame of the run: masking exists to stop crafted payloads from
/// poisoning proxy caches, which is moot on loopback, and a fixed key lets one pre-encoded buffer
/// (subscribe, ping) be written to every connection without re-encoding.
enum ClientFrame {
    static let maskKey: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    static let text: UInt8 = 0x1
    static let close: UInt8 = 0x8
    static let pong: UInt8 = 0xA

    /// One complete FIN frame: header, mask key, masked payload.
    static func make(opcode: UInt8, payload: UnsafeRawBufferPointer) -> ByteBuffer {
        let length = payload.count
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length + 14)
        buffer.writeInteger(0x80 | opcode)
        if length <= 125 {
            buffer.writeInteger(0x80 | UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeBytes(maskKey)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            for i in 0..<length { out[i] = payload[i] ^ maskKey[i & 3] }
            return length
        }
        return buffer
    }

    static func text(_ string: String) -> ByteBuffer {
        var string = string
        return string.withUTF8 { make(opcode: text, payload: UnsafeRawBufferPointer($0)) }
    }

    static func text(_ bytes: [UInt8]) -> ByteBuffer {
        bytes.withUnsafeBytes { make(opcode: text, payload: $0) }
    }
}
