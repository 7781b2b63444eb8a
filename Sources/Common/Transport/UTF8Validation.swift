import NIOCore

extension ByteBuffer {
    /// True when the readable bytes are well-formed UTF-8 (RFC 6455 §8.1 requires it of text messages).
    var isValidUTF8: Bool {
        withUnsafeReadableBytes { bytes in
            // ASCII fast path: most JSON is pure ASCII, checked eight bytes at a time.
            var index = 0
            while index + 8 <= bytes.count {
                if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[index...]), as: UTF8.self) != nil
        }
    }
}
