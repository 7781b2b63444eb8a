@main enum PlaceholderAkosha { static func main() {} }
