/// WebSocket close codes the servers send, with the reason text that goes with each, and the
/// `error_type` label under which `websocket_connection_errors_total` counts them.
public struct CloseCode: Sendable, Equatable, Hashable {
    public let code: UInt16
    public let reason: String
    /// The metric label; nil for closes that are no error (an echoed close, shutdown).
    public let label: String?

    public init(_ code: UInt16, _ reason: String, label: String? = nil) {
        self.code = code
        self.reason = reason
        self.label = label ?? Self.defaultLabel(code)
    }

    private init(notAnError code: UInt16) {
        self.code = code
        self.reason = ""
        self.label = nil
    }

    /// Whether this close ends the connection because of an error (counted under `label`), as opposed to an
    /// orderly end: the peer's own close echoed back, or the server going away.
    public var failsConnection: Bool { label != nil }

    /// The peer's own close, echoed back (RFC 6455 §5.5.1): not an error of ours, whatever its code.
    package static func echo(_ code: UInt16) -> CloseCode { CloseCode(notAnError: code) }

    private static func defaultLabel(_ code: UInt16) -> String? {
        switch code {
        case 1002: "protocol_error"
        case 1007: "invalid_utf8"
        case 1008: "policy_violation"
        case 1009: "message_too_big"
        case 1011: "internal_error"
        default: nil
        }
    }

    /// Client asked to close; we echo it.
    public static let normal = CloseCode(notAnError: 1000)
    /// Server shutting down (SIGTERM/SIGINT).
    public static let goingAway = CloseCode(1001, "Server shutting down")
    /// Broken framing: unmasked client frame, bad opcode, reserved bits, bad continuation.
    public static let protocolError = CloseCode(1002, "Protocol error")
    /// A text message (or close reason) that is not valid UTF-8.
    public static let invalidPayload = CloseCode(1007, "Invalid UTF-8")
    /// A compressed message (permessage-deflate) that is not valid deflate data.
    public static let invalidCompressedData = CloseCode(1007, "Invalid compressed data", label: "invalid_compressed_data")
    /// Policy: authentication failed or required.
    public static let policyViolation = CloseCode(1008, "Policy violation")
    /// A frame or reassembled message larger than `max_message_size`.
    public static let messageTooBig = CloseCode(1009, "Message too big")
    /// An unexpected server fault, or a peer that stopped answering heartbeat pings.
    public static let internalError = CloseCode(1011, "Internal error")
    public static let heartbeatTimeout = CloseCode(1011, "Heartbeat timeout", label: "heartbeat_timeout")
    /// A client that keeps sending after `RATE_LIMIT_EXCEEDED` errors.
    public static let rateLimitAbuse = CloseCode(1008, "Message rate limit exceeded repeatedly", label: "rate_limit_abuse")
    /// More messages arrived while an earlier one waited (token check, resume from Redis) than are held.
    public static let tooManyHeld = CloseCode(
        1008, "Too many messages while an earlier one was pending", label: "held_messages_overflow")

    public static let authenticationFailed = CloseCode(1008, "Authentication failed", label: "auth_failed")
    public static let authenticationRequired = CloseCode(1008, "Authentication required", label: "auth_required")

    // 4xxx: ours.
    /// The token's `exp` passed without a refresh (a new `auth` request).
    public static let tokenExpired = CloseCode(4003, "Token expired", label: "token_expired")
    /// The client did not read fast enough: `max_outbound_buffer` bytes were waiting for it.
    public static let slowConsumer = CloseCode(4008, "Slow consumer", label: "slow_consumer")

    /// Every label a close of ours can carry, so the metric starts with each at 0.
    package static let errorLabels: [String] = [
        protocolError, invalidPayload, invalidCompressedData, policyViolation, messageTooBig, internalError, heartbeatTimeout,
        rateLimitAbuse,
        tooManyHeld, authenticationFailed, authenticationRequired, tokenExpired, slowConsumer,
    ].compactMap(\.label)
}
