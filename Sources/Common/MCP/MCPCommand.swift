import Foundation
import MCP

/// `<service> mcp`: an MCP server on stdio (the MCP swift-sdk) whose tools talk to the running service;
/// `<service> mcp tools` lists the tools and `<service> mcp call TOOL [JSON]` prints one result, the one-line
/// operator check. stdout carries JSON-RPC (or the result), so nothing else may be printed there.
enum MCPCommand {
    /// Returns the process exit status.
    static func run(_ arguments: [String], definition: ServiceDefinition, settings: Settings) async throws -> Int32 {
        let tools = localTools(definition: definition, settings: settings)
        switch arguments.first {
        case nil:
            let server = await MCPToolServer.make(service: definition.name, tools: tools)
            try await server.start(transport: StdioTransport())
            await server.waitUntilCompleted()
            return 0
        case "tools":
            let list: [JSONValue] = WebSocketTools.specs.map { spec in
                [
                    "name": .string(spec.name), "description": .string(spec.description),
                    "parameters": .array(spec.parameters.map { .string($0.name) }),
                ]
            }
            print(JSONWriter.string(["tools": .array(list)] as JSONObject))
            return 0
        case "call":
            guard arguments.count >= 2, arguments.count <= 3 else { throw UsageError("usage: mcp call TOOL [JSON-ARGUMENTS]") }
            var parameters: JSONObject = [:]
            if arguments.count == 3 {
                guard case .object(let object)? = try? JSONParser.parse(arguments[2]) else {
                    throw UsageError("the arguments must be a JSON object, e.g. '{\"room\":\"global\"}'")
                }
                parameters = object
            }
            let (result, isError) = await tools.call(arguments[1], parameters)
            print(JSONWriter.string(result))
            return isError ? 1 : 0
        case let other?:
            throw UsageError("unknown mcp command '\(other)': use mcp, mcp tools or mcp call TOOL [JSON]")
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The tools of the service running with these settings, reached over its HTTP port.
    private static func localTools(definition: ServiceDefinition, settings: Settings) -> WebSocketTools {
        let host = settings.host == "0.0.0.0" ? "127.0.0.1" : settings.host
        let scheme = settings.tls.enabled ? "https" : "http"
        let client = ServiceClient(baseURL: "\(scheme)://\(host):\(settings.port)", apiKey: settings.auth.apiKeys.first)
        return WebSocketTools(service: definition.name, host: host, port: settings.port, backend: client)
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
        case .object(let object):
            self = .object(JSONObject(object.sorted { $0.key < $1.key }.map { ($0.key, JSONValue($0.value)) }))
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
