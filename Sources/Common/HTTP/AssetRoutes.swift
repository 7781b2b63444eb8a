import Hummingbird
import NIOCore

/// The files compiled into the binary (`Resources/`): the dashboard page and the JavaScript client.
struct AssetRoutes: RouteGroup {
    func add(to router: Router<BasicRequestContext>) {
        router.get("/dashboard") { _, _ in Self.file(DashboardPage.html, type: "text/html; charset=utf-8") }
        router.get("/client.js") { _, _ in Self.file(JavaScriptClient.source, type: "text/javascript; charset=utf-8") }
    }

    private static func file(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
