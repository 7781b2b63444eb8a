import Common
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Minimal HTTP for tests: status code and JSON body.
public enum HTTP {
    public static func get(_ url: String) async throws -> (status: Int, body: JSONValue) {
        try await send(URLRequest(url: URL(string: url)!))
    }

    public static func post(
        _ url: String, json: String, headers: [String: String] = [:]
    ) async throws -> (status: Int, body: JSONValue) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(json.utf8)
        return try await send(request)
    }

    /// A body that is not JSON (`/metrics`); throws on a status other than 200.
    public static func getText(_ url: String) async throws -> String {
        let (data, response) = try await URLSession.shared.data(for: URLRequest(url: URL(string: url)!))
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw URLError(.badServerResponse) }
        return String(decoding: data, as: UTF8.self)
    }

    public static func send(_ request: URLRequest) async throws -> (status: Int, body: JSONValue) {
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        return (status, (try? JSONParser.parse(text)) ?? .string(text))
    }
}
