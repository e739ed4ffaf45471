import ArgumentParser
import DockerEngine
import Fixture
import Foundation
import Repository
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

            With --writer-rate N it also starts the audit service's stand-in in the background: N chained audit
            rows a second, each row's receipt mirrored to --receipts LOCATION right after it commits (see
            `acp-drill demo prod writer --help`). `demo prod down` stops it first.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Data scale: 1 gives audit 12450 / tenants 3 / usage 8900; rows grow linearly.") var scale = 1
    @Option(help: "Seed of the generated data.") var seed: UInt64 = 20_260_516
    @Flag(help: "Print the connection as JSON (includes the password).") var json = false
    @Option(help: ArgumentHelp("Also run the audit writer in the background, at this many rows a second.", valueName: "rate"))
    var writerRate: Int?
    @Option(help: ArgumentHelp("The writer's receipts mirror: a folder or s3://bucket/prefix (else ACP_RECEIPTS_S3_BUCKET).", valueName: "location"))
    var receipts: String?

    func validate() throws {
        guard (1 ... 1000).contains(scale) else { throw ValidationError("--scale must be between 1 and 1000") }
        if let writerRate, !(1 ... 10_000).contains(writerRate) { throw ValidationError("--writer-rate must be between 1 and 10000") }
        if writerRate != nil, receipts == nil, (CommandEnvironment.read()["ACP_RECEIPTS_S3_BUCKET"] ?? "").isEmpty {
            throw ValidationError("--writer-rate needs " + RepositoryLocation.receiptsMissing)
        }
    }

    func run() async throws {
        let backend = try await engine.sandboxBackend()
        let logger = engine.logger
        let fixture = PlatformFixture(seed: seed, scale: scale)
        let start = ContinuousClock.now
        let connection = try await interruptible {
            try await ProdStack.up(fixture: fixture, backend: backend, logger: logger) { printError("  \($0)") }
        }
        if let writerRate {
            var arguments = ["--rate", String(writerRate), "--log-level", engine.logLevel]
            if let receipts { arguments += ["--receipts", receipts] }
            if let host = engine.host { arguments += ["--host", host] }
            do { try await WriterProcess.start(arguments: arguments, environment: CommandEnvironment.read()) } catch {
                _ = try? await ProdStack.down(backend: backend, logger: logger)
                throw error
            }
            if !json { printError("  audit writer: \(writerRate) rows/s, receipts to \(receipts ?? "ACP_RECEIPTS_S3_BUCKET"); log \(WriterProcess.logFile)") }
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
        if let last = await WriterProcess.stop() { print("stopped the audit writer: \(last)") }
        let backend = try await engine.sandboxBackend()
        let report = try await ProdStack.down(backend: backend, logger: engine.logger)
        print("removed the production stand-in: \(report.containers) container(s), \(report.networks) network(s), \(report.volumes) volume(s)")
    }
}
