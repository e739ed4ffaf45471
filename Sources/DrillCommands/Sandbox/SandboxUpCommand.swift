import ArgumentParser
import Common
import DockerEngine
import Foundation
import Sandbox

/// `acp-drill up`: an ephemeral, isolated stack for CI, kept until `down` or its expiry.
struct SandboxUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start an isolated, throw-away Postgres + Redis stack (or the stack in -f FILE) and print how to reach it.",
        discussion: prose("""
            The stack gets its own project acp_drill_<UTC timestamp>_<random>, an internal network (no route
            out, no published ports), anonymous labelled volumes, and services reachable by their service
            names from containers on that network (acp-drill exec, acp-drill run-in). Isolation is asserted
            before the command returns; a failed assertion removes the stack and exits 1.

            The stack stays until `acp-drill down PROJECT`, or until it expires (--ttl, default 2h), after
            which any run's `acp-drill gc` removes it. Expired stacks are collected first.

            On a swarm (--backend swarm, or auto when --host/DOCKER_HOST is a manager) the stack is a set
            of services on an internal overlay network, spread over the ready nodes (Postgres first), with
            every data path on a tmpfs (no volumes); `ls`, `exec`, `run-in`, `down` and `gc` work the same.

            Example (CI):
              project=$(acp-drill up --json | jq -r .project)
              acp-drill exec "$project" postgres -- psql -U postgres -c 'select 1'
              acp-drill run-in "$project" --image my-app:test -- ./run-tests
              acp-drill down "$project"
            """)
    )

    @OptionGroup var engine: EngineOptions
    @OptionGroup var stack: StackOptions
    @Option(help: ArgumentHelp("How long the stack lives before gc may remove it (e.g. 30m, 2h, 1d).", valueName: "duration"))
    var ttl = "2h"
    @Flag(help: "Print the result as JSON (project, services, addresses, connection settings).") var json = false

    struct Output: Encodable {
        struct ServiceOut: Encodable {
            var name: String
            var role: String
            var container: String
            var address: String?
            /// The swarm node that runs it (on a swarm).
            var node: String?
            var postgres: PostgresOut?
        }
        struct PostgresOut: Encodable {
            var host: String
            var port: Int
            var user: String
            var password: String
            var database: String
            var url: String
        }
        var project: String
        var network: String
        var expiresAt: String
        var services: [ServiceOut]
        var isolation: [CheckResult]
        var down: String
    }

    func validate() throws { _ = try parseDuration(ttl, flag: "--ttl") }

    func run() async throws {
        let ttl = try parseDuration(self.ttl, flag: "--ttl")
        let spec = try stack.stack(environment: CommandEnvironment.read())
        let backend = try await engine.sandboxBackend(onSwarm: true)
        let logger = engine.logger
        let options = stack.sandboxOptions
        let output = try await interruptible {
            await backend.collectBeforeRun(logger: logger)
            // Handed to the caller: it lives to its expiry (or `down`), not to this process.
            let project = SandboxProject.new(kind: .env, ttl: ttl, ownedByThisProcess: false)
            let progress: ProgressHandler = { printError("  \($0)") }
            printError("starting \(project.name)")
            let sandbox = try await backend.provision(spec, project: project, options: options, holdBack: [], logger: logger, progress: progress)
            let checks = await sandbox.assertIsolation()
            if let bad = checks.first(where: { $0.status == .failed }) {
                _ = try? await sandbox.teardown()
                printError("error: isolation check \(bad.name) failed: \(bad.evidence); the stack was removed")
                throw DrillExit.failure
            }
            return Output(
                project: project.name, network: project.networkName, expiresAt: SandboxProject.rfc3339(project.expiresAt),
                services: sandbox.services.map { s in
                    Output.ServiceOut(name: s.name, role: s.role.rawValue, container: s.containerName, address: s.address, node: s.node,
                               postgres: s.role == .postgres ? Output.PostgresOut(
                                host: s.name, port: 5432, user: s.postgresUser ?? "postgres", password: s.postgresPassword ?? "",
                                database: s.postgresDatabase ?? "postgres",
                                url: "postgresql://\(s.postgresUser ?? "postgres"):\(s.postgresPassword ?? "")@\(s.name):5432/\(s.postgresDatabase ?? "postgres")") : nil)
                },
                isolation: checks, down: "acp-drill down \(project.name)")
        }
        if json {
            print(try jsonText(output))
            return
        }
        print("project  \(output.project)  (expires \(output.expiresAt))")
        print("network  \(output.network)  (internal: reachable only from containers on it)")
        for s in output.services {
            print("service  \(s.name)  \(s.container)  \(s.address ?? "-")" + (s.node.map { "  on node \($0)" } ?? ""))
            if let pg = s.postgres { print("         \(pg.url)") }
        }
        for c in output.isolation { print("check    \(c.name): \(c.status.rawValue) — \(c.evidence)") }
        print("""

            look inside:  acp-drill exec \(output.project) postgres -- psql -U postgres
            run a job:    acp-drill run-in \(output.project) --image IMAGE -- COMMAND
            remove it:    \(output.down)
            """)
    }
}
