import NIOCore

/// The message envelope of every frame in both directions (docs/protocol.md, "Envelope").
///
/// Encoding writes the nine keys always, in this order, nulls included, then any extension keys
/// (e.g. `seq`, `epoch`) that old clients ignore.
public struct Envelope: Sendable, Equatable {
    public var id: String
    public var correlationID: String?
    public var type: MessageType
    public var event: String?
    public var data: JSONObject
    public var timestamp: String
    public var room: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// Keys written after the nine standard ones.
    public var extensions: JSONObject

    public init(
        id: String = UUID4.make(), correlationID: String? = nil, type: MessageType, event: String? = nil,
        data: JSONObject = [:], timestamp: String = Timestamp.now(), room: String? = nil,
        errorCode: String? = nil, errorMessage: String? = nil, extensions: JSONObject = [:]
    ) {
        self.id = id
        self.correlationID = correlationID
        self.type = type
        self.event = event
        self.data = data
        self.timestamp = timestamp
        self.room = room
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.extensions = extensions
    }

    /// The correlation rule (docs/protocol.md, "Client messages"): a reply carries the request's `correlation_id`, else its `id`.
    public var replyCorrelationID: String { correlationID ?? id }
}

// MARK: - Factories

extension Envelope {
    public static func event(_ name: String?, data: JSONObject, room: String?) -> Envelope {
        Envelope(type: .event, event: name, data: data, room: room)
    }

    public static func response(to request: Envelope, event: String? = nil, data: JSONObject) -> Envelope {
        Envelope(correlationID: request.replyCorrelationID, type: .response, event: event ?? request.event, data: data)
    }

    public static func error(_ error: ProtocolError, correlationID: String?) -> Envelope {
        Envelope(
            correlationID: correlationID, type: .error, errorCode: error.code.rawValue, errorMessage: error.message)
    }
}

// MARK: - Encoding

extension Envelope {
    public func encode(into buffer: inout ByteBuffer) {
        encodeOpen(into: &buffer)
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Everything but the closing brace, so keys known only later (a room event's `seq` and `epoch`,
    /// assigned when it is ordered) can be appended without re-encoding.
    public func encodeOpen(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"id\":")
        JSONWriter.writeString(id, into: &buffer)
        buffer.writeStaticString(",\"correlation_id\":")
        Self.writeOptional(correlationID, into: &buffer)
        buffer.writeStaticString(",\"type\":\"")
        buffer.writeString(type.rawValue)
        buffer.writeStaticString("\",\"event\":")
        Self.writeOptional(event, into: &buffer)
        buffer.writeStaticString(",\"data\":")
        JSONWriter.write(data, into: &buffer)
        buffer.writeStaticString(",\"timestamp\":")
        JSONWriter.writeString(timestamp, into: &buffer)
        buffer.writeStaticString(",\"room\":")
        Self.writeOptional(room, into: &buffer)
        buffer.writeStaticString(",\"error_code\":")
        Self.writeOptional(errorCode, into: &buffer)
        buffer.writeStaticString(",\"error_message\":")
        Self.writeOptional(errorMessage, into: &buffer)
        for member in extensions.members {
            buffer.writeInteger(UInt8(ascii: ","))
            JSONWriter.writeString(member.key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            JSONWriter.write(member.value, into: &buffer)
        }
    }

    /// Closes an envelope written with `encodeOpen`, adding its position in the room.
    package static func closeWithPosition(_ buffer: inout ByteBuffer, seq: Int, epoch: String) {
        buffer.writeStaticString(",\"seq\":")
        buffer.writeString(String(seq))
        buffer.writeStaticString(",\"epoch\":\"")
        buffer.writeString(epoch)
        buffer.writeStaticString("\"}")
    }

    /// The envelope as a JSON string (tests, HTTP bodies, logs).
    public var json: String {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return String(buffer: buffer)
    }

    private static func writeOptional(_ value: String?, into buffer: inout ByteBuffer) {
        if let value { JSONWriter.writeString(value, into: &buffer) } else { buffer.writeStaticString("null") }
    }
}

// MARK: - Decoding

extension Envelope {
    /// Decodes a client frame with the reference's rules: unknown keys ignored, a missing `id` generated,
    /// a missing `data` read as `{}`; anything else malformed is a `DECODE_ERROR`.
    public static func decode(_ buffer: ByteBuffer) throws(ProtocolError) -> Envelope {
        let value: JSONValue
        do {
            value = try JSONParser.parse(buffer)
        } catch {
            throw ProtocolError(.decodeError, error.description)
        }
        return try decode(value)
    }

    public static func decode(_ value: JSONValue) throws(ProtocolError) -> Envelope {
        guard case .object(let object) = value else {
            throw ProtocolError(.decodeError, "message must be a JSON object, got \(value.typeName)")
        }
        guard let typeValue = object["type"] else { throw ProtocolError(.decodeError, "field 'type' is required") }
        guard case .string(let typeName) = typeValue, let type = MessageType(rawValue: typeName) else {
            let allowed = MessageType.allCases.map(\.rawValue).joined(separator: ", ")
            throw ProtocolError(.decodeError, "field 'type' must be one of: \(allowed)")
        }
        var envelope = Envelope(
            id: try requiredString(object, "id") ?? UUID4.make(),
            type: type,
            timestamp: try requiredString(object, "timestamp") ?? Timestamp.now())
        envelope.correlationID = try optionalString(object, "correlation_id")
        envelope.event = try optionalString(object, "event")
        envelope.room = try optionalString(object, "room")
        envelope.errorCode = try optionalString(object, "error_code")
        envelope.errorMessage = try optionalString(object, "error_message")
        switch object["data"] {
        case nil: break
        case .object(let data)?: envelope.data = data
        case let other?: throw ProtocolError(.decodeError, "field 'data' must be an object, got \(other.typeName)")
        }
        // Keys past the nine (a room event's `seq` and `epoch`) are kept, in order; most messages have none.
        let extra = object.members.filter { !Self.standardKeys.contains($0.key) }
        if !extra.isEmpty { envelope.extensions = JSONObject(extra.map { ($0.key, $0.value) }) }
        return envelope
    }

    /// The nine keys every envelope carries (docs/protocol.md, "Envelope").
    static let standardKeys: Set<String> = [
        "id", "correlation_id", "type", "event", "data", "timestamp", "room", "error_code", "error_message",
    ]

    /// A field that may be absent but, when present, must be a string (`id`, `timestamp`).
    private static func requiredString(_ object: JSONObject, _ key: String) throws(ProtocolError) -> String? {
        switch object[key] {
        case nil: return nil
        case .string(let value)?: return value
        case let other?: throw ProtocolError(.decodeError, "field '\(key)' must be a string, got \(other.typeName)")
        }
    }

    /// A field that may be absent or null, else a string.
    private static func optionalString(_ object: JSONObject, _ key: String) throws(ProtocolError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?:
            throw ProtocolError(.decodeError, "field '\(key)' must be a string or null, got \(other.typeName)")
        }
    }
}
