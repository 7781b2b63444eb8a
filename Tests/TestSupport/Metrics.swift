import Common

extension TestServer {
    /// One sample of the server's Prometheus exposition (read in process), e.g.
    /// `metric("websocket_close_drains_total", ["outcome": "timeout"])`; nil when no series matches.
    public func metric(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        Self.sample(server.metrics.exposition(), name, labels)
    }

    /// The first series of `name` in `exposition` carrying all of `labels`.
    public static func sample(_ exposition: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let series = line[..<space]
            guard labels.allSatisfy({ series.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }
}
