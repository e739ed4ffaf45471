import ArgumentParser
import Common
import Backup
import DockerEngine
import Evidence
import Foundation
import Repository
import Sandbox

/// `acp-drill backup`: the nightly backup of the runbook.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up every database: pg_dump --format=custom, encrypted with age (or gpg), into the repository, manifest last.",
        discussion: prose("""
            Environment (the runbook's):
              ACP_BACKUP_AGE_RECIPIENT   age public key (preferred)
              ACP_BACKUP_GPG_RECIPIENT   gpg recipient (fallback when age is not installed)
              ACP_BACKUP_S3_BUCKET     s3://bucket/prefix (or --repo PATH: a local folder)
              ACP_BACKUP_S3_ENDPOINT   S3-compatible endpoint (optional)
              POSTGRES_HOST/PORT/USER  default acp_postgres / 5432 / postgres
              PGPASSWORD               required; reaches pg_dump through its
                                       environment only
              DATABASES                default: the platform's eleven (or
                                       --databases-from pgbouncer.ini)
              ACP_BACKUP_COMPRESS      pg_dump's zlib level 0-9 (default 1:
                                       compression is the bottleneck)
              ACP_BACKUP_JOBS          databases dumped at once (default: the
                                       cores, at most 4)
              ACP_BACKUP_EXCLUDE       databases of the server left out on
                                       purpose (recorded); any other database
                                       DATABASES leaves out fails the backup
              ACP_BACKUP_SIGNING_KEY   the manifest-signing key file (acp-drill keys
                                       generate); every set is then signed, and
                                       drills with --trusted-keys verify it
            Each database is dumped in the snapshot of a read-only session that records what that snapshot
            holds (exact row counts, the schema, owners and grants, the database's properties) into the
            manifest, for the drill to compare after its restore; the roles go in as their own object
            (pg_dumpall --globals-only --no-role-passwords). Each dump streams pg_dump | age through a SHA-256
            into the repository: no plaintext on disk, bounded memory. A database that fails is recorded in
            the manifest and the others are still backed up. --dry-run connects read-only to show coverage.
            Exit codes: 0 every step succeeded, 1 some database failed or a server database is not covered,
            2 configuration (the missing variable or tool is named).
            """)
    )

    @Flag(help: "Print the plan; dump, upload and create nothing.") var dryRun = false
    @Flag(help: "Skip the throw-away restore verify.") var noVerify = false
    @Option(help: ArgumentHelp("A local folder as the repository (instead of ACP_BACKUP_S3_BUCKET).", valueName: "path")) var repo: String?
    @Option(help: ArgumentHelp("Read the database list from a pgbouncer.ini [databases] section.", valueName: "file")) var databasesFrom: String?
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let environment = CommandEnvironment.read()
        let config: BackupConfig
        do {
            config = try BackupConfig.from(environment: environment, repo: repo, databasesFrom: databasesFrom, dryRun: dryRun)
        } catch let problem as BackupConfig.Problem {
            for m in problem.messages { printError("error: \(m)") }
            throw DrillExit.configuration
        }
        let logger = engine.logger
        let run = BackupRun(config: config, logger: logger)
        let timestamp = SandboxProject.timestamp(Date())
        if dryRun {
            print("dry run: nothing is dumped, uploaded or created")
            for line in run.plan(timestamp: timestamp) { print(line) }
            if !noVerify { print("  verify: a throw-away acp_backup_verify_\(timestamp) sandbox restores each dump (pg_restore --list, audit_logs count)") }
            // Coverage: a read-only connection lists the server's databases (nothing else is read).
            let coverage: Coverage
            do { coverage = try await run.serverCoverage() } catch {
                print("coverage: cannot list the server's databases: \(error)")
                throw DrillExit.failure
            }
            for line in Self.coverageLines(coverage) { print(line) }
            if !coverage.uncovered.isEmpty { throw DrillExit.failure }
            return
        }
        // Everything the verify needs is checked before the first dump: a verify that cannot run is a
        // configuration error, not a surprise after the upload.
        var backend: (any SandboxBackend)?
        if !noVerify {
            if case .age = config.encryption, config.ageIdentity == nil {
                printError("error: ACP_BACKUP_AGE_IDENTITY (the age identity file) must be set for the throw-away verify, or pass --no-verify")
                throw DrillExit.configuration
            }
            let connected = try await engine.sandboxBackend()
            await connected.collectBeforeRun(logger: logger)
            backend = connected
        }
        let store: any ObjectStore
        do { store = try SetLayout.open(config.destination, environment: environment, logger: logger, creating: true) } catch {
            printError("error: \(error)")
            throw DrillExit.configuration
        }
        let start = ContinuousClock.now
        let outcome = try await interruptible { try await run.run(timestamp: timestamp, store: store) { printError("  \($0)") } }
        let total = outcome.manifest.objects.reduce(Int64(0)) { $0 + $1.size }
        let seconds = Double((ContinuousClock.now - start).components.seconds)
        print("backup set \(outcome.manifest.timestamp): \(outcome.manifest.objects.count) object(s), \(total) bytes encrypted with \(outcome.manifest.encryption), in \(Int(seconds)) s → \(outcome.location)")
        print(config.signingKey.map { "signed: \(ManifestSignature.key(outcome.manifest.timestamp)) by key \($0.keyID)" }
              ?? "unsigned: set ACP_BACKUP_SIGNING_KEY (acp-drill keys generate) so that drills can prove the set is authentic")
        if outcome.seconds > 0 {
            print(String(format: "source evidence: %.1f s of queries in the dumps' snapshots (%.0f %% of the backup's %.1f s, run beside pg_dump)",
                         outcome.evidenceSeconds, 100 * outcome.evidenceSeconds / outcome.seconds, outcome.seconds))
        }
        if let coverage = outcome.manifest.coverage { for line in Self.coverageLines(coverage) { print(line) } }
        for f in outcome.manifest.failures { print("FAILED \(f.database) (\(f.step)): \(f.message)") }
        var verifyFailed = false
        if let backend {
            let verify = BackupVerify(config: config, backend: backend, logger: logger)
            let manifest = outcome.manifest
            let results = try await interruptible {
                try await verify.verify(manifest, store: store) { printError("  \($0)") }
            }
            for r in results { print("\(r.status == .passed ? "verified" : "FAILED  ") \(r.name): \(r.evidence)") }
            verifyFailed = results.contains { $0.status != .passed }
        }
        if outcome.failed || verifyFailed { throw DrillExit.failure }
    }

    /// What the coverage says, one line each; an uncovered database is a FAILED line naming it.
    static func coverageLines(_ coverage: Coverage) -> [String] {
        var lines = ["coverage: the server has \(coverage.server.count) database(s) besides postgres and the templates"
                     + (coverage.excluded.isEmpty ? "" : "; excluded on purpose (ACP_BACKUP_EXCLUDE): \(coverage.excluded.joined(separator: ", "))")]
        for db in coverage.uncovered {
            lines.append("FAILED coverage: database \(db) is on the server but neither in DATABASES nor in ACP_BACKUP_EXCLUDE: nobody backs it up")
        }
        return lines
    }
}
