/// One event to publish, as producers send it (`event` nil: an unnamed event).
struct PublishItem: Sendable {
    let event: String?
    let room: String
    let data: JSONObject
    /// Who published it, as the server knows them (`Identity.publisher`); stamped into the envelope as
    /// `publisher`, never taken from the producer's message.
    var publisher: String? = nil
}

/// Proof that an event went out: how many local subscribers it was handed to.
public struct PublishReceipt: Sendable, Equatable {
    public let event: String?  // nil: an unnamed event
    public let room: String
    public let subscribers: Int
}
