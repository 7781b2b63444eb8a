import Hummingbird
import NIOCore

/// `/health` and `/metrics`: on the service port, and alone on `metrics_port` when that is set.
struct ProbeRoutes: RouteGroup {
    let status: ServerStatus
    /// `/metrics` too, or only `/health` (the MCP port).
    var metrics = true

    func add(to router: Router<BasicRequestContext>) {
        router.get("/health") { _, _ in try await HTTPReply.json(status.health()) }
        guard metrics else { return }
        router.get("/metrics") { _, _ in
            try await status.refreshGauges()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: status.metrics.exposition())))
        }
    }
}
