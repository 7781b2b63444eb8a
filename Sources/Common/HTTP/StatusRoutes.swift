import Hummingbird

/// Read-only views for load balancers, dashboards and tools: readiness, status, history, rooms, the catalogue.
struct StatusRoutes: RouteGroup {
    let status: ServerStatus
    let catalog: JSONObject

    func add(to router: Router<BasicRequestContext>) {
        router.get("/ready") { _, _ in
            let ready = status.readiness()
            return HTTPReply.json(ready, status: ready["ready"] == true ? .ok : .serviceUnavailable)
        }
        router.get("/api/websocket/status") { _, _ in HTTPReply.json(status.websocketStatus()) }
        router.get("/api/websocket/history") { _, _ in
            HTTPReply.json([
                "interval_seconds": .double(Monitor.interval),
                "samples": .array(status.monitor.history.newestFirst().reversed().map(\.json)),
            ])
        }
        router.get("/api/websocket/snapshot") { _, _ in try await HTTPReply.json(status.snapshot()) }
        router.get("/api/websocket/metrics") { _, _ in HTTPReply.json(status.totals()) }
        router.get("/api/rooms") { _, _ in try await HTTPReply.json(status.roomList()) }
        router.get("/api/catalog") { _, _ in HTTPReply.json(catalog) }
        router.get("/api/dashboard/services") { _, _ in
            HTTPReply.json([
                "self": .string(status.name), "services": .array(status.settings.dashboardServices.map { .string($0) }),
            ])
        }
    }
}
