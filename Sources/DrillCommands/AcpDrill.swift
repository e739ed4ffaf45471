public import ArgumentParser
import Foundation
import Common

/// The `acp-drill` command tree. The executable only calls `AcpDrill.main()`.
public struct AcpDrill: AsyncParsableCommand {
    public static let version = ToolVersion.current

    public static let configuration = CommandConfiguration(
        commandName: "acp-drill",
        abstract: "Prove that PostgreSQL backups can be restored, in an isolated throw-away Docker sandbox.",
        discussion: prose("""
            acp-drill talks to a Docker Engine through its API (no docker CLI), builds a sandbox project
            acp_drill_<timestamp> with its own internal network, anonymous volumes, Postgres and Redis,
            and tears it down when done.

            The engine is found the way the docker CLI finds it: --host, DOCKER_HOST (unix:// or tcp://,
            with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), the CLI's current context, then
            /var/run/docker.sock, the rootless socket and the Podman sockets.

            Exit codes: 0 success, 1 a failure, 2 configuration or usage error (no engine, bad flag),
            3 passed over a time budget, 130 interrupted.
            """),
        version: version,
        subcommands: [
            SandboxUpCommand.self, SandboxExecCommand.self, SandboxRunInCommand.self, SandboxDownCommand.self,
            SandboxLsCommand.self, SandboxGcCommand.self, RunCommand.self, BackupCommand.self, VerifyChainCommand.self, ChecksCommand.self, GateCommand.self, ReportCommand.self, KeysCommand.self, DemoCommand.self, EngineCommand.self, BenchCommand.self,
        ]
    )

    public init() {}

    /// `main()` with the documented exit codes: a bad flag or a refused value is a usage error, exit 2
    /// (ArgumentParser's own is 64); help, version and every command's own exit code pass through.
    public static func mainWithUsageExitCodes(_ arguments: [String]? = nil) async {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(DrillExit.configuration.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Options every subcommand that talks to the engine takes.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Docker engine address (unix:///path or tcp://host:port).", valueName: "address"))
    var host: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    @Option(name: .long, help: ArgumentHelp(
        "What runs sandboxes: engine (one Docker or Podman engine), swarm (the services of a Docker Swarm, through the manager at --host), or auto (swarm when the engine is a swarm manager and the command runs on a swarm, else engine).",
        valueName: "auto|engine|swarm"))
    var backend: BackendChoice = .auto
}

/// `--backend`.
enum BackendChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, engine, swarm
}
