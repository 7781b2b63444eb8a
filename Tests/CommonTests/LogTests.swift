import Logging
import Synchronization
import Testing

@testable import Common

@Suite("Logs")
struct LogTests {
    @Test("JSON log lines: one object per line, timestamp, level, message and metadata")
    func jsonLines() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "mahavishnu")
        handler.output = { line in lines.withLock { $0.append(line) } }
        handler.metadata["service"] = "mahavishnu"
        let logger = Logger(label: "mahavishnu") { _ in handler }
        logger.info("connected", metadata: ["connection_id": "c1", "rooms": "a,b"])
        logger.debug("hidden below info")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n"))
        let object = try JSONParser.parse(String(line.dropLast()))
        #expect(object["level"] == "info")
        #expect(object["message"] == "connected")
        #expect(object["connection_id"] == "c1")
        #expect(object["rooms"] == "a,b")
        #expect(object["service"] == "mahavishnu")
        #expect(object["timestamp"]?.stringValue?.hasSuffix("+00:00") == true)
    }
}
