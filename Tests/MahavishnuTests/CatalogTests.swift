import Common
import Testing
import TestSupport

@testable import Mahavishnu

@Suite("mahavishnu: catalogue")
struct MahavishnuCatalogTests {
    @Test("docs/services/mahavishnu.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Mahavishnu.definition()) }

    @Test("every event is delivered over HTTP and the publish request; broken payloads are refused")
    func conformance() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in try await server.expectCatalogConformance(Mahavishnu.definition()) }
    }

    @Test("GET /api/catalog lists every channel and event")
    func catalogEndpoint() async throws {
        try await TestServer.with(Mahavishnu.definition()) { server in
            let response = try await HTTP.get(server.httpURL + "/api/catalog")
            #expect(response.status == 200)
            #expect(response.body["service"] == "mahavishnu")
            #expect(response.body["channels"]?.arrayValue?.count == Mahavishnu.channels.count)
            #expect(response.body["events"]?.arrayValue?.count == Mahavishnu.Events.all.count)
        }
    }
}
