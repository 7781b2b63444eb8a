import Testing
import TestSupport

@testable import SessionBuddy

@Suite("session-buddy: catalogue")
struct SessionBuddyCatalogTests {
    @Test("docs/services/session-buddy.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(SessionBuddy.definition()) }

    @Test("/api/catalog lists it all; every event is delivered over both publish paths, broken payloads refused")
    func conformance() async throws { try await TestServer.expectServiceCatalog { SessionBuddy.definition() } }
}
