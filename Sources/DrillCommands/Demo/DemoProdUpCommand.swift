import ArgumentParser
import DockerEngine
import Fixture
import Foundation
import Sandbox

/// `acp-drill demo prod up`
struct DemoProdUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the production stand-in and load the eleven databases with generated data.",
        discussion: prose("""
            Project `acp`: containers acp_postgres and acp_redis on the internal network acp_prod_net. The data
            is deterministic per --seed; --scale 1 gives the runbook's drill-log counts (audit 12450, tenants 3,
            usage 8900): a real SHA-256 audit chain, daily Merkle roots signed by two Ed25519 keys (one retired
            by a rotation), usage events matching every billable audit row. Prints how the backup host
            connects (POSTGRES_HOST is the container's address on the host-local bridge).
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Data scale: 1 gives audit 12450 / tenants 3 / usage 8900; rows grow linearly.") var scale = 1
    @Option(help: "Seed of the generated data.") var seed: UInt64 = 20_260_516
    @Flag(help: "Print the connection as JSON (includes the password).") var json = false

    func validate() throws {
        guard (1 ... 1000).contains(scale) else { throw ValidationError("--scale must be between 1 and 1000") }
    }

    func run() async throws {
        let backend = try await engine.backend()
        let logger = engine.logger
        let fixture = PlatformFixture(seed: seed, scale: scale)
        let start = ContinuousClock.now
        let connection = try await interruptible {
            try await ProdStack.up(fixture: fixture, backend: backend, logger: logger) { printError("  \($0)") }
        }
        let elapsed = ContinuousClock.now - start
        if json {
            print(try jsonText(connection))
            return
        }
        let counts = fixture.expectedRowCounts
        print("production stand-in up in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
        print("  POSTGRES_HOST=\(connection.host) POSTGRES_PORT=\(connection.port) POSTGRES_USER=\(connection.user)")
        print("  password: acp-drill demo prod up --json prints it; or docker inspect acp_postgres")
        print("  audit=\(counts["acp_audit.audit_logs"] ?? 0) tenants=\(counts["acp_tenants.tenants"] ?? 0) usage=\(counts["acp_usage.usage_events"] ?? 0)")
        print("  remove with: acp-drill demo prod down")
    }
}

/// `acp-drill demo prod down`
struct DemoProdDownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Remove the production stand-in.")

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let backend = try await engine.backend()
        let report = try await ProdStack.down(backend: backend, logger: engine.logger)
        print("removed the production stand-in: \(report.containers) container(s), \(report.networks) network(s), \(report.volumes) volume(s)")
    }
}
