import NIOCore

/// A RESP2 value: what Redis answers (and pushes, in pub/sub mode).
package enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString(ByteBuffer?)
    case array([RESPValue]?)

    package var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer?): String(buffer: buffer)
        case .integer(let number): String(number)
        default: nil
        }
    }

    package var array: [RESPValue]? {
        if case .array(let values?) = self { return values }
        return nil
    }
}

/// Writes commands as RESP arrays of bulk strings.
package enum RESPEncoder {
    package static func command(_ arguments: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            switch argument {
            case .string(let text):
                buffer.writeString("$\(text.utf8.count)\r\n")
                buffer.writeString(text)
            case .bytes(var bytes):
                buffer.writeString("$\(bytes.readableBytes)\r\n")
                buffer.writeBuffer(&bytes)
            }
            buffer.writeStaticString("\r\n")
        }
    }
}

package enum RESPArgument: Sendable, ExpressibleByStringLiteral {
    case string(String)
    case bytes(ByteBuffer)

    package init(stringLiteral value: String) { self = .string(value) }
}

/// Parses RESP2 replies from the byte stream; waits for more bytes when a value is incomplete.
package struct RESPDecoder: ByteToMessageDecoder {
    package typealias InboundOut = RESPValue

    package struct ProtocolViolation: Error {}

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var peek = buffer
        guard let value = try Self.parse(&peek) else { return .needMoreData }
        buffer = peek
        context.fireChannelRead(NIOAny(value))
        return .continue
    }

    /// Parses one value from `buffer`, or returns nil (leaving `buffer` unspecified) when it is incomplete.
    package static func parse(_ buffer: inout ByteBuffer) throws -> RESPValue? {
        guard let type = buffer.readInteger(as: UInt8.self), let line = readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"):
            guard let number = Int(line) else { throw ProtocolViolation() }
            return .integer(number)
        case UInt8(ascii: "$"):
            guard let length = Int(line) else { throw ProtocolViolation() }
            if length < 0 { return .bulkString(nil) }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            guard let count = Int(line) else { throw ProtocolViolation() }
            if count < 0 { return .array(nil) }
            var values: [RESPValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                guard let value = try parse(&buffer) else { return nil }
                values.append(value)
            }
            return .array(values)
        default:
            throw ProtocolViolation()
        }
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> String? {
        guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\r")),
            end + 1 < buffer.writerIndex, buffer.getInteger(at: end + 1, as: UInt8.self) == UInt8(ascii: "\n")
        else { return nil }
        let line = buffer.readString(length: end - buffer.readerIndex)
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}
