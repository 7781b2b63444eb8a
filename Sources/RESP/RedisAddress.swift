/// `redis://host:port[/db]`.
package struct RedisAddress: Sendable, Equatable {
    package let host: String
    package let port: Int

    package init?(url: String) {
        guard url.hasPrefix("redis://") else { return nil }
        let rest = url.dropFirst("redis://".count).split(separator: "/", maxSplits: 1)[0]
        let parts = rest.split(separator: ":")
        guard let host = parts.first, !host.isEmpty else { return nil }
        self.host = String(host)
        self.port = parts.count > 1 ? (Int(parts[1]) ?? -1) : 6379
        guard (1...65535).contains(port) else { return nil }
    }
}
