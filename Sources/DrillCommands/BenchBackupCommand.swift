import ArgumentParser
import Backup
import DockerEngine
import Foundation
import Repository
import Sandbox

/// `acp-drill bench backup`: backup throughput against the runbook's shell pipeline, and our peak RSS.
struct BenchBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Measure backup throughput against the runbook's shell pipeline, and acp-drill's peak RSS.",
        discussion: prose("""
            Creates a database of --size-mb in a throw-away sandbox, then backs it up twice into a local folder:
            acp-drill's pipeline (pg_dump | age, hashed and written in-process) and the runbook's shell pipeline
            (pg_dump -Fc | age > file). Prints both throughputs (database bytes per second), their ratio, and
            this process's peak RSS while backing up. Needs age and pg_dump on the host.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Size of the benchmark database in MB (at least 1024 for the RSS figure the issue asks).") var sizeMb = 1024
    @Option(help: ArgumentHelp("Also compare against `pg_dump | age | aws s3 cp` into this S3-compatible endpoint (AWS_* credentials from the environment).", valueName: "url"))
    var s3Endpoint: String?

    func run() async throws {
        let client = try await engine.connect()
        let logger = engine.logger
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("acp-bench-backup-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try shell("age-keygen -o '\(dir)/id.txt' 2>/dev/null")
        let recipient = try shell("age-keygen -y '\(dir)/id.txt'").trimmingCharacters(in: .whitespacesAndNewlines)

        var spec = try StackSpec.defaultStack()
        spec.services = spec.services.filter { $0.role == .postgres }
        let project = SandboxProject.new(prefix: "acp_bench", kind: .test, ttl: .seconds(3600))
        try await Sandbox.withSandbox(spec, project: project, client: client, logger: logger) { sandbox in
            guard let pg = sandbox.service(role: .postgres), let host = pg.address, let password = pg.postgresPassword else { return }
            let rows = max(1, sizeMb) * 1_000_000 / 180
            print("creating benchdb (~\(sizeMb) MB, \(rows) rows) in \(project.name)…")
            let env = ["PGPASSWORD=\(password)", "PGUSER=postgres", "PGHOST=127.0.0.1"]
            _ = try await client.execCollect(pg.containerID, ["createdb", "benchdb"], env: env)
            let fill = try await client.execCollect(pg.containerID, ["psql", "-X", "-q", "-d", "benchdb", "-c",
                "CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS a, repeat(md5((g * 13)::text), 3) AS b, now() AS at FROM generate_series(1, \(rows)) g"], env: env)
            guard fill.exitCode == 0 else { throw ValidationError("creating the benchmark table failed: \(fill.stderrText)") }
            let size = try await client.execCollect(pg.containerID, ["psql", "-X", "-At", "-d", "benchdb", "-c", "SELECT pg_database_size('benchdb')"], env: env)
            let bytes = Double(size.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0

            var config = try BackupConfig.from(
                environment: ["ACP_BACKUP_AGE_RECIPIENT": recipient, "PGPASSWORD": password, "POSTGRES_HOST": host, "DATABASES": "benchdb"],
                repo: "\(dir)/ours", databasesFrom: nil, dryRun: false)
            config.databases = ["benchdb"]
            let run = BackupRun(config: config, logger: logger)
            let store = try SetLayout.open(config.destination, environment: [:], logger: logger, creating: true)
            let rssBefore = peakRSSMiB()
            let ours = try await timed { _ = try await run.run(store: store) }
            let rssAfter = peakRSSMiB()
            let baseline = try timedSync {
                _ = try shell("pg_dump -Fc -h \(host) -U postgres -d benchdb | age -r '\(recipient)' > '\(dir)/shell.dump.age'",
                              passEnv: ["PGPASSWORD": password])
            }
            var s3Figures: (ours: Double, shell: Double)?
            if let endpoint = s3Endpoint {
                let bucket = "acp-bench-\(getpid())"
                let environment = CommandEnvironment.read()
                let s3 = try S3Client(endpoint: endpoint, environment: environment, logger: logger)
                try s3.createBucket(bucket)
                var s3Config = try BackupConfig.from(
                    environment: environment.merging(["ACP_BACKUP_AGE_RECIPIENT": recipient, "PGPASSWORD": password, "POSTGRES_HOST": host,
                                  "DATABASES": "benchdb", "ACP_BACKUP_S3_BUCKET": "s3://\(bucket)/ours", "ACP_BACKUP_S3_ENDPOINT": endpoint]) { $1 },
                    repo: nil, databasesFrom: nil, dryRun: false)
                s3Config.databases = ["benchdb"]
                let s3Store = try SetLayout.open(s3Config.destination, environment: environment, logger: logger)
                let oursS3 = try await timed { _ = try await BackupRun(config: s3Config, logger: logger).run(store: s3Store) }
                let shellS3 = try timedSync {
                    _ = try shell("pg_dump -Fc -h \(host) -U postgres -d benchdb | age -r '\(recipient)' | aws --endpoint-url '\(endpoint)' s3 cp - 's3://\(bucket)/shell/benchdb.dump.age'",
                                  passEnv: ["PGPASSWORD": password])
                }
                s3Figures = (oursS3, shellS3)
            }
            let mb = bytes / 1e6
            let shellBytes = Double(FileDigest.size(path: "\(dir)/shell.dump.age") ?? 0)
            let oursBytes = Double(directorySize("\(dir)/ours", suffix: ".dump.age"))
            print(String(format: "database: %.0f MB", mb))
            print(String(format: "acp-drill backup: %.1f s, %.1f MB/s", ours, mb / ours))
            print(String(format: "shell pg_dump | age > file: %.1f s, %.1f MB/s", baseline, mb / baseline))
            print(String(format: "throughput ratio: %.2f× the shell pipeline (goal ≥ 1.0×)", baseline / ours))
            print(String(format: "encrypted dump: ours %.0f MB (pg_dump --compress=%d), shell %.0f MB (default level 6)", oursBytes / 1e6, config.compressLevel, shellBytes / 1e6))
            if let f = s3Figures {
                print(String(format: "to S3: acp-drill %.1f s (%.1f MB/s), pg_dump | age | aws s3 cp %.1f s (%.1f MB/s) — %.2f× (goal ≥ 1.0×)",
                             f.ours, mb / f.ours, f.shell, mb / f.shell, f.shell / f.ours))
            }
            print(String(format: "peak RSS of acp-drill: %.1f MiB (%.1f MiB before the backup; goal < 64 MiB)", rssAfter, rssBefore))
        }
    }

    /// Runs a shell line (a pipeline); the password reaches the children only through their environment.
    @discardableResult
    func shell(_ line: String, passEnv: [String: String] = [:]) throws -> String {
        try runProgram(["bash", "-o", "pipefail", "-c", line], environment: passEnv)
    }
}

/// Total size of the files under `dir` whose names end with `suffix`.
func directorySize(_ dir: String, suffix: String) -> Int64 {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return 0 }
    var total: Int64 = 0
    while let name = e.nextObject() as? String {
        guard name.hasSuffix(suffix), let size = FileDigest.size(path: "\(dir)/\(name)") else { continue }
        total += size
    }
    return total
}
