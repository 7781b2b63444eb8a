import NIOCore

/// An event validated against the catalogue and encoded once: the envelope without its closing brace, so
/// its position can be appended when it is ordered (`Envelope.closeWithPosition`).
struct PreparedEvent: Sendable {
    let event: String?
    let room: String
    /// The payload as validated and stamped, for the service's observers.
    let payload: JSONObject
    let open: ByteBuffer
}
