import NIOCore
import Foundation
import HTTPTypes
import Hummingbird
import MCP

/// `/mcp`: the `websocket_*` tools over MCP's Streamable HTTP transport, answered in-process. With auth on it
/// needs an API key (`X-API-Key` or `Authorization: Bearer`) or a token with `admin`; a browser `Origin` must be
/// in `allowed_origins` (or be localhost when that list is empty), the MCP spec's DNS-rebinding rule.
struct MCPRoute: RouteGroup {
    let service: String
    let settings: Settings
    let lifecycle: Lifecycle
    let sessions: MCPSessions
    let authenticator: Authenticator?
    let status: ServerStatus
    let publisher: Publisher
    let group: any EventLoopGroup

    func add(to router: Router<BasicRequestContext>) {
        for method: HTTPRequest.Method in [.post, .get, .delete] {
            router.on("/mcp", method: method) { request, _ in await mcp(request) }
        }
    }

    /// The tools' MCP server for one session, answering for this server with the client's identity.
    private func makeMCPServer(for identity: Identity) async -> Server {
        // With auth off the identity is anonymous, which may publish.
        let backend = InProcessBackend(service: service, status: status, publisher: publisher, group: group, identity: identity)
        let tools = WebSocketTools(service: service, host: settings.host, port: lifecycle.port ?? settings.port, backend: backend)
        return await MCPToolServer.make(service: service, tools: tools)
    }

    private func mcp(_ request: Request) async -> Response {
        if let origin = request.headers[.origin], !mcpAllows(origin: origin) {
            return Self.mcpResponse(
                .error(statusCode: 403, .invalidRequest("Forbidden: Origin '\(origin)' is not in allowed_origins")))
        }
        let identity: Identity
        switch await mcpIdentity(request) {
        case .success(let found): identity = found
        case .failure(let refusal): return Self.mcpResponse(refusal.response)
        }
        var body: Data?
        if request.method == .post {
            do {
                body = Data(try await request.body.collect(upTo: settings.maxMessageSize).readableBytesView)
            } catch {
                return Self.mcpResponse(
                    .error(
                        statusCode: 413,
                        .invalidRequest("Request body larger than max_message_size (\(settings.maxMessageSize) bytes)")))
            }
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.rawName] = headers[field.name.rawName].map { $0 + ", " + field.value } ?? field.value
        }
        let mcpRequest = MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: "/mcp")
        let response = await sessions.handle(mcpRequest, identity: identity, makeServer: makeMCPServer)
        // A POST is answered with JSON: its stream ends with its one response (our tools send no progress), and
        // not every client reads SSE (the swift-sdk's client on Linux does not). GET keeps its SSE stream.
        if request.method == .post, case .stream(let stream, var headers) = response {
            headers["Content-Type"] = "application/json"
            headers.removeValue(forKey: "Cache-Control")
            guard let message = try? await Self.lastMessage(of: stream) else {
                return Self.mcpResponse(.accepted(headers: headers))
            }
            return Self.mcpResponse(.data(message, headers: headers))
        }
        return Self.mcpResponse(response)
    }

    private struct Refusal: Error {
        let response: MCP.HTTPResponse
        init(_ status: Int, _ message: String) {
            response = .error(
                statusCode: status, .invalidRequest(message), extraHeaders: status == 401 ? ["WWW-Authenticate": "Bearer"] : [:])
        }
    }

    private func mcpIdentity(_ request: Request) async -> Result<Identity, Refusal> {
        guard let authenticator else { return .success(.anonymous) }
        do {
            guard let identity = try await HTTPReply.presentedIdentity(request, authenticator) else {
                return .failure(
                    Refusal(401, "Unauthorized: /mcp needs X-API-Key or Authorization: Bearer <API key or admin token>"))
            }
            guard identity.isAdmin(service: service) else {  // an API key counts as admin
                return .failure(Refusal(403, "Forbidden: /mcp needs an API key or a token with 'admin'"))
            }
            return .success(identity)
        } catch {
            return .failure(Refusal(401, "Unauthorized: \(error.message)"))
        }
    }

    private func mcpAllows(origin: String) -> Bool {
        if !settings.allowedOrigins.isEmpty { return settings.allowedOrigins.contains(origin) }
        guard let host = URL(string: origin)?.host else { return false }
        return ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
    }

    /// The last JSON-RPC message of an SSE stream (the `data:` of its last event that has one).
    private static func lastMessage(of stream: AsyncThrowingStream<Data, any Error>) async throws -> Data? {
        var text = ""
        for try await chunk in stream { text += String(decoding: chunk, as: UTF8.self) }
        var last: String?
        for event in text.components(separatedBy: "\n\n") {
            let data = event.split(separator: "\n").filter { $0.hasPrefix("data:") }.map { $0.dropFirst(5).drop { $0 == " " } }
            if !data.isEmpty, !data.allSatisfy(\.isEmpty) { last = data.joined(separator: "\n") }
        }
        return last.map { Data($0.utf8) }
    }

    private static func mcpResponse(_ response: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let status = HTTPResponse.Status(code: response.statusCode)
        if case .stream(let stream, _) = response {
            return Response(
                status: status, headers: headers,
                body: ResponseBody { writer in
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.bodyData ?? Data())))
    }
}
