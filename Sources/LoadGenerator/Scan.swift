import Glibc
import NIOCore

/// Byte-level look-ups in received messages. The load generator never decodes JSON: per delivery it only
/// needs a few fields, and a full decode per message would make the client the bottleneck.
enum Scan {
    static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)
    static let status101: [UInt8] = Array("HTTP/1.1 101".utf8)
    static let seqKey: [UInt8] = Array("\"bseq\":".utf8)
    static let sentKey: [UInt8] = Array("\"bsent\":".utf8)
    static let typeAck: [UInt8] = Array("\"type\":\"ack\"".utf8)
    static let typeResponse: [UInt8] = Array("\"type\":\"response\"".utf8)
    static let typeError: [UInt8] = Array("\"type\":\"error\"".utf8)
    static let typePong: [UInt8] = Array("\"type\":\"pong\"".utf8)

    /// Offset of `pattern` in `bytes` at or after `from`, or nil. memchr finds candidates for the first
    /// byte (vectorized in glibc), memcmp confirms; glibc's memmem is not exported to Swift without _GNU_SOURCE.
    static func find(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        let n = pattern.count
        guard n > 0, let base = bytes.baseAddress else { return nil }
        return pattern.withUnsafeBytes { needle -> Int? in
            var start = from
            while start + n <= bytes.count {
                guard let hit = memchr(base + start, Int32(pattern[0]), bytes.count - start - n + 1) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, needle.baseAddress!, n) == 0 { return offset }
                start = offset + 1
            }
            return nil
        }
    }

    static func find(_ pattern: [UInt8], in view: ByteBufferView) -> Int? {
        view.withUnsafeBytes { find(pattern, in: $0) }
    }

    static func contains(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer) -> Bool {
        find(pattern, in: bytes) != nil
    }

    /// True when `pattern` sits exactly at `offset`.
    static func matches(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, offset + pattern.count <= bytes.count else { return false }
        for i in 0..<pattern.count where bytes[offset + i] != pattern[i] { return false }
        return true
    }

    /// The unsigned integer starting at `offset`, and the offset after it.
    static func integer(in bytes: UnsafeRawBufferPointer, at offset: Int) -> (value: Int, end: Int)? {
        var i = offset
        var value = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57, i - offset < 18 {
            value = value * 10 + Int(bytes[i] - 48)
            i += 1
        }
        return i > offset ? (value, i) : nil
    }

    /// Reads the benchmark's sequence number and send time from an event frame. `hint` is where `"bseq":`
    /// sat in this connection's previous frame: frames of one room have the same layout (fixed-length ids and
    /// timestamps), so the hint usually hits and the scan is skipped.
    static func sequenceAndSentTime(in bytes: UnsafeRawBufferPointer, hint: inout Int) -> (seq: Int, sent: Int)? {
        var at = hint
        if !matches(seqKey, in: bytes, at: at) {
            guard let found = find(seqKey, in: bytes) else { return nil }
            at = found
            hint = found
        }
        guard let seq = integer(in: bytes, at: at + seqKey.count) else { return nil }
        // The publisher writes "bsent" right after "bseq"; servers keep key order, but fall back to a scan.
        var sentAt = seq.end + 1
        if !matches(sentKey, in: bytes, at: sentAt) {
            guard let found = find(sentKey, in: bytes) else { return (seq.value, -1) }
            sentAt = found
        }
        let sent = integer(in: bytes, at: sentAt + sentKey.count)
        return (seq.value, sent?.value ?? -1)
    }
}
