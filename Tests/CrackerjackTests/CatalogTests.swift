import Testing
import TestSupport

@testable import Crackerjack

@Suite("crackerjack: catalogue")
struct CrackerjackCatalogTests {
    @Test("docs/services/crackerjack.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Crackerjack.definition()) }

    @Test("/api/catalog lists it all; every event is delivered over both publish paths, broken payloads refused")
    func conformance() async throws { try await TestServer.expectServiceCatalog { Crackerjack.definition() } }
}
