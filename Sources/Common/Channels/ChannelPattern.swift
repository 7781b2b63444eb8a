/// A room name pattern: a literal (`anomalies`, `global`) or a prefix with one parameter (`workflow:{workflow_id}`).
public struct ChannelPattern: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let template: String
    /// Everything before `{`, or the whole literal.
    public let prefix: String
    /// The parameter's name, e.g. `workflow_id`; nil for a literal room.
    public let parameter: String?

    public init(_ template: String) {
        self.template = template
        if let open = template.firstIndex(of: "{"), template.hasSuffix("}") {
            prefix = String(template[..<open])
            parameter = String(template[template.index(after: open)..<template.index(before: template.endIndex)])
        } else {
            prefix = template
            parameter = nil
        }
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { template }

    /// The parameter's value if `room` fits this pattern (an empty string for a literal match), else nil.
    public func match(_ room: String) -> String? {
        guard parameter != nil else { return room == prefix ? "" : nil }
        guard room.hasPrefix(prefix), room.utf8.count > prefix.utf8.count else { return nil }
        return String(room.dropFirst(prefix.count))
    }

    /// The room for a parameter value: `workflow:{workflow_id}` with `wf1` is `workflow:wf1`.
    public func room(_ value: String = "") -> String { parameter == nil ? prefix : prefix + value }

    /// Label for metrics and logs: bounded cardinality (`workflow:*`).
    public var label: String { parameter == nil ? prefix : prefix + "*" }
}

/// Rules every room name must satisfy, whatever the service.
public enum RoomName {
    public static let maxLength = 200

    /// Letters, digits and `_ - . : @ /`: enough for ids, paths and emails; nothing that needs escaping in logs.
    public static func validate(_ room: String) throws(ProtocolError) {
        guard !room.isEmpty else { throw ProtocolError(.invalidChannel, "Channel name must not be empty") }
        guard room.utf8.count <= maxLength else {
            throw ProtocolError(.invalidChannel, "Channel name longer than \(maxLength) bytes")
        }
        for byte in room.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"):
                continue
            default:
                throw ProtocolError(
                    .invalidChannel, "Channel name '\(room)' has a character outside letters, digits and _-.:@/")
            }
        }
    }
}
