import Testing
import TestSupport

@testable import Mahavishnu

@Suite("mahavishnu: catalogue")
struct MahavishnuCatalogTests {
    @Test("docs/services/mahavishnu.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Mahavishnu.definition()) }

    @Test("/api/catalog lists it all; every event is delivered over both publish paths, broken payloads refused")
    func conformance() async throws { try await TestServer.expectServiceCatalog { Mahavishnu.definition() } }
}
