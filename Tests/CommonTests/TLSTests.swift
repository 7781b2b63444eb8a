import Common
import NIOSSL
import Testing
import TestSupport

@Suite("TLS: wss:// with certificate files")
struct TLSTests {
    @Test("a client connects over wss with a certificate generated in the test; the welcome says so")
    func wss() async throws {
        let certificate = try TestCertificate.make()
        try await TestServer.with(configure: {
            $0.tls.enabled = true
            $0.tls.certFile = certificate.certificatePath
            $0.tls.keyFile = certificate.keyPath
        }) { server in
            let client = try await TestClient.connect(
                "wss://localhost:\(server.port)/ws", tls: try certificate.clientConfiguration())
            let welcome = try await client.next()
            #expect(welcome["data"]?["secure"] == true)
            #expect(welcome["data"]?["tls_mode"] == "WSS")
            #expect(try await client.request(["type": "ping", "id": "p"])["type"] == "pong")
            await client.close()
            // Plain ws:// to a TLS port fails, and so does a client limited to TLS 1.1.
            await #expect(throws: (any Error).self) {
                try await TestClient.connect("ws://127.0.0.1:\(server.port)/ws", timeout: .seconds(2))
            }
            await #expect(throws: (any Error).self) {
                try await TestClient.connect(
                    "wss://localhost:\(server.port)/ws", tls: try certificate.clientConfiguration(maximumVersion: .tlsv11),
                    timeout: .seconds(2))
            }
        }
    }

    @Test("the reference's TLS environment names, and a clear error for missing files")
    func settings() async throws {
        let settings = try SettingsLoader.load(
            service: .testService, configPath: nil,
            environment: [
                "TEST_SERVICE_WS_TLS_ENABLED": "true", "TEST_SERVICE_WS_CERT_FILE": "/x/cert.pem",
                "TEST_SERVICE_WS_KEY_FILE": "/x/key.pem", "TEST_SERVICE_WS_VERIFY_CLIENT": "false",
            ],
            flags: [:])
        #expect(settings.tls.enabled)
        #expect(settings.tls.certFile == "/x/cert.pem")
        await #expect(throws: SettingsError.self) {
            _ = try await RealtimeServer(definition: .testService, settings: settings)
        }
        #expect(throws: SettingsError.self) {
            try SettingsLoader.load(
                service: .testService, configPath: nil, environment: ["TEST_SERVICE_WS_TLS_ENABLED": "true"], flags: [:])
        }
    }
}
