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
            acp-drill's backup (its queries on their own, and as they ran beside the dumps), and this process's peak RSS. Needs age, pg_dump (and aws) on the host.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(help: "Fixture scale (1 = 12,450 audit rows; 50 is the issue's figure).") var scale = 50
    @Option(help: "Rounds: acp-drill, the baseline and the side-by-side pipelines alternate, and each figure is the median.") var runs = 3
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
                let databases = BackupConfig.defaultDatabases
                let jobs = BackupConfig.defaultJobs
                /// The baseline's pipeline for one database, at acp-drill's compression level.
                func dump(_ db: String) -> String { "pg_dump -Fc -Z1 -h \(host) -U postgres -d \(db) | age -r '\(recipient)'" }
                let script = "\(dir)/dump-one.sh"
                try "set -o pipefail\n\(dump("\"$1\"")) > '\(dir)/'\"$1\".par.dump.age\n".write(toFile: script, atomically: true, encoding: .utf8)
                // Alternated rounds (this machine's timings wander by ±15 %), each figure the median.
                var samples: (ours: [Double], baseline: [Double], parallel: [Double], evidence: [Double], alone: [Double], peak: Double) = ([], [], [], [], [], 0)
                let config = try BackupConfig.from(environment: base, repo: "\(dir)/ours", databasesFrom: nil, dryRun: false)
                let evidenceRun = BackupRun(config: config, logger: logger)
                // The machine's busy CPU time during the baseline (the source Postgres included): divided by
                // the cores, the least time any schedule of the same work could take here.
                var baselineCPU: [Double] = []
                for round in 1 ... max(1, runs) {
                    try? FileManager.default.removeItem(atPath: "\(dir)/ours")
                    // acp-drill backup as its users run it: its own process, whose peak RSS is measured.
                    let ours = try await runSelfMeasured(["backup", "--no-verify", "--repo", "\(dir)/ours"], environment: base)
                    samples.ours.append(ours.seconds)
                    samples.peak = max(samples.peak, ours.peakMiB)
                    if let e = Self.evidenceSeconds(ours.output) { samples.evidence.append(e) }
                    let busy0 = Self.machineBusySeconds()
                    samples.baseline.append(try await timed {
                        for db in databases {
                            try await shell("\(dump(db)) > '\(dir)/\(db).shell.dump.age'", passEnv: ["PGPASSWORD": password])
                        }
                    })
                    if let b0 = busy0, let b1 = Self.machineBusySeconds() { baselineCPU.append(b1 - b0) }
                    // The evidence's own cost: the same queries, each in its snapshot, with no pg_dump beside them.
                    samples.alone.append(try await evidenceRun.evidenceAlone())
                    // The same shell pipelines, `jobs` at a time: what running them side by side gains on this machine.
                    samples.parallel.append(try await timed {
                        try await shell("printf '%s\\n' \(databases.joined(separator: " ")) | xargs -P \(jobs) -n 1 bash '\(script)'", passEnv: ["PGPASSWORD": password])
                    })
                    print(String(format: "  round %d: acp-drill %.1f s, baseline %.1f s, side by side %.1f s", round, samples.ours.last!, samples.baseline.last!, samples.parallel.last!))
                }
                func mid(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.sorted()[xs.count / 2] }
                let (ours, baseline, parallel) = (mid(samples.ours), mid(samples.baseline), mid(samples.parallel))
                let evidence: Double? = samples.evidence.isEmpty ? nil : mid(samples.evidence)
                let bytes = Double(directoryBytes("\(dir)/ours"))
                print(String(format: "the eleven databases: %.0f MB in the set (pg_dump -Z1), %d dump(s) at once (ACP_BACKUP_JOBS) on %d core(s); the source Postgres runs on this machine too",
                             bytes / 1e6, jobs, ProcessInfo.processInfo.activeProcessorCount))
                print(String(format: "acp-drill backup (its own process; evidence, globals and manifest included): %.1f s (median of %d)", ours, samples.ours.count))
                print(String(format: "baseline, pg_dump -Fc -Z1 | age > file per database in turn: %.1f s", baseline))
                print(String(format: "the same shell pipelines %d at a time: %.1f s (%.2f× the baseline: what side by side gains on this machine)", jobs, parallel, baseline / parallel))
                print(String(format: "ratio: acp-drill %.2f× the baseline (goal ≥ 1.6× on 2 cores), %.2f× the side-by-side pipelines", baseline / ours, parallel / ours))
                if !baselineCPU.isEmpty {
                    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
                    let cpu = mid(baselineCPU)
                    print(String(format: "the baseline kept %.2f of the %.0f cores busy (%.1f CPU-s in %.1f s, the source Postgres included): the same work cannot take less than %.1f s here, at most %.2f× the baseline",
                                 cpu / baseline, cores, cpu, baseline, cpu / cores, baseline / (cpu / cores)))
                }
                let alone = mid(samples.alone)
                print(String(format: "source evidence, its own cost: %.2f s for the eleven databases' queries on their own (sessions, sequences, catalog, exact counts), %.0f %% of the backup's time (goal ≤ 15 %%)", alone, 100 * alone / ours))
                if let evidence {
                    print(String(format: "  as run beside the dumps, each session's queries waiting for the cores pg_dump holds: %.1f s summed over the databases, %.0f %% of the backup's time", evidence, 100 * evidence / ours))
                }
                var peak = samples.peak
                if let endpoint = s3Endpoint {
                    let bucket = "acp-bench-\(getpid())"
                    let environment = CommandEnvironment.read()
                    try S3Client(endpoint: endpoint, environment: environment, logger: logger).createBucket(bucket)
                    let s3 = try await runSelfMeasured(["backup", "--no-verify"],
                                                       environment: base.merging(["ACP_BACKUP_S3_BUCKET": "s3://\(bucket)/ours", "ACP_BACKUP_S3_ENDPOINT": endpoint]) { $1 })
                    peak = max(peak, s3.peakMiB)
                    let shellS3 = try await timed {
                        for db in databases {
                            try await shell("\(dump(db)) | aws --endpoint-url '\(endpoint)' s3 cp - 's3://\(bucket)/shell/\(db).dump.age'", passEnv: ["PGPASSWORD": password])
                        }
                    }
                    print(String(format: "into S3: acp-drill %.1f s (streamed multipart), pg_dump | age | aws s3 cp - per database %.1f s — %.2f× (goal ≥ 1.5×)",
                                 s3.seconds, shellS3, shellS3 / s3.seconds))
                }
                print(String(format: "peak RSS of the acp-drill backup process: %.1f MiB (goal < 64 MiB)", peak))
            }
        }
    }

    /// The evidence's seconds from the backup's own line (`source evidence: X s of queries …`).
    static func evidenceSeconds(_ output: String) -> Double? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("source evidence: ") }) else { return nil }
        return Double(line.dropFirst("source evidence: ".count).split(separator: " ").first ?? "")
    }

    /// Seconds of CPU time the whole machine has spent busy (every state of /proc/stat's `cpu` line but idle
    /// and iowait), or nil where there is no /proc/stat.
    static func machineBusySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first,
              line.hasPrefix("cpu ") else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return nil }
        let busy = ticks.enumerated().filter { $0.offset != 3 && $0.offset != 4 }.prefix(8).reduce(0) { $0 + $1.element }
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Runs a shell line (a pipeline); the password reaches the children only through their environment.
    func shell(_ line: String, passEnv: [String: String] = [:]) async throws {
        _ = try await runProgramAsync(["bash", "-o", "pipefail", "-c", line], environment: passEnv)
    }
}

/// The bytes of every file under `dir`.
func directoryBytes(_ dir: String) -> Int64 {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return 0 }
    var total: Int64 = 0
    while let name = e.nextObject() as? String { total += FileDigest.size(path: "\(dir)/\(name)") ?? 0 }
    return total
}
