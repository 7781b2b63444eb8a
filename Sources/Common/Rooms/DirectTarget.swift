/// Who a direct message goes to (docs/protocol.md, "Direct messages"): one connection, or every connection of
/// one user.
enum DirectTarget: Sendable, Hashable {
    case connection(String)
    case user(String)

    /// The envelope key that tells the recipient how it was addressed, and the request field naming it.
    var key: String {
        switch self {
        case .connection: "to_connection"
        case .user: "to_user"
        }
    }

    var value: String {
        switch self {
        case .connection(let id): id
        case .user(let id): id
        }
    }

    /// Its name in the cluster's directory (`c:<connection id>`, `u:<user id>`), and back.
    var field: String {
        switch self {
        case .connection(let id): "c:" + id
        case .user(let id): "u:" + id
        }
    }

    init?(field: String) {
        if field.hasPrefix("c:") {
            self = .connection(String(field.dropFirst(2)))
        } else if field.hasPrefix("u:") {
            self = .user(String(field.dropFirst(2)))
        } else {
            return nil
        }
    }

    /// What a sender gets when nobody is there.
    var notFound: ProtocolError {
        switch self {
        case .connection(let id): ProtocolError(.notFound, "No open connection '\(id)'")
        case .user(let id): ProtocolError(.notFound, "User '\(id)' has no open connection")
        }
    }
}
