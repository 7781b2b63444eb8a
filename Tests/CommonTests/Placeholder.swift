import Testing
import WSClient
import Common
@Test func placeholder() {}
