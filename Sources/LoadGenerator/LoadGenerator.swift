// Replaced by the benchmark load generator (issue 3).
@main enum LoadGenerator { static func main() {} }
