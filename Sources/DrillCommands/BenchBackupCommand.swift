import ArgumentParser
import Backup
import DockerEngine
import Foundation
import Repository
import Fixture
import Sandbox

/// `acp-drill bench backup`: the platform's eleven databases backed up by acp-drill (concurrent dumps, each in
/// its snapshot with its evidence, streamed) against the same pg_dump level run one database after another.
struct BenchBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Measure the backup against pg_dump -Fc -Z1 | age run database after database, and acp-drill's peak RSS.",
        discussion: prose("""
            Loads the platform's eleven databases at --scale into a throw-away sandbox, then backs them up into a
            local folder twice: acp-drill (ACP_BACKUP_JOBS dumps at once, each in its exported snapshot with its
            evidence, hashed and written in-process) and the baseline, `pg_dump -Fc -Z1 | age > file` for each
            database in turn, at the same compression level, so that the ratio measures the pipeline and not
            the level. With --s3-endpoint, both again into S3: acp-drill's streamed multipart upload against
            `pg_dump -Fc -Z1 | age | aws s3 cp -`. Prints both times, their ratios, the evidence's own share of
            acp-drill's backup, and this process's peak RSS. Needs age, pg_dump (and aws) on the host.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Fixture scale (1 = 12,450 audit rows; 50 is the issue's figure).") var scale = 50
    @Option(help: ArgumentHelp("Also compare against `pg_dump | age | aws s3 cp -` into this S3-compatible endpoint (AWS_* credentials from the environment).", valueName: "url"))
    var s3Endpoint: String?

    func run() async throws {
        let client = try await engine.connect()
        let logger = engine.logger
        try await BenchDrillCommand.withWorkFolder("backup") { dir in
            let recipient = try await runProgramAsync(["age-keygen", "-y", "\(dir)/id.txt"]).trimmingCharacters(in: .whitespacesAndNewlines)
            var spec = try StackSpec.defaultStack()
            spec.services = spec.services.filter { $0.role == .postgres }
            let project = SandboxProject.new(prefix: "acp_bench", kind: .test, ttl: .seconds(3600))
            print("source \(project.name): loading the fixture at scale \(scale) (\(12_450 * scale) audit rows)")
            try await Sandbox.withSandbox(spec, project: project, client: client, logger: logger) { sandbox in
                guard let pg = sandbox.service(role: .postgres), let host = pg.address, let password = pg.postgresPassword else {
                    throw ValidationError("the source sandbox has no reachable Postgres")
                }
                try await ProdStack.load(fixture: PlatformFixture(scale: scale), into: pg, of: sandbox, password: password, progress: nil)
                let base = ["ACP_BACKUP_AGE_RECIPIENT": recipient, "PGPASSWORD": password, "POSTGRES_HOST": host]
                let config = try BackupConfig.from(environment: base, repo: "\(dir)/ours", databasesFrom: nil, dryRun: false)
                let rssBefore = peakRSSMiB()
                let store = try SetLayout.open(config.destination, environment: [:], logger: logger, creating: true)
                var outcome: BackupRun.Outcome?
                let ours = try await timed { outcome = try await BackupRun(config: config, logger: logger).run(store: store) }
                guard let outcome, !outcome.failed else { throw ValidationError("the benchmark backup failed: \(outcome?.manifest.failures.map(\.message) ?? [])") }
                let baseline = try await timed {
                    for db in config.databases {
                        try await shell("pg_dump -Fc -Z1 -h \(host) -U postgres -d \(db) | age -r '\(recipient)' > '\(dir)/\(db).shell.dump.age'", passEnv: ["PGPASSWORD": password])
                    }
                }
                let bytes = Double(outcome.manifest.objects.filter { $0.kind == "dump" }.reduce(0) { $0 + $1.size })
                print(String(format: "the eleven databases: %.0f MB encrypted (pg_dump -Z%d), %d dump(s) at once (ACP_BACKUP_JOBS) on %d core(s)",
                             bytes / 1e6, config.compressLevel, config.jobs, ProcessInfo.processInfo.activeProcessorCount))
                print(String(format: "acp-drill backup: %.1f s (evidence, globals and manifest included)", ours))
                print(String(format: "baseline, pg_dump -Fc -Z1 | age > file per database in turn: %.1f s", baseline))
                print(String(format: "ratio: %.2f× the baseline (goal ≥ 1.6× on 2 cores)", baseline / ours))
                print(String(format: "source evidence: %.1f s of queries beside the dumps, %.0f %% of acp-drill's backup time (goal ≤ 15 %%)",
                             outcome.evidenceSeconds, 100 * outcome.evidenceSeconds / ours))
                if let endpoint = s3Endpoint {
                    let bucket = "acp-bench-\(getpid())"
                    let environment = CommandEnvironment.read()
                    try S3Client(endpoint: endpoint, environment: environment, logger: logger).createBucket(bucket)
                    let s3Env = environment.merging(base) { $1 }.merging(["ACP_BACKUP_S3_BUCKET": "s3://\(bucket)/ours", "ACP_BACKUP_S3_ENDPOINT": endpoint]) { $1 }
                    let s3Config = try BackupConfig.from(environment: s3Env, repo: nil, databasesFrom: nil, dryRun: false)
                    let s3Store = try SetLayout.open(s3Config.destination, environment: environment, logger: logger)
                    let oursS3 = try await timed { _ = try await BackupRun(config: s3Config, logger: logger).run(store: s3Store) }
                    let shellS3 = try await timed {
                        for db in config.databases {
                            try await shell("pg_dump -Fc -Z1 -h \(host) -U postgres -d \(db) | age -r '\(recipient)' | aws --endpoint-url '\(endpoint)' s3 cp - 's3://\(bucket)/shell/\(db).dump.age'",
                                            passEnv: ["PGPASSWORD": password])
                        }
                    }
                    print(String(format: "into S3: acp-drill %.1f s (streamed multipart), pg_dump | age | aws s3 cp - per database %.1f s — %.2f× (goal ≥ 1.5×)",
                                 oursS3, shellS3, shellS3 / oursS3))
                }
                print(String(format: "peak RSS of acp-drill: %.1f MiB (%.1f MiB before the backups; goal < 64 MiB)", peakRSSMiB(), rssBefore))
            }
        }
    }

    /// Runs a shell line (a pipeline); the password reaches the children only through their environment.
    func shell(_ line: String, passEnv: [String: String] = [:]) async throws {
        _ = try await runProgramAsync(["bash", "-o", "pipefail", "-c", line], environment: passEnv)
    }
}
