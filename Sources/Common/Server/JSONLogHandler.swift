import Foundation
import Logging

/// One JSON object per line on stderr (`log_format: json`), for log shippers.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    /// Where lines go: stderr, or a test's collector.
    var output: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: JSONObject = [
            "timestamp": .string(Timestamp.now()),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            object[key] = .string("\(value)")
        }
        output(JSONWriter.string(object) + "\n")
    }
}
