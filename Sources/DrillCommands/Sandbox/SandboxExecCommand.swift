import ArgumentParser
import CurlHTTP
import DockerEngine
import Foundation
import Sandbox

/// `acp-drill exec PROJECT SERVICE -- CMD…`
struct SandboxExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in a service of a sandbox project; stdout, stderr and the exit code pass through.",
        discussion: prose("""
            With -i, standard input is streamed to the command until it ends (pipe a dump into psql).
            Postgres services get PGUSER, PGPASSWORD and PGDATABASE set, so `psql` needs no flags.
            Example: acp-drill exec acp_drill_20261127T101500Z_x1y2z3 postgres -i -- psql < seed.sql

            On a swarm (--backend swarm, or auto on a manager) a manager cannot exec into a task on another
            node: the command runs in the service's workspace, a task of its image beside it on its node,
            with PGHOST (or redis-cli's host) set to the service's name; stdin and output stream through the
            relay to this process (docs/SWARM.md).
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Argument(help: "The project name.") var project: String
    @Argument(help: "The service name (postgres, redis, …).") var service: String
    @Flag(name: .shortAndLong, help: "Stream standard input to the command.") var interactive = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Set an environment variable (NAME=VALUE). Repeatable.", valueName: "name=value"))
    var env: [String] = []
    @Option(name: .shortAndLong, help: "Run as this user.") var user: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --, e.g. -- psql -c 'select 1'") }
    }

    func run() async throws {
        let backend = try await engine.sandboxBackend(onSwarm: true)
        guard let docker = backend as? DockerSandboxBackend else { return try await runOnSwarm(backend) }
        let client = docker.client
        let sandbox = try await Sandbox.attach(project: project, client: client, logger: engine.logger)
        let (target, environment) = try resolve(in: sandbox)
        let spec = ExecCreate(cmd: command, env: environment, user: user)
        let stdin: (any HTTPBodySource)? = interactive ? StandardInput() : nil
        let code = try await interruptible {
            try await client.exec(target.containerID, spec, stdin: stdin) { stream, bytes in
                let fd: Int32 = stream == .stderr ? 2 : 1
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
        if code != 0 { throw ExitCode(Int32(code)) }
    }

    /// The service asked for, and the command's environment: a Postgres service's connection settings
    /// (the password in the environment only), then `-e`.
    private func resolve(in sandbox: Sandbox) throws -> (Sandbox.Service, [String]) {
        guard let target = sandbox.service(service) else {
            printError("error: project \(project) has no service \(service) (it has: \(sandbox.services.map(\.name).joined(separator: ", ")))")
            throw DrillExit.configuration
        }
        guard target.role == .postgres else { return (target, env) }
        return (target, ["PGUSER=\(target.postgresUser ?? "postgres")", "PGPASSWORD=\(target.postgresPassword ?? "")",
                         "PGDATABASE=\(target.postgresDatabase ?? "postgres")"] + env)
    }

    /// The command in the service's workspace (`SandboxBackend.stream`).
    private func runOnSwarm(_ backend: any SandboxBackend) async throws {
        if user != nil {
            printError("error: --user is not available on a swarm: the command runs in the service's workspace, as root with every capability dropped")
            throw DrillExit.configuration
        }
        let sandbox = try await backend.attach(project: project, networkName: nil, logger: engine.logger)
        let (target, environment) = try resolve(in: sandbox)
        let command = self.command
        let stdin: (any ExecInput)? = interactive ? FileDescriptorInput(fd: 0) : nil
        let code = try await interruptible {
            try await backend.stream(command, in: target, env: environment, stdin: stdin) { channel, bytes in
                FileHandle(fileDescriptor: channel == .stderr ? 2 : 1).write(Data(bytes))
            }
        }
        if code != 0 { throw ExitCode(Int32(code)) }
    }
}

/// This process's stdin as an exec's input (`exec -i`).
struct StandardInput: HTTPBodySource {
    let fd = FileDescriptorInput(fd: 0)
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try fd.read(into: buffer) }
}
