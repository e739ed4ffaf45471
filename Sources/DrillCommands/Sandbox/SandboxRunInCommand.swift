import ArgumentParser
import DockerEngine
import Foundation
import Sandbox

/// `acp-drill run-in PROJECT --image IMG -- CMD…`
struct SandboxRunInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-in",
        abstract: "Run a one-off job container on a sandbox project's network (e.g. an app's test suite).",
        discussion: prose("""
            The job reaches the services by name (postgres:5432, redis:6379) and nothing else: the network
            is internal. It gets the stack's connection settings in its environment (PGHOST, PGPORT, PGUSER,
            PGPASSWORD, PGDATABASE, DATABASE_URL, REDIS_URL), so a CI job needs no -e plumbing and the
            password never appears in a command line (--no-connection-env turns this off; -e wins over them).
            It is hardened like the services and vetted by the isolation rules before it starts. Its output
            streams through; its exit code becomes ours; the container is removed afterwards (also on Ctrl-C).

            Example:
              acp-drill run-in PROJECT --image acp-drill/postgres:15 -- sh -c 'psql -Atc "select 1"'
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Argument(help: "The project name.") var project: String
    @Option(help: "The image to run (must be on the engine).") var image: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Set an environment variable (NAME=VALUE). Repeatable.", valueName: "name=value"))
    var env: [String] = []
    @Option(name: .shortAndLong, help: "Run as this user.") var user: String?
    @Flag(help: "Do not hand the job the stack's connection settings (PGHOST, PGPASSWORD, DATABASE_URL, REDIS_URL, …).")
    var noConnectionEnv = false
    @Option(help: ArgumentHelp("The project's network, when its containers' own cannot tell (default: the network they are on).", valueName: "name"))
    var network: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func run() async throws {
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let sandbox = try await backend.attach(project: project, networkName: network, logger: engine.logger)
        let env = (noConnectionEnv ? [] : sandbox.connectionEnvironment) + self.env
        let image = self.image, command = self.command, user = self.user
        let outcome = try await interruptible {
            try await backend.runJob(image: image, command: command, environment: env, user: user, in: sandbox) { stream, bytes in
                FileHandle(fileDescriptor: stream == .stderr ? 2 : 1).write(Data(bytes))
            }
        }
        if outcome.exitCode != 0 { throw ExitCode(Int32(outcome.exitCode)) }
    }
}
