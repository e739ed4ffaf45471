import ArgumentParser
import Backup
import DockerEngine
import Drill
import Fixture
import Foundation
import Logging
import Repository
import Sandbox

/// `acp-drill bench drill`: the whole drill against the runbook's sequential way and against the floor
/// (`pg_restore -j` into a tuned PostgreSQL on the host, no containers), and verify-chain's rows per second.
struct BenchDrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Measure the restore drill against the runbook's sequential way and against a no-container floor.",
        discussion: prose("""
            For each --scale (default 1 and 50: 12,450 and 622,500 audit rows), a throw-away source sandbox is
            loaded with the platform fixture and backed up with a fresh age key into a private folder. The same
            set is then restored three ways, one after another, so that none competes with another for the CPU:

              acp-drill  acp-drill run, in-process: decrypt ‖ provision, the restore
                         plan under one job budget in a tuned sandbox, every check
              runbook    the runbook's sequential way: copy each object, age -d each,
                         a default (durable) sandbox, then pg_restore of one
                         database after another from the host
              floor      the same plaintext dumps, the same restore plan, into a
                         tuned PostgreSQL on the host (initdb in a private folder,
                         unix socket only): no container in the way

            Figures: every stage of each, "restored at" (start until the last database is restored), the ratio
            runbook / acp-drill (goal ≥ 2× at scale 50), acp-drill's restore / the floor's (goal ≤ 1.3×), and
            verify-chain's rows per second (goal ≥ 300k). A measurement, not a test: it never fails on a slow
            machine. The floor needs the PostgreSQL server binaries (scripts/bench.sh installs them).

            With --swarm MANAGER, the same set is drilled again on that swarm (the source and the baselines
            stay on the engine the host reaches): with its Postgres on one node, then spread over every ready
            node. Each is printed as its overhead against the drill on one engine. Where the swarm's nodes
            share this machine's cores (scripts/swarm.sh), that is the cost of the swarm path (scheduling,
            overlay, relay, jobs), not a speedup; docs/SWARM.md gives the scaling on separate machines.
            """)
    )

    @OptionGroup var engine: EngineOptions
    @Option(name: .customLong("scale"), help: "Fixture scale to measure (repeatable; 1 = the runbook's audit=12450 tenants=3 usage=8900).")
    var scales: [Int] = [1, 50]
    @Option(help: "The job budget of every restore (default: the machine's cores, at least 2).")
    var jobs: Int = DrillOptions.defaultJobs
    @Option(help: "How many times acp-drill's own drill runs on each set (this machine's timings wander): every run's checks share is printed, and the run with the median share gives the figures.")
    var runs = 1
    @Flag(help: "Skip the runbook's sequential baseline.") var noSequential = false
    @Flag(help: "Skip the no-container floor.") var noFloor = false
    @Option(help: ArgumentHelp("Also drill on the swarm whose manager is here (e.g. unix:///run/acp-swarm/node1.sock), on one node and on all.", valueName: "address"))
    var swarm: String?

    func run() async throws {
        let client = try await engine.connect()
        let logger = engine.logger
        let floorBin = noFloor ? nil : HostPostgres.findBinaries()
        if !noFloor && floorBin == nil {
            printError("note: no PostgreSQL server binaries under /usr/lib/postgresql: the floor is skipped (scripts/bench.sh installs postgresql-15)")
        }
        let command = self
        try await interruptible {
            try await Self.withWorkFolder("drill") { work in
                var results: [Figures] = []
                for scale in command.scales {
                    let f = try await command.measure(scale: scale, work: work, floorBin: floorBin, client: client, logger: logger)
                    f.print()
                    results.append(f)
                }
                if results.count > 1 { Figures.printSummary(results) }
            }
        }
    }

    /// Source, backup, then the three restores of one scale.
    func measure(scale: Int, work: String, floorBin: String?, client: DockerClient, logger: Logger) async throws -> Figures {
        let say: @Sendable (String) -> Void = { s in printError("[scale \(scale)] \(s)") }
        let repo = "\(work)/repo-\(scale)"
        let loadSeconds = try await Self.makeBackup(scale: scale, repo: repo, identity: "\(work)/id.txt", client: client, logger: logger, say: say)
        var f = Figures(scale: scale, jobs: jobs)
        f.loadSeconds = loadSeconds

        let source = LocalRepository(root: repo)
        var options = DrillOptions(source: source, decryption: .age(identity: "\(work)/id.txt"), spec: try StackSpec.defaultStack(), operatorName: "bench")
        options.jobs = jobs
        options.scratchParent = work
        for run in 1 ... max(1, runs) {
            say("acp-drill run" + (runs > 1 ? " \(run) of \(runs)" : ""))
            let r = try await DrillRun(options: options, backend: DockerSandboxBackend(client: client), logger: logger) { event in
                if case .stageFinished(let s) = event, !s.name.contains(".") { say(String(format: "  %@ %.2f s", s.name, s.seconds)) }
            }.run()
            guard r.verdict == .passed else { throw ValidationError("the drill did not pass: \(r.firstFailure ?? r.verdict.rawValue)") }
            f.runs.append(r)
        }
        guard let report = Figures.medianRun(f.runs) else { throw ValidationError("no drill ran") }
        f.ours = report
        f.encryptedBytes = report.set?.objects.reduce(0) { $0 + $1.size } ?? 0

        if let swarm {
            let manager = try await DockerClient.connect(hostFlag: swarm, environment: .system(variables: CommandEnvironment.read()), logger: logger)
            guard try await SwarmSandboxBackend.isManager(manager) else { throw ValidationError("--swarm \(swarm) is not a manager of an active swarm") }
            let backend = SwarmSandboxBackend(client: manager)
            let slots = await backend.placementSlots()
            for n in slots > 1 ? [1, slots] : [1] {
                say("acp-drill run on the swarm, Postgres on \(n) node(s)")
                var o = options
                o.instances = n
                let r = try await DrillRun(options: o, backend: backend, logger: logger) { event in
                    if case .stageFinished(let s) = event, !s.name.contains(".") { say(String(format: "  %@ %.2f s", s.name, s.seconds)) }
                }.run()
                guard r.verdict == .passed else { throw ValidationError("the drill on the swarm did not pass: \(r.firstFailure ?? r.verdict.rawValue)") }
                f.swarm.append((n, r))
            }
        }

        guard !noSequential || floorBin != nil else { return f }
        let manifest = try source.manifest(report.set?.timestamp ?? "")
        let scratch = "\(work)/plain-\(scale)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        say("the runbook's sequential way")
        let (sequential, dumps) = try await Baselines.sequential(manifest: manifest, repo: repo, identity: "\(work)/id.txt", scratch: scratch,
                                                                 restore: !noSequential, client: client, logger: logger, say: say)
        if !noSequential { f.sequential = sequential }
        f.plainBytes = dumps.values.reduce(0) { $0 + (FileDigest.size(path: $1) ?? 0) }
        if let floorBin {
            say("the floor: pg_restore -j into PostgreSQL on the host")
            f.floor = try await Baselines.floor(dumps: dumps, bin: floorBin, jobs: jobs, say: say)
        }
        return f
    }

    /// Runs `body` with a private (0700) folder holding a fresh age identity (`id.txt`); removes the folder after.
    static func withWorkFolder<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("acp-bench-\(name)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: work) }
        try await runProgramAsync(["age-keygen", "-o", "\(work)/id.txt"])
        return try await body(work)
    }

    /// Loads the fixture into a throw-away source sandbox and backs it up into `repo`; returns the load time.
    static func makeBackup(scale: Int, repo: String, identity: String, client: DockerClient, logger: Logger, say: @escaping @Sendable (String) -> Void) async throws -> Double {
        let recipient = try await runProgramAsync(["age-keygen", "-y", identity]).trimmingCharacters(in: .whitespacesAndNewlines)
        var spec = try StackSpec.defaultStack()
        spec.services = spec.services.filter { $0.role == .postgres }
        let project = SandboxProject.new(prefix: "acp_bench", kind: .test, ttl: .seconds(3600))
        say("source \(project.name): loading the fixture (\(12_450 * scale) audit rows)")
        return try await Sandbox.withSandbox(spec, project: project, client: client, logger: logger) { sandbox in
            guard let pg = sandbox.service(role: .postgres), let host = pg.address, let password = pg.postgresPassword else {
                throw ValidationError("the source sandbox has no reachable Postgres")
            }
            let load = try await timed {
                try await ProdStack.load(fixture: PlatformFixture(scale: scale), into: pg, of: sandbox, password: password, progress: nil)
            }
            say(String(format: "  loaded in %.1f s; acp-drill backup into %@", load, repo))
            let config = try BackupConfig.from(environment: ["ACP_BACKUP_AGE_RECIPIENT": recipient, "PGPASSWORD": password, "POSTGRES_HOST": host],
                                               repo: repo, databasesFrom: nil, dryRun: false)
            let outcome = try await BackupRun(config: config, logger: logger).run(store: SetLayout.open(config.destination, environment: [:], logger: logger, creating: true))
            guard !outcome.failed else { throw ValidationError("the benchmark backup failed: \(outcome.manifest.failures.map(\.message))") }
            return load
        }
    }
}
