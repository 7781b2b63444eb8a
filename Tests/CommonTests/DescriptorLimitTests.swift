@testable import Common
import Glibc
import Testing

@Suite("File-descriptor limit")
struct DescriptorLimitTests {
    @Test("the soft open-files limit is raised to the hard one at start")
    func raisesSoftLimit() throws {
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let hard = limit.rlim_max
        var lowered = limit
        lowered.rlim_cur = min(hard, 256)
        #expect(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0)
        #expect(DescriptorLimit.raise() == Int(clamping: hard))
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(limit.rlim_cur == hard)
    }
}
