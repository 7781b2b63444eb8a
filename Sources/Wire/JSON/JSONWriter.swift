import NIOCore

/// Compact JSON output byte-compatible with Python's `json.dumps(separators=(",", ":"), ensure_ascii=False)`
/// and pydantic's `model_dump_json()`: no spaces, raw UTF-8, the short escapes, `\u00XX` for other
/// control characters, and `null` for NaN and infinities.
public enum JSONWriter {
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null: buffer.writeStaticString("null")
        case .bool(let flag): buffer.writeStaticString(flag ? "true" : "false")
        case .int(let number): writeInteger(number, into: &buffer)
        case .double(let number):
            if number.isFinite { buffer.writeString(pythonFloat(number)) } else { buffer.writeStaticString("null") }
        case .string(let string): writeString(string, into: &buffer)
        case .array(let array):
            buffer.writeInteger(UInt8(ascii: "["))
            for (offset, element) in array.enumerated() {
                if offset > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object): write(object, into: &buffer)
        }
    }

    public static func write(_ object: JSONObject, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "{"))
        var first = true
        for member in object.members {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            writeString(member.key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            write(member.value, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Serializes to a `String` (tests, logs, HTTP bodies); the hot path writes into buffers.
    public static func string(_ value: JSONValue) -> String {
        var buffer = ByteBuffer()
        write(value, into: &buffer)
        return String(buffer: buffer)
    }

    public static func string(_ object: JSONObject) -> String { string(.object(object)) }

    package static func writeInteger(_ number: Int64, into buffer: inout ByteBuffer) {
        if number >= 0 && number < 10 {
            buffer.writeInteger(UInt8(0x30 + number))
        } else {
            buffer.writeString(String(number))
        }
    }

    /// Python's `repr(float)` and Swift's `description` both print the shortest round-trip digits in the
    /// same notation (`0.5`, `100.0`, `1e-05`, `1e+16`); the tests pin these cases.
    package static func pythonFloat(_ number: Double) -> String { number.description }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    package static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                if runStart < index { buffer.writeBytes(UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
                runStart = index + 1
                switch byte {
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
                }
            }
            if runStart < utf8.count { buffer.writeBytes(UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
