import Common
import Testing
import TestSupport

@testable import Akosha

@Suite("akosha: catalogue")
struct AkoshaCatalogTests {
    @Test("docs/services/akosha.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Akosha.definition()) }

    @Test("every event is delivered over HTTP and the publish request; broken payloads are refused")
    func conformance() async throws {
        try await TestServer.with(Akosha.definition()) { server in try await server.expectCatalogConformance(Akosha.definition()) }
    }

    @Test("GET /api/catalog lists every channel and event")
    func catalogEndpoint() async throws {
        try await TestServer.with(Akosha.definition()) { server in
            let response = try await HTTP.get(server.httpURL + "/api/catalog")
            #expect(response.status == 200)
            #expect(response.body["service"] == "akosha")
            #expect(response.body["channels"]?.arrayValue?.count == Akosha.channels.count)
            #expect(response.body["events"]?.arrayValue?.count == Akosha.Events.all.count)
        }
    }
}
