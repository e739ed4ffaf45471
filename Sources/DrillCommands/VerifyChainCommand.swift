import ArgumentParser
import AuditChain
import DockerEngine
import Drill
import Foundation
import Sandbox

/// `acp-drill verify-chain`
struct VerifyChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-chain",
        abstract: "Verify the audit hash chain and its signed daily roots in a kept project (or a named container).",
        discussion: prose("""
            Checks that audit_logs ids are contiguous from 1, every prev_hash links, every row_hash recomputes,
            the transparency_roots cover each day's ids exactly once, each root recomputes (RFC 6962), and each
            Ed25519 signature verifies with a transparency_historical_keys key valid at signed_at. Rows after
            the last root are reported as the unsealed tail. A failure names the first bad id or day.
            Rows stream out with COPY: memory stays flat whatever the table's size.
            Exit codes: 0 verified, 1 the chain failed, 2 usage.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Argument(help: "A sandbox project (acp-drill ls), e.g. one kept with --keep.") var project: String?
    @Option(help: "Instead of a project: a Postgres container by name (e.g. acp_postgres).") var container: String?
    @Option(help: "The database holding audit_logs.") var database = "acp_audit"
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if (project == nil) == (container == nil) { throw ValidationError("give a project or --container (one of them)") }
    }

    func run() async throws {
        let target: PostgresTarget
        if let project {
            let backend = try await engine.sandboxBackend(onSwarm: true)
            let sandbox = try await backend.attach(project: project, networkName: nil, logger: engine.logger)
            let instances = sandbox.services.filter { $0.role == .postgres }
            guard var pg = instances.first else {
                printError("error: project \(project) has no Postgres service")
                throw DrillExit.configuration
            }
            // A drill's set spread over several instances (a swarm): the one that holds the database.
            if instances.count > 1 {
                let literal = "'" + database.replacingOccurrences(of: "'", with: "''") + "'"
                for instance in instances {
                    let t = PostgresTarget.superuser(of: instance, backend: backend)
                    if let rows = try? await t.query("SELECT 1 FROM pg_database WHERE datname = \(literal)"), !rows.isEmpty { pg = instance; break }
                }
            }
            var t = PostgresTarget.superuser(of: pg, backend: backend).database(database)
            t.directAddress = await t.reachableAddress(pg.address)
            target = t
        } else {
            let client = try await engine.connect()
            let inspect = try await client.inspectContainer(container!)
            let env = inspect.config?.environment ?? [:]
            let service = Sandbox.Service(name: container!, role: .postgres, containerID: inspect.id, containerName: inspect.name)
            target = PostgresTarget(service: service, backend: DockerSandboxBackend(client: client), user: env["POSTGRES_USER"] ?? "postgres",
                                    password: env["POSTGRES_PASSWORD"] ?? "", database: database)
        }
        let start = ContinuousClock.now
        let report = try await ChainCheck.verify(target)
        let elapsed = ContinuousClock.now - start
        if json {
            print(try jsonText(report))
        } else if let failure = report.failure {
            print("verify-chain FAILED: \(failure.message)")
        } else {
            print("verify-chain passed: \(report.rows) rows (ids \(report.firstID ?? 0)…\(report.lastID ?? 0)), \(report.days) day(s), "
                + "\(report.rootsVerified) signed root(s) verified, \(report.unsealedRows) unsealed row(s) after the last root "
                + String(format: "(%.2f s)", elapsed.inSeconds))
        }
        if !report.passed { throw DrillExit.failure }
    }
}
