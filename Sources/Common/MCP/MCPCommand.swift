import Foundation
import MCP

/// `<service> mcp`: an MCP server on stdio (the MCP swift-sdk) whose tools talk to the running service.
/// stdout carries JSON-RPC, so nothing else may be printed there.
enum MCPCommand {
    static func run(definition: ServiceDefinition, settings: Settings, apiKey: String?) async throws {
        let host = settings.host == "0.0.0.0" ? "127.0.0.1" : settings.host
        let scheme = settings.tls.enabled ? "https" : "http"
        let tools = WebSocketTools(
            service: definition.name, host: host, port: settings.port,
            client: ServiceClient(baseURL: "\(scheme)://\(host):\(settings.port)", apiKey: apiKey ?? settings.auth.apiKeys.first))
        let server = Server(
            name: "\(definition.name)-websocket", version: "1.0.0", capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            .init(tools: WebSocketTools.specs.map { spec in
                var properties: [String: MCP.Value] = [:]
                for parameter in spec.parameters {
                    properties[parameter.name] = ["type": .string(parameter.type), "description": .string(parameter.description)]
                }
                return Tool(
                    name: spec.name, description: spec.description,
                    inputSchema: ["type": "object", "properties": .object(properties),
                                  "required": .array(spec.parameters.filter(\.required).map { .string($0.name) })])
            })
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            let arguments = JSONObject((parameters.arguments ?? [:]).map { ($0.key, JSONValue($0.value)) })
            let (result, isError) = await tools.call(parameters.name, arguments)
            return CallTool.Result(
                content: [.text(text: JSONWriter.string(result), annotations: nil, _meta: nil)],
                structuredContent: Optional.some(MCP.Value(.object(result))), isError: isError)
        }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }
}

// `MCP.Value` is spelled out: inside `extension JSONValue`, a bare `Value` can resolve to the
// `ExpressibleByDictionaryLiteral.Value` associated type (JSONValue itself), depending on the build.
extension JSONValue {
    init(_ value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(Int64(number))
        case .double(let number): self = .double(number)
        case .string(let string): self = .string(string)
        case .data(_, let data): self = .string(data.base64EncodedString())
        case .array(let array): self = .array(array.map(JSONValue.init))
        case .object(let object): self = .object(JSONObject(object.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) }))
        }
    }
}

extension MCP.Value {
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(Int(number))
        case .double(let number): self = .double(number)
        case .string(let string): self = .string(string)
        case .array(let array): self = .array(array.map(MCP.Value.init))
        case .object(let object):
            self = .object(Dictionary(object.members.map { ($0.key, MCP.Value($0.value)) }, uniquingKeysWith: { $1 }))
        }
    }
}
