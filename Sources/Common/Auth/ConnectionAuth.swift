import NIOCore

/// Where a connection stands with authentication. Lives on the connection, used only on its event loop.
struct ConnectionAuth {
    var identity = Identity.anonymous
    /// Auth is on and no credential has been accepted yet: only an `auth` request may come.
    var waiting = false
    /// Presented with the upgrade request (`?token=`, `Authorization`, `X-API-Key`).
    var credential: Credential?
    /// Closes a connection that never authenticates (`auth_timeout`).
    var deadline: Scheduled<Void>?
    /// Closes the connection when its token expires, unless a refresh moves it.
    var expiry: Scheduled<Void>?

    mutating func cancelTimers() {
        deadline?.cancel()
        expiry?.cancel()
        deadline = nil
        expiry = nil
    }
}
