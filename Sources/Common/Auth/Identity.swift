/// Who is on the other end of a connection or an HTTP request.
public struct Identity: Sendable, Equatable {
    public enum Source: String, Sendable {
        /// Authentication is off: everyone is anonymous and may do everything.
        case anonymous
        case token
        case apiKey = "api_key"
    }

    public let source: Source
    public let userID: String?
    /// Lower-cased, trimmed permission strings from the token (`permissions`, else `scopes`).
    public let permissions: Set<String>
    /// Unix seconds after which the token is no longer valid.
    public let expiresAt: Double?
    /// An API key's name: `api_key:` and the first 8 hex digits of its SHA-256, so logs and events can tell
    /// keys apart without showing one.
    public var apiKeyName: String? = nil

    public static let anonymous = Identity(source: .anonymous, userID: nil, permissions: [], expiresAt: nil)

    static func apiKey(name: String) -> Identity {
        Identity(source: .apiKey, userID: nil, permissions: [], expiresAt: nil, apiKeyName: name)
    }

    /// Who an event this identity publishes is stamped with (the envelope's `publisher`): the token's user, or
    /// the API key's name; nil when authentication is off or the token names no user.
    public var publisher: String? { userID ?? apiKeyName }

    public var isAuthenticated: Bool { source != .anonymous }

    /// `admin`, or `<service>:admin`, grants everything (docs/security.md).
    public func isAdmin(service: String) -> Bool {
        source == .apiKey || permissions.contains("admin") || permissions.contains("\(service):admin")
    }

    /// Anonymous connections exist only with auth off, where the reference checks nothing.
    public func maySubscribe(_ channel: ChannelSpec, service: String) -> Bool {
        guard source != .anonymous, !isAdmin(service: service), !channel.permissions.isEmpty else { return true }
        return !permissions.isDisjoint(with: channel.permissions)
    }

    /// Publishing needs an API key, `publish`, or admin rights, when auth is on.
    public func mayPublish(service: String) -> Bool {
        source == .anonymous || isAdmin(service: service) || permissions.contains("publish")
    }
}
