import Common
import Testing
import TestSupport

@testable import SessionBuddy

@Suite("session-buddy: catalogue")
struct SessionBuddyCatalogTests {
    @Test("docs/services/session-buddy.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(SessionBuddy.definition()) }

    @Test("every event is delivered over HTTP and the publish request; broken payloads are refused")
    func conformance() async throws {
        try await TestServer.with(SessionBuddy.definition()) { server in try await server.expectCatalogConformance(SessionBuddy.definition()) }
    }

    @Test("GET /api/catalog lists every channel and event")
    func catalogEndpoint() async throws {
        try await TestServer.with(SessionBuddy.definition()) { server in
            let response = try await HTTP.get(server.httpURL + "/api/catalog")
            #expect(response.status == 200)
            #expect(response.body["service"] == "session-buddy")
            #expect(response.body["channels"]?.arrayValue?.count == SessionBuddy.channels.count)
            #expect(response.body["events"]?.arrayValue?.count == SessionBuddy.Events.all.count)
        }
    }
}
