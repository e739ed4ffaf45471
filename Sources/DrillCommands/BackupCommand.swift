import ArgumentParser
import Common
import Backup
import DockerEngine
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
              ACP_BACKUP_SIGNING_KEY   the manifest-signing key file (acp-drill keys
                                       generate); every set is then signed, and
                                       drills with --trusted-keys verify it
            Each dump streams pg_dump | age through a SHA-256 into the repository: no plaintext on disk, bounded
            memory. A database that fails is recorded in the manifest and the others are still backed up.
            Exit codes: 0 every step succeeded, 1 some database failed, 2 configuration (the missing variable or tool is named).
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
            return
        }
        // Everything the verify needs is checked before the first dump: a verify that cannot run is a
        // configuration error, not a surprise after the upload.
        var backend: DockerSandboxBackend?
        if !noVerify {
            if case .age = config.encryption, config.ageIdentity == nil {
                printError("error: ACP_BACKUP_AGE_IDENTITY (the age identity file) must be set for the throw-away verify, or pass --no-verify")
                throw DrillExit.configuration
            }
            let connected = try await engine.backend()
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
}
