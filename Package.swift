// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

let package = Package(
    name: "acp-drill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "acp-drill", targets: ["acp-drill"]),
        .library(name: "DockerEngine", targets: ["DockerEngine"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Layers, arrows pointing down (docs/DESIGN.md §1):
        //   acp-drill -> DrillCommands -> { ReportPages -> Drill, Backup, Fixture }
        //   Drill   -> Sandbox, Repository, AuditChain        Backup -> Sandbox, Repository
        //   Fixture -> Sandbox, AuditChain                    Sandbox -> DockerEngine (its first backend)
        //   Repository -> CurlHTTP (S3), Evidence      DockerEngine -> CurlHTTP -> CCurl
//   AuditChain -> CSHA256 (libcrypto's SHA-256 for the per-row hashes)   Drill -> CLibPQ (bulk COPY reads)
        //   Evidence is pure: the source evidence a manifest carries, and how it compares.
        //   AuditChain is pure; every Swift module may use Common, the base layer (no I/O).
        .target(name: "Common", exclude: ["README.md"], swiftSettings: strict),
        .target(name: "CCurl", path: "Sources/CCurl", exclude: ["README.md"], publicHeadersPath: "include",
                linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CurlHTTP", dependencies: ["CCurl", "Common", logging], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "DockerEngine", dependencies: ["CurlHTTP", "Common", logging], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "CSHA256", path: "Sources/CSHA256", exclude: ["README.md"], publicHeadersPath: "include",
                linkerSettings: [.linkedLibrary("crypto")]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "AuditChain", dependencies: ["Common", "CSHA256", .product(name: "Crypto", package: "swift-crypto")],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Evidence", dependencies: ["Common"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Sandbox", dependencies: ["DockerEngine", "CurlHTTP", "Common", "Yams", logging], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Fixture", dependencies: ["Sandbox", "AuditChain", "Common", logging],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Repository", dependencies: ["CurlHTTP", "Common", "Evidence", logging, .product(name: "Crypto", package: "swift-crypto")], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Backup", dependencies: ["Repository", "Evidence", "Sandbox", "Common", logging,
                                               .product(name: "Crypto", package: "swift-crypto")],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "Drill", dependencies: ["Sandbox", "AuditChain", "CLibPQ", "Repository", "Evidence", "Common", "Yams", logging],
                exclude: ["README.md"], swiftSettings: strict),
        .target(name: "ReportPages", dependencies: ["Drill", "Common", .product(name: "Mustache", package: "swift-mustache")],
                exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "DrillCommands",
            dependencies: [
                "Common", "DockerEngine", "CurlHTTP", "Sandbox", "Fixture", "AuditChain", "Drill", "ReportPages", "Backup", "Repository", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "acp-drill",
            dependencies: ["DrillCommands", logging, .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .testTarget(name: "CommonTests", dependencies: ["Common"], swiftSettings: strict),
        .testTarget(name: "DrillCommandsTests", dependencies: ["DrillCommands", "Drill", "Sandbox", "Common",
                                                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                    swiftSettings: strict),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "CurlHTTP", "CCurl", "Common"], swiftSettings: strict),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "Common"], swiftSettings: strict),
        .testTarget(name: "EvidenceTests", dependencies: ["Evidence"], swiftSettings: strict),
        .testTarget(name: "AuditChainTests", dependencies: ["AuditChain"], swiftSettings: strict),
        .testTarget(name: "BackupTests", dependencies: ["Backup", "Repository"], swiftSettings: strict),
        .testTarget(name: "DrillTests", dependencies: ["Drill", "AuditChain", "Repository", "Sandbox", "Common"], swiftSettings: strict),
        .testTarget(name: "ReportPagesTests", dependencies: ["ReportPages", "Drill", "Sandbox", "Common"], swiftSettings: strict),
        .testTarget(name: "RepositoryTests", dependencies: ["Repository", "CurlHTTP", "Common", logging], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Common", "DockerEngine", "CurlHTTP", "Sandbox", "Fixture", "AuditChain", "Drill", "Backup", "Repository", "Evidence", "DrillCommands"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
