import Foundation
import MCP

/// MCP over Streamable HTTP: one swift-sdk `StatefulHTTPServerTransport` and `Server` per session, created by
/// an `initialize` POST and found again by its `Mcp-Session-Id`. Sessions are capped and expire when unused.
actor MCPSessions {
    private struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
    }

    private var sessions: [String: Session] = [:]
    private let maxSessions: Int
    private let idleTimeout: Duration
    private let validation: any HTTPRequestValidationPipeline

    init(maxSessions: Int, idleTimeout: Duration) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
        // Origin is checked by the route against allowed_origins, with authentication, before any session is touched.
        validation = StandardValidationPipeline(validators: [
            AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
        ])
    }

    var count: Int { sessions.count }

    /// `makeServer` builds the tools' server for a new session, for the client that opens it.
    func handle(
        _ request: MCP.HTTPRequest, identity: Identity, makeServer: @Sendable (Identity) async -> Server
    ) async -> MCP.HTTPResponse {
        expireIdle()
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id] else {
                return .error(statusCode: 404, .invalidRequest("Not Found: MCP session not found or expired; initialize again"))
            }
            session.lastUsed = .now
            sessions[id] = session
            let response = await session.transport.handleRequest(request)
            if request.method == "DELETE", response.statusCode == 200 { close(id) }
            return response
        }
        guard request.method == "POST", let body = request.body, Self.isInitialize(body) else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: Missing \(HTTPHeaderName.sessionID) header"))
        }
        guard sessions.count < maxSessions else {
            return .error(
                statusCode: 503, .internalError("Too many MCP sessions (mcp_max_sessions = \(maxSessions)); retry later"))
        }
        let id = UUID().uuidString
        let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedID(id: id), validationPipeline: validation)
        let server = await makeServer(identity)
        do {
            try await server.start(transport: transport)
        } catch {
            await transport.disconnect()
            return .error(statusCode: 500, .internalError("Could not start an MCP session: \(error)"))
        }
        sessions[id] = Session(server: server, transport: transport, lastUsed: .now)
        let response = await transport.handleRequest(request)
        if case .error = response { close(id) }
        return response
    }

    func closeAll() {
        for id in sessions.keys { close(id) }
    }

    private func expireIdle() {
        let deadline = ContinuousClock.now - idleTimeout
        for (id, session) in sessions where session.lastUsed < deadline { close(id) }
    }

    private func close(_ id: String) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        Task { await session.server.stop() }
    }

    private static func isInitialize(_ body: Data) -> Bool {
        let message = body.withUnsafeBytes { try? JSONParser.parse($0) }
        return message?["method"] == "initialize"
    }

    private struct FixedID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }
}
