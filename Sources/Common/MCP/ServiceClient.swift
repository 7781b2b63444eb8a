import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP access to a running service, for the MCP tools (`<service> mcp` runs beside the service, not in it).
struct ServiceClient: ToolBackend {
    let baseURL: String
    let apiKey: String?

    struct Unreachable: Error, CustomStringConvertible {
        let description: String
    }

    func get(_ path: String) async throws -> JSONObject {
        try await send(URLRequest(url: try url(path)))
    }

    func health() async throws -> JSONObject { try await get("/health") }
    func snapshot() async throws -> JSONObject { try await get("/api/websocket/snapshot") }
    func roomList() async throws -> JSONObject { try await get("/api/rooms") }
    func totals() async throws -> JSONObject { try await get("/api/websocket/metrics") }

    func publish(room: String, event: String, data: JSONObject) async throws -> Int {
        let (status, body) = try await post(
            "/api/events", ["room": .string(room), "event": .string(event), "data": .object(data)])
        guard status == 200 else {
            let code = body["error_code"]?.stringValue.flatMap(ErrorCode.init(rawValue:)) ?? .internalError
            throw ProtocolError(code, body["error_message"]?.stringValue ?? "HTTP \(status)")
        }
        return Int(body["subscribers"]?.intValue ?? 0)
    }

    func post(_ path: String, _ body: JSONObject) async throws -> (status: Int, body: JSONObject) {
        var request = URLRequest(url: try url(path))
        request.httpMethod = "POST"
        request.httpBody = Data(JSONWriter.string(body).utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey { request.setValue(apiKey, forHTTPHeaderField: "X-API-Key") }
        return try await exchange(request)
    }

    private func url(_ path: String) throws -> URL {
        guard let url = URL(string: baseURL + path) else { throw Unreachable(description: "bad URL \(baseURL + path)") }
        return url
    }

    private func send(_ request: URLRequest) async throws -> JSONObject {
        let (status, body) = try await exchange(request)
        guard status == 200 else { throw Unreachable(description: "HTTP \(status) from \(request.url?.path ?? "")") }
        return body
    }

    private func exchange(_ request: URLRequest) async throws -> (status: Int, body: JSONObject) {
        var request = request
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = data.withUnsafeBytes { try? JSONParser.parse($0) }
        return (status, body?.objectValue ?? [:])
    }
}
