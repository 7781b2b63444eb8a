@main enum PlaceholderCrackerjack { static func main() {} }
