import Common
import Foundation
import Testing

/// Fails when `docs/services/<service>.md` differs from what the catalogue generates.
/// Regenerate with `scripts/gen_docs`.
public func expectCatalogDocsCurrent(_ definition: ServiceDefinition, sourceFile: String = #filePath) {
    let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = root.appendingPathComponent("docs/services/\(definition.name).md").path
    let committed = try? String(contentsOfFile: path, encoding: .utf8)
    #expect(committed == definition.catalogMarkdown, "docs/services/\(definition.name).md is stale: run scripts/gen_docs")
}
