import Common
import Foundation
import Testing

@Suite("Settings: YAML < environment < command line, errors name the key")
struct SettingsTests {
    let service = ServiceDefinition.testService

    func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID4.make()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults without a file")
    func defaults() throws {
        let settings = try SettingsLoader.load(service: service, configPath: nil, environment: [:], flags: [:])
        #expect(settings.host == "127.0.0.1")
        #expect(settings.maxConnections == 1000)
        #expect(settings.messageRateLimit == 100)
        #expect(settings.heartbeatInterval == 30)
        #expect(settings.cleanupInterval == 300)
        #expect(settings.alertThresholds == AlertThresholds())
    }

    @Test("layers override in order")
    func layers() throws {
        let path = try file(
            """
            port: 9100
            max_connections: 50
            alert_thresholds:
              error_rate: 0.05
            """)
        let settings = try SettingsLoader.load(
            service: service, configPath: path,
            environment: ["TEST_SERVICE_WS_PORT": "9200", "TEST_SERVICE_WS_ALERT_THRESHOLDS_CONNECTION_LIMIT": "0.9"],
            flags: ["port": "9300"])
        #expect(settings.port == 9300)
        #expect(settings.maxConnections == 50)
        #expect(settings.alertThresholds.errorRate == 0.05)
        #expect(settings.alertThresholds.connectionLimit == 0.9)
    }

    @Test(
        "bad values stop start-up with the key named",
        arguments: [
            ("port: abc", "port: expected an integer"),
            ("port: 70000", "port: expected an integer in 1...65535"),
            ("max_connections: -1", "max_connections"),
            ("alert_thresholds:\n  error_rate: 2", "alert_thresholds.error_rate"),
            ("log_format: xml", "log_format: expected one of text, json"),
            ("prot: 80", "unknown setting 'prot'"),
            ("- a list", "expected a mapping"),
            ("websocket:\n  prot: 80", "unknown setting 'websocket.prot' (the websocket: block takes"),
            ("port: 80\nwebsocket:\n  port: 81", "websocket.port and port are the same setting"),
            ("websocket_enabled: maybe", "websocket_enabled: expected true or false"),
            ("capabilities: 3", "capabilities: expected a list of strings"),
            ("metrics_stream:\n  port: 9000", "metrics_stream.port: test-service serves no metrics stream"),
        ])
    func badFile(yaml: String, fragment: String) throws {
        let path = try file(yaml)
        do {
            _ = try SettingsLoader.load(service: service, configPath: path, environment: [:], flags: [:])
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(error.description.hasPrefix(path))
        }
    }

    @Test("the plan's nested websocket: block, websocket_enabled and a server description's keys")
    func ecosystemKeys() throws {
        let path = try file(
            """
            id: orchestrator-1
            name: Mahavishnu Orchestrator
            capabilities: [workflows, pools]
            relationships:
              depends_on: [akosha]
              port: 8692
            metrics_port: 9090
            websocket:
              enabled: true
              host: 0.0.0.0
              port: 8690
              max_connections: 500
              message_rate_limit: 50
            """)
        let settings = try SettingsLoader.load(service: service, configPath: path, environment: [:], flags: [:])
        #expect(settings.webSocketEnabled)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 8690)
        #expect(settings.maxConnections == 500)
        #expect(settings.messageRateLimit == 50)
        #expect(settings.metricsPort == 9090)
        #expect(settings.serverDescription.id == "orchestrator-1")
        #expect(settings.serverDescription.name == "Mahavishnu Orchestrator")
        #expect(settings.serverDescription.capabilities == ["workflows", "pools"])
        #expect(settings.serverDescription.relationships == ["depends_on": ["akosha"], "port": 8692])
        let off = try SettingsLoader.load(
            service: service, configPath: try file("websocket_enabled: false"), environment: [:], flags: [:])
        #expect(!off.webSocketEnabled)
    }

    @Test("bad environment values name the source")
    func badEnvironment() {
        #expect(throws: SettingsError.self) {
            try SettingsLoader.load(service: service, configPath: nil, environment: ["TEST_SERVICE_WS_PORT": "x"], flags: [:])
        }
    }

    @Test("a malformed secret is named, never shown")
    func secretsHidden() throws {
        let path = try file("jwt_secret: [\"s3cret-value\"]")
        do {
            _ = try SettingsLoader.load(service: service, configPath: path, environment: [:], flags: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("jwt_secret"))
            #expect(!error.description.contains("s3cret-value"))
        }
    }

    @Test("an explicit config file must exist")
    func missingFile() {
        #expect(throws: SettingsError.self) {
            try SettingsLoader.load(service: service, configPath: "/nonexistent.yaml", environment: [:], flags: [:])
        }
    }

    @Test("environment variable names")
    func environmentNames() {
        let names = SettingsLoader.environmentVariables(prefix: "MAHAVISHNU")
        #expect(names.contains("MAHAVISHNU_WS_PORT"))
        #expect(names.contains("MAHAVISHNU_WS_CONFIG"))
        #expect(names.contains("MAHAVISHNU_WS_ALERT_THRESHOLDS_ERROR_RATE"))
    }
}
