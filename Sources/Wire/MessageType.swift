/// The envelope's `type` field: lowercase and case-sensitive, as in the Python reference.
public enum MessageType: String, Sendable, CaseIterable {
    case request, subscribe, unsubscribe, ping, response, event, error, pong, ack
}
