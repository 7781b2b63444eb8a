/// WebSocket close codes the servers send, with the reason text that goes with each.
public struct CloseCode: Sendable, Equatable, Hashable {
    public let code: UInt16
    public let reason: String

    public init(_ code: UInt16, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Client asked to close; we echo it.
    public static let normal = CloseCode(1000, "")
    /// Server shutting down (SIGTERM/SIGINT).
    public static let goingAway = CloseCode(1001, "Server shutting down")
    /// Broken framing: unmasked client frame, bad opcode, reserved bits, bad continuation.
    public static let protocolError = CloseCode(1002, "Protocol error")
    /// A text message (or close reason) that is not valid UTF-8.
    public static let invalidPayload = CloseCode(1007, "Invalid UTF-8")
    /// Policy: authentication failed or required.
    public static let policyViolation = CloseCode(1008, "Policy violation")
    /// A frame or reassembled message larger than `max_message_size`.
    public static let messageTooBig = CloseCode(1009, "Message too big")
    /// An unexpected server fault, or a peer that stopped answering heartbeat pings.
    public static let internalError = CloseCode(1011, "Internal error")
    public static let heartbeatTimeout = CloseCode(1011, "Heartbeat timeout")
    /// A client that keeps sending after `RATE_LIMIT_EXCEEDED` errors.
    public static let rateLimitAbuse = CloseCode(1008, "Message rate limit exceeded repeatedly")

    public static let authenticationFailed = CloseCode(1008, "Authentication failed")
    public static let authenticationRequired = CloseCode(1008, "Authentication required")

    // 4xxx: ours.
    /// The token's `exp` passed without a refresh (a new `auth` request).
    public static let tokenExpired = CloseCode(4003, "Token expired")
    /// The client did not read fast enough: `max_outbound_buffer` bytes were waiting for it.
    public static let slowConsumer = CloseCode(4008, "Slow consumer")
}
