// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "acp-drill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "acp-drill", targets: ["acp-drill"]),
        .library(name: "DockerEngine", targets: ["DockerEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "CCurl",
            path: "Sources/CCurl",
            publicHeadersPath: "include",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "CurlHTTP",
            dependencies: ["CCurl", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "DockerEngine",
            dependencies: ["CurlHTTP", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "DrillCommands",
            dependencies: [
                "DockerEngine", "CurlHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "acp-drill",
            dependencies: [
                "DrillCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "CurlHTTP"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["DockerEngine", "CurlHTTP", "DrillCommands"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
