import RESP
import NIOCore
import Testing

@testable import Common

@Suite("RESP wire format")
struct RESPTests {
    func parse(_ text: String) throws -> RESPValue? {
        var buffer = ByteBuffer(string: text)
        return try RESPDecoder.parse(&buffer)
    }

    @Test("every reply type parses; incomplete input waits for more")
    func replies() throws {
        #expect(try parse("+OK\r\n") == .simpleString("OK"))
        #expect(try parse("-ERR wrong\r\n") == .error("ERR wrong"))
        #expect(try parse(":42\r\n") == .integer(42))
        #expect(try parse("$5\r\nhello\r\n") == .bulkString(ByteBuffer(string: "hello")))
        #expect(try parse("$-1\r\n") == .bulkString(nil))
        #expect(
            try parse("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\na\nb\r\n")
                == .array([
                    .bulkString(ByteBuffer(string: "message")), .bulkString(ByteBuffer(string: "ch")),
                    .bulkString(ByteBuffer(string: "a\nb")),
                ]))
        #expect(try parse("$5\r\nhel") == nil)
        #expect(try parse("*2\r\n:1\r\n") == nil)
        #expect(throws: RESPDecoder.ProtocolViolation.self) { try parse("?x\r\n") }
    }

    @Test("commands are arrays of bulk strings, binary-safe")
    func commands() {
        var buffer = ByteBuffer()
        RESPEncoder.command(["PUBLISH", "ch", .bytes(ByteBuffer(string: "a\r\nb"))], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\na\r\nb\r\n")
    }

    @Test("redis URLs")
    func addresses() {
        #expect(RedisAddress(url: "redis://10.0.0.5:6380/0") == RedisAddress(url: "redis://10.0.0.5:6380"))
        #expect(RedisAddress(url: "redis://cache")?.port == 6379)
        #expect(RedisAddress(url: "http://x") == nil)
        #expect(RedisAddress(url: "redis://x:0") == nil)
    }
}
