/// One event to publish, as producers send it (`event` nil: an unnamed event).
struct PublishItem: Sendable {
    let event: String?
    let room: String
    let data: JSONObject
    /// Who published it, as the server knows them (`Identity.publisher`); stamped into the envelope as
    /// `publisher`, never taken from the producer's message.
    var publisher: String? = nil
    /// The connection it came from, when a client published it over its WebSocket (`from_connection`).
    var fromConnection: String? = nil

    /// The server-set keys after the nine: who published it and over which connection.
    static func stamp(publisher: String?, fromConnection: String?) -> JSONObject {
        var keys: JSONObject = [:]
        if let publisher { keys["publisher"] = .string(publisher) }
        if let fromConnection { keys["from_connection"] = .string(fromConnection) }
        return keys
    }
}

/// A direct message to send (docs/protocol.md, "Direct messages").
struct DirectMessage: Sendable {
    let target: DirectTarget
    let event: String
    let data: JSONObject
    var publisher: String? = nil
    var fromConnection: String? = nil
}

/// Proof that an event went out: how many local subscribers it was handed to.
public struct PublishReceipt: Sendable, Equatable {
    public let event: String?  // nil: an unnamed event
    public let room: String
    public let subscribers: Int
}
