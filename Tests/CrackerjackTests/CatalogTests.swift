import Common
import Testing
import TestSupport

@testable import Crackerjack

@Suite("crackerjack: catalogue")
struct CrackerjackCatalogTests {
    @Test("docs/services/crackerjack.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Crackerjack.definition()) }

    @Test("every event is delivered over HTTP and the publish request; broken payloads are refused")
    func conformance() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in try await server.expectCatalogConformance(Crackerjack.definition()) }
    }

    @Test("GET /api/catalog lists every channel and event")
    func catalogEndpoint() async throws {
        try await TestServer.with(Crackerjack.definition()) { server in
            let response = try await HTTP.get(server.httpURL + "/api/catalog")
            #expect(response.status == 200)
            #expect(response.body["service"] == "crackerjack")
            #expect(response.body["channels"]?.arrayValue?.count == Crackerjack.channels.count)
            #expect(response.body["events"]?.arrayValue?.count == Crackerjack.Events.all.count)
        }
    }
}
