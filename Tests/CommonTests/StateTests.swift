import Common
import Testing

@Suite("Bounded projections")
struct StateTests {
    @Test("KeyedStore drops the least recently updated entries past its capacity")
    func keyedStoreBound() {
        let store = KeyedStore<Int>(capacity: 10)
        for n in 0..<10 { store.update("k\(n)", default: 0) { $0 = n } }
        store.update("k0", default: 0) { $0 += 100 }  // k0 is now the most recent
        store.update("k10", default: 0) { $0 = 10 }
        #expect(store.count <= 10)
        #expect(store["k0"] == 100)
        #expect(store["k1"] == nil)
        #expect(store["k10"] == 10)
    }

    @Test("RecentItems is a ring, newest first")
    func ring() {
        let items = RecentItems<String>(capacity: 2)
        #expect(items.newestFirst().isEmpty)
        items.append("a")
        items.append("b")
        items.append("c")
        #expect(items.newestFirst() == ["c", "b"])
    }
}
