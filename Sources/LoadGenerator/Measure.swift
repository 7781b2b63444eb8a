import Glibc
import NIOCore

/// Monotonic time, shared by publisher and subscribers (one process), so one-way latency needs no clock sync.
enum Clock {
    /// Set in main before any scenario starts (a lazy static read first inside `micros()` would be later than
    /// the `now()` it is subtracted from).
    nonisolated(unsafe) static var origin: UInt64 = 0
    static func start() { origin = NIODeadline.now().uptimeNanoseconds }
    static func nanos() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
    /// Microseconds since the load generator started: small enough to embed in payloads.
    static func micros() -> Int { micros(at: nanos()) }
    static func micros(at nanos: UInt64) -> Int { Int(nanos / 1000) - Int(origin / 1000) }
    static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}

/// CPU time and memory of a process, read from /proc (Linux).
struct ProcessUsage: Sendable {
    var cpuSeconds: Double
    var rssKiB: Int
    var peakRssKiB: Int

    /// `pids` is "self", a PID, or several PIDs separated by commas (instances of one clustered service):
    /// their CPU and memory are summed.
    static func read(_ pids: String) -> ProcessUsage? {
        let each = pids.split(separator: ",").map { readOne(String($0)) }
        guard !each.isEmpty, !each.contains(where: { $0 == nil }) else { return nil }
        return each.compactMap { $0 }.reduce(ProcessUsage(cpuSeconds: 0, rssKiB: 0, peakRssKiB: 0)) {
            ProcessUsage(
                cpuSeconds: $0.cpuSeconds + $1.cpuSeconds, rssKiB: $0.rssKiB + $1.rssKiB,
                peakRssKiB: $0.peakRssKiB + $1.peakRssKiB)
        }
    }

    private static func readOne(_ pid: String) -> ProcessUsage? {
        guard let stat = readFile("/proc/\(pid)/stat"), let status = readFile("/proc/\(pid)/status") else { return nil }
        // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
        // index 11 and 12 are utime and stime (fields 14 and 15 of proc(5)), in clock ticks.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessUsage(cpuSeconds: (user + system) / ticks, rssKiB: kib(status, "VmRSS:"), peakRssKiB: kib(status, "VmHWM:"))
    }

    private static func kib(_ status: String, _ key: String) -> Int {
        for line in status.split(separator: "\n") where line.hasPrefix(key) {
            return Int(line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// CPU of the load generator and of the server over one measured window.
struct CPUWindow {
    let serverPID: String?
    private var clientStart = ProcessUsage.read("self")
    private var serverStart: ProcessUsage?
    private var startedAt = Clock.nanos()

    init(serverPID: String?) {
        self.serverPID = serverPID
        restart()
    }

    mutating func restart() {
        clientStart = ProcessUsage.read("self")
        serverStart = serverPID.flatMap(ProcessUsage.read)
        startedAt = Clock.nanos()
    }

    /// CPU seconds and percent of one core for both sides since `restart()`, plus the server's memory now.
    func report() -> [(String, JSON)] {
        let elapsed = max(Clock.seconds(Clock.nanos() - startedAt), 1e-9)
        var out: [(String, JSON)] = []
        if let start = clientStart, let now = ProcessUsage.read("self") {
            let cpu = now.cpuSeconds - start.cpuSeconds
            out += [("client_cpu_s", .number(cpu)), ("client_cpu_pct", .number(100 * cpu / elapsed))]
        }
        if let start = serverStart, let pid = serverPID, let now = ProcessUsage.read(pid) {
            let cpu = now.cpuSeconds - start.cpuSeconds
            out += [
                ("server_cpu_s", .number(cpu)), ("server_cpu_pct", .number(100 * cpu / elapsed)),
                ("server_rss_kib", .int(now.rssKiB)), ("server_peak_rss_kib", .int(now.peakRssKiB)),
            ]
        }
        return out
    }
}

/// Latency samples in microseconds, summarized as milliseconds.
struct Latencies {
    private(set) var samples: [UInt32] = []

    mutating func reserve(_ count: Int) { samples.reserveCapacity(min(count, 50_000_000)) }
    mutating func add(micros: Int) { samples.append(UInt32(clamping: max(micros, 0))) }
    var count: Int { samples.count }

    func summary() -> JSON {
        guard !samples.isEmpty else { return .null }
        let sorted = samples.sorted()
        func at(_ q: Double) -> JSON { .number(Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1000) }
        let mean = Double(sorted.reduce(0) { $0 + Int($1) }) / Double(sorted.count) / 1000
        return .object([
            ("samples", .int(sorted.count)), ("p50", at(0.50)), ("p90", at(0.90)), ("p99", at(0.99)),
            ("p999", at(0.999)), ("max", .number(Double(sorted.last!) / 1000)), ("mean", .number(mean)),
        ])
    }
}
