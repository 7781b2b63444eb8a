import Hummingbird
import NIOCore

/// A set of HTTP endpoints with one job; `RealtimeServer` adds the groups each listener serves.
protocol RouteGroup: Sendable {
    func add(to router: Router<BasicRequestContext>)
}

/// JSON bodies and error replies, shaped as the WebSocket errors are (`error_code`, `error_message`).
enum HTTPReply {
    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        JSONWriter.write(object, into: &buffer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func error(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String) -> Response {
        json(["error_code": .string(code.rawValue), "error_message": .string(message)], status: status)
    }

    /// The credential an HTTP request presents (`X-API-Key`, `Authorization: Bearer`, `?token=`), verified;
    /// nil when it presents none.
    static func presentedIdentity(_ request: Request, _ authenticator: Authenticator) async throws(ProtocolError) -> Identity? {
        let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        guard let credential = Credential.from(headers: headers, uri: request.uri.description) else { return nil }
        return try await authenticator.identity(credential: credential)
    }
}

/// Read-only endpoints allow any origin, so one dashboard can watch all four services. Goes first: middleware
/// applies to the routes added after it.
struct AnyOriginReads: RouteGroup {
    func add(to router: Router<BasicRequestContext>) {
        router.add(middleware: CORSMiddleware(allowOrigin: .all, allowHeaders: [.contentType], allowMethods: [.get]))
    }
}
