import MCP

/// The MCP server for the `websocket_*` tools (the swift-sdk's `Server`), the same over stdio and over HTTP.
enum MCPToolServer {
    static func make(service: String, tools: WebSocketTools) async -> Server {
        let server = Server(name: "\(service)-websocket", version: "1.0.0", capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: WebSocketTools.specs.map(\.tool)) }
        await server.withMethodHandler(CallTool.self) { parameters in
            let arguments = JSONObject((parameters.arguments ?? [:]).map { ($0.key, JSONValue($0.value)) })
            let (result, isError) = await tools.call(parameters.name, arguments)
            return CallTool.Result(
                content: [.text(text: JSONWriter.string(result), annotations: nil, _meta: nil)],
                structuredContent: Optional.some(MCP.Value(.object(result))), isError: isError)
        }
        return server
    }
}

extension WebSocketTools.Spec {
    var tool: Tool {
        var properties: [String: MCP.Value] = [:]
        for parameter in parameters {
            properties[parameter.name] = ["type": .string(parameter.type), "description": .string(parameter.description)]
        }
        return Tool(
            name: name, description: description,
            inputSchema: [
                "type": "object", "properties": .object(properties),
                "required": .array(parameters.filter(\.required).map { .string($0.name) }),
            ])
    }
}
