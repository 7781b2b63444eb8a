import Testing
import TestSupport

@testable import Akosha

@Suite("akosha: catalogue")
struct AkoshaCatalogTests {
    @Test("docs/services/akosha.md matches the catalogue")
    func docs() { expectCatalogDocsCurrent(Akosha.definition()) }

    @Test("/api/catalog lists it all; every event is delivered over both publish paths, broken payloads refused")
    func conformance() async throws { try await TestServer.expectServiceCatalog { Akosha.definition() } }
}
