// swift-tools-version:6.1
import PackageDescription

// Swift 6 language mode everywhere: data-race safety is checked by the compiler.
let swiftSettings: [SwiftSetting] = []

let package = Package(
    name: "realtime-backbone",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Common", targets: ["Common"]),
        .executable(name: "session-buddy", targets: ["SessionBuddy"]),
        .executable(name: "mahavishnu", targets: ["Mahavishnu"]),
        .executable(name: "akosha", targets: ["Akosha"]),
        .executable(name: "crackerjack", targets: ["Crackerjack"]),
        .executable(name: "loadgen", targets: ["LoadGenerator"]),
        .library(name: "BackboneClient", targets: ["BackboneClient"]),
        .library(name: "Wire", targets: ["Wire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        // The protocol as bytes: JSON, the envelope, codes, positions, server frames. Shared by server, client, tests.
        .target(name: "Wire", dependencies: [.product(name: "NIOCore", package: "swift-nio")], swiftSettings: swiftSettings),
        // A small Redis client (RESP2 over NIO): what the Redis broker speaks.
        .target(
            name: "RESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings),
        // The shared server the four services import; it re-exports Wire.
        .target(
            name: "Common",
            dependencies: [
                "Wire", "RESP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            // Files that are not Swift, compiled into the binary (`PackageResources`): no resource bundle to install.
            resources: [
                .embedInCode("Resources/dashboard.html"), .embedInCode("Resources/client.js"),
                .embedInCode("Resources/order.lua"), .embedInCode("Resources/history.lua"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "SessionBuddy", dependencies: ["Common"], swiftSettings: swiftSettings),
        .executableTarget(name: "Mahavishnu", dependencies: ["Common"], swiftSettings: swiftSettings),
        .executableTarget(name: "Akosha", dependencies: ["Common"], swiftSettings: swiftSettings),
        .executableTarget(name: "Crackerjack", dependencies: ["Common"], swiftSettings: swiftSettings),
        // A client that reconnects and resumes by itself (docs/clients.md).
        .target(
            name: "BackboneClient",
            dependencies: [
                "Wire",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "WSCompression", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackboneClientTests", dependencies: ["BackboneClient", "Common", "TestSupport"], swiftSettings: swiftSettings),
        // The benchmark's load generator: plain SwiftNIO, no Task per message (scripts/bench drives it).
        .executableTarget(
            name: "LoadGenerator",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: a server on a free port and a real WebSocket client.
        .target(
            name: "TestSupport",
            dependencies: [
                "Common",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommonTests",
            dependencies: [
                "Common", "RESP", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "CompressNIO", package: "compress-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "MahavishnuTests", dependencies: ["Mahavishnu", "Common", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AkoshaTests", dependencies: ["Akosha", "Common", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CrackerjackTests", dependencies: ["Crackerjack", "Common", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SessionBuddyTests", dependencies: ["SessionBuddy", "Common", "TestSupport"], swiftSettings: swiftSettings),
    ]
)
