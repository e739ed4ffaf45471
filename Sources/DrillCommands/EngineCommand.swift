import ArgumentParser
import DockerEngine

/// `acp-drill engine …`
struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Inspect the Docker engine acp-drill talks to.",
        subcommands: [EngineInfoCommand.self]
    )
}

/// `acp-drill engine info`: which engine, found how, speaking which API version.
struct EngineInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the engine's version, the negotiated API version, its storage driver, and which address was used and why.",
        discussion: "Exits 2 when no engine answers, naming every address tried and why each failed."
    )

    @OptionGroup var engine: EngineOptions
    @Flag(name: .long, help: "Print JSON instead of text.") var json = false

    struct Report: Encodable {
        var host: String
        var hostSource: String
        var engine: String
        var engineVersion: String
        var engineAPIVersion: String
        var negotiatedAPIVersion: String
        var storageDriver: String?
        var operatingSystem: String?
        var cgroup: String?
        var kernel: String?
    }

    func run() async throws {
        let client = try await engine.connect()
        async let versionCall = client.version()
        async let infoCall = client.info()
        let (version, info) = try await (versionCall, infoCall)
        let report = Report(
            host: "\(client.host.endpoint)", hostSource: "\(client.host.source)",
            engine: client.libpodVersion == nil ? "Docker Engine" : "Podman (libpod API \(client.libpodVersion!))",
            engineVersion: version.version, engineAPIVersion: version.apiVersion,
            negotiatedAPIVersion: "\(client.apiVersion)", storageDriver: info.driver,
            operatingSystem: info.operatingSystem,
            cgroup: info.cgroupVersion.map { "v\($0)" + (info.cgroupDriver.map { " (\($0))" } ?? "") },
            kernel: version.kernelVersion)
        if json {
            print(try jsonText(report))
            return
        }
        print("""
            Engine:        \(report.engine) \(report.engineVersion)
            API:           \(report.negotiatedAPIVersion) negotiated (engine speaks \(report.engineAPIVersion), acp-drill up to \(DockerClient.maximumAPIVersion))
            Host:          \(report.host) — from the \(report.hostSource)
            Storage:       \(report.storageDriver ?? "unknown")
            OS:            \(report.operatingSystem ?? "unknown"), kernel \(report.kernel ?? "unknown")
            Cgroups:       \(report.cgroup ?? "unknown")
            """)
    }
}
