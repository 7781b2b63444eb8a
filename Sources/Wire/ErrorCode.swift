/// Every `error_code` the servers send. The first six are the Python reference's and must not change;
/// the rest are ours, one per limit or failure, each listed in docs/protocol.md.
public enum ErrorCode: String, Sendable, CaseIterable {
    // Reference codes.
    case authFailed = "AUTH_FAILED"
    case authRequired = "AUTH_REQUIRED"
    case decodeError = "DECODE_ERROR"
    case unknownRequest = "UNKNOWN_REQUEST"
    case forbidden = "FORBIDDEN"
    case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"
    // Our additions.
    case invalidChannel = "INVALID_CHANNEL"
    case validationError = "VALIDATION_ERROR"
    case tooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
    case messageTooLarge = "MESSAGE_TOO_LARGE"
    case internalError = "INTERNAL_ERROR"
    case brokerUnavailable = "BROKER_UNAVAILABLE"
    /// A direct message's target (connection or user) is not connected anywhere.
    case notFound = "NOT_FOUND"

    /// The `error_type` label of `websocket_message_errors_total`.
    package var label: String { rawValue.lowercased() }
}

/// An error reply: the code plus a message that says what to fix.
public struct ProtocolError: Error, Sendable, Equatable {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func validation(_ message: String) -> ProtocolError { .init(.validationError, message) }
}
