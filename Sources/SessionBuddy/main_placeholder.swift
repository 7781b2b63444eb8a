@main enum PlaceholderSessionBuddy { static func main() {} }
