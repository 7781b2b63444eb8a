/// An event that passed validation, as observers (projections) see it.
public struct PublishedEvent: Sendable {
    public let event: String
    public let room: String
    public let data: JSONObject
}
