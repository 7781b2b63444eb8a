import NIOCore

/// One event to publish, as producers send it (`event` nil: an unnamed event).
struct PublishItem: Sendable {
    let event: String?
    let room: String
    let data: JSONObject
}

/// An event validated against the catalogue and encoded once: the envelope without its closing brace, so
/// its position can be appended when it is ordered (`Envelope.closeWithPosition`).
struct PreparedEvent: Sendable {
    let event: String?
    let room: String
    /// The payload as validated and stamped, for the service's observers.
    let payload: JSONObject
    let open: ByteBuffer
}

/// Proof that an event went out: how many local subscribers it was handed to.
public struct PublishReceipt: Sendable, Equatable {
    public let event: String?  // nil: an unnamed event
    public let room: String
    public let subscribers: Int
}
