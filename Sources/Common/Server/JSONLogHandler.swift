import Foundation
import Logging

/// One JSON object per line on stderr (`log_format: json`), for log shippers.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var object: JSONObject = [
            "timestamp": .string(Timestamp.now()),
            "level": .string(level.rawValue),
            "logger": .string(label),
            "message": .string(message.description),
        ]
        for (key, value) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            object[key] = .string("\(value)")
        }
        FileHandle.standardError.write(Data((JSONWriter.string(object) + "\n").utf8))
    }
}
