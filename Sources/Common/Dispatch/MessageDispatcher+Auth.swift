import NIOCore

/// Authentication of WebSocket connections (docs/security.md): credentials with the upgrade, the first-frame
/// `auth` request, token refresh, expiry. With auth off every connection is anonymous and may do everything.
extension MessageDispatcher {
    /// Called once the connection is open: welcome at once, verify the upgrade's credential, or wait for `auth`.
    func startAuthentication(_ connection: WebSocketConnection) {
        guard authenticator != nil else { return sendWelcome(connection) }
        if let credential = connection.session.auth.credential {
            return verify(credential, for: connection, request: nil)
        }
        connection.session.auth.waiting = true
        let bound = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        connection.session.auth.deadline = connection.eventLoop.scheduleTask(in: .interval(settings.auth.timeout)) { [self] in
            let connection = bound.value
            guard connection.session.auth.waiting, !connection.session.held.active else { return }
            reply(
                to: connection, error: ProtocolError(.authRequired, "Authentication required: send an auth request first"),
                correlationID: nil)
            connection.close(.authenticationRequired)
        }
    }

    /// While auth is pending, only an `auth` request is acceptable; returns true when the message was handled here.
    func gateUnauthenticated(_ connection: WebSocketConnection, _ decoded: Result<Envelope, ProtocolError>) -> Bool {
        guard connection.session.auth.waiting else { return false }
        guard case .success(let request) = decoded, request.type == .request, request.event == "auth" else {
            let correlation = try? decoded.get().replyCorrelationID
            reply(to: connection, error: ProtocolError(.authRequired, "Authentication required"), correlationID: correlation)
            connection.close(.authenticationRequired)
            return true
        }
        authenticate(request, connection)
        return true
    }

    /// The `auth` request: first authentication, or a refresh on a live connection.
    func authenticate(_ request: Envelope, _ connection: WebSocketConnection) {
        guard authenticator != nil else {
            return send(to: connection, .response(to: request, data: ["status": "auth_disabled", "user_id": nil]))
        }
        guard let token = request.data["token"]?.stringValue, !token.isEmpty else {
            return failAuthentication(connection, Authenticator.malformed, request: request)
        }
        verify(.token(token), for: connection, request: request)
    }

    private func verify(_ credential: Credential, for connection: WebSocketConnection, request: Envelope?) {
        guard let authenticator else { return }
        // Later messages wait for the verdict.
        whileHolding(connection, { try await authenticator.identity(credential: credential) }) { [self] connection, result in
            switch result {
            case .success(let identity): authenticated(connection, as: identity, request: request)
            case .failure(let error):
                failAuthentication(connection, error as? ProtocolError ?? Authenticator.invalid, request: request)
            }
        }
    }

    private func authenticated(_ connection: WebSocketConnection, as identity: Identity, request: Envelope?) {
        let first = connection.session.auth.waiting || !connection.session.auth.identity.isAuthenticated
        let previousUser = connection.session.auth.identity.userID
        connection.session.auth.identity = identity
        reidentify(connection, from: previousUser)
        connection.session.auth.waiting = false
        connection.session.auth.deadline?.cancel()
        scheduleExpiry(connection)
        logger.info(
            "authenticated",
            metadata: [
                "connection_id": "\(connection.id)", "user_id": "\(identity.userID ?? "-")", "via": "\(identity.source.rawValue)",
            ])
        if let request {
            send(
                to: connection, .response(to: request, data: ["status": "authenticated", "user_id": JSONValue(identity.userID)]))
        }
        if first { sendWelcome(connection) }
        release(connection)
    }

    /// A failed first authentication closes the connection (never fail open); a failed refresh is only
    /// refused, and the current token keeps its own expiry.
    private func failAuthentication(_ connection: WebSocketConnection, _ error: ProtocolError, request: Envelope?) {
        logger.notice("authentication failed", metadata: ["connection_id": "\(connection.id)", "reason": "\(error.message)"])
        reply(to: connection, error: error, correlationID: request?.replyCorrelationID)
        if connection.session.auth.identity.isAuthenticated {
            release(connection)
        } else {
            connection.close(.authenticationFailed)
        }
    }

    private func scheduleExpiry(_ connection: WebSocketConnection) {
        connection.session.auth.expiry?.cancel()
        connection.session.auth.expiry = nil
        guard let expiresAt = connection.session.auth.identity.expiresAt else { return }
        let seconds = max(0, expiresAt - Double(Timestamp.currentMicroseconds()) / 1e6)
        let bound = NIOLoopBound(connection, eventLoop: connection.eventLoop)
        connection.session.auth.expiry = connection.eventLoop.scheduleTask(in: .interval(seconds)) {
            bound.value.close(.tokenExpired)
        }
    }

    func sendWelcome(_ connection: WebSocketConnection) {
        send(to: connection, Envelope.event("session.created", data: welcome(for: connection), room: nil))
        announce(connection)
        let micros = Int((NIODeadline.now() - connection.openedAt).nanoseconds / 1000)
        statistics.connectLatencyMicros.add(micros, ordering: .relaxed)
    }
}
